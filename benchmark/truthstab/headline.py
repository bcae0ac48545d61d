"""The headline scores of a run: fit-aware, with joint bootstrap intervals (definitions in truthstab.results).

A pure function of the per-statement predictions of the primary probe (refit 0 = the full-data fit, refits
1..R = the bootstrap refits), so the numbers can be recomputed from the Parquet side file of any result.
A domain enters the headline only when it is *measurable* for the model: its baseline probe is clearly
above chance, calls enough true test statements True, and its refit null is below a stated bound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from truthstab import fitaware as FA
from truthstab import metrics as M
from truthstab.data.schema import Kind
from truthstab.results import DomainHeadline, Estimate, Headline
from truthstab.seeds import sub_seed
from truthstab.tasks import Task

BASELINE, SYNTHETIC, FICTIONAL, FICTIONAL_TRUE, NOISE = Task

#: Measurability (docs/method.md §13). A baseline probe whose test AP on true vs false statements is within
#: this margin of the true share is near chance: its boundary says little about truth.
NEAR_CHANCE_MARGIN = 0.10
#: A domain whose refit null (retractions that refitting alone produces) exceeds this share is not
#: measurable: a perturbation's flips cannot be told from the fit's own noise.
MAX_REFIT_NULL = 0.15
#: Fewer baseline-True statements than this leave the retraction rate without a usable denominator.
MIN_BASELINE_TRUE = 30

PREDICTION_COLUMNS = ("domain", "id", "kind", "split", "probe", "task", "refit", "score", "prediction")

#: The headline quantities, in the order the tools show them.
QUANTITIES = (
    "truth_stability",
    "unfamiliar_stability",
    "familiar_stability",
    "familiarity_gap",
    "unfamiliar_excess",
    "familiar_excess",
    "unfamiliar_retraction",
    "familiar_retraction",
    "refit_null",
    "noise_control",
    "baseline_ap",
    "truth_ap",
)


def _estimate(draws: np.ndarray) -> Estimate | None:
    """Point (index 0) and 95 % interval of draws; None where undefined."""
    value, low, high = FA.interval(np.asarray(draws, dtype=np.float64))
    return None if value is None else Estimate(value=value, ci_low=low, ci_high=high)


def _refit_tensor(frame: pd.DataFrame, tasks: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """(K, R, n) booleans of the true test statements' refit predictions, statements sorted by id."""
    refits = frame[(frame["refit"] > 0) & (frame["kind"] == Kind.TRUE)]
    n_refits = int(refits["refit"].max()) if len(refits) else 0
    if n_refits < FA.MIN_REFITS:
        return np.zeros((len(tasks), 0, 0), dtype=bool), n_refits
    wide = refits.pivot_table(index="id", columns=["task", "refit"], values="prediction", aggfunc="first")
    wide = wide.sort_index()
    missing = [t for t in tasks if t not in wide.columns.get_level_values(0)]
    if missing:
        raise ValueError(f"predictions lack task(s) {missing}")
    cube = np.stack(
        [wide[t][list(range(1, n_refits + 1))].to_numpy(dtype=bool).T for t in tasks]
    )  # (K, R, n)
    return cube, n_refits


def _ap_draws(rows: pd.DataFrame, n_boot: int, seed: int) -> tuple[np.ndarray, float]:
    """AP draws (index 0: the point) of the baseline scores for the true rows among ``rows``, and chance."""
    labels = (rows["kind"] == Kind.TRUE).to_numpy()
    scores = rows["score"].to_numpy(dtype=float)
    weights = np.vstack([np.ones((1, len(rows))), M.bootstrap_weights(len(rows), n_boot, seed)])
    chance = float(labels.mean()) if len(labels) else float("nan")
    return M.weighted_quality(labels, scores, weights)["average_precision"], chance


def _baseline_ap(frame: pd.DataFrame, n_boot: int, seed: int, domain: str) -> dict[str, np.ndarray]:
    """The full-data baseline fit's test AP against every Not-True row and against the false rows alone.

    The second is what measurability uses: synthetic, fictional and noise rows differ from true ones on
    the surface (length, invented words, Gaussian vectors), so a network that knows nothing still ranks
    true statements above them. Only true against false asks what the model knows.
    """
    test = frame[(frame["refit"] == 0) & (frame["task"] == BASELINE)].sort_values("id")
    ap, chance = _ap_draws(test, n_boot, sub_seed(seed, "headline-ap", domain))
    real = test[test["kind"].isin([Kind.TRUE, Kind.FALSE])]
    truth_ap, truth_chance = _ap_draws(real, n_boot, sub_seed(seed, "headline-truth-ap", domain))
    is_true = (test["kind"] == Kind.TRUE).to_numpy()
    return {
        "baseline_ap": ap,
        "chance_ap": np.full(n_boot + 1, chance),
        "truth_ap": truth_ap,
        "truth_chance": np.full(n_boot + 1, truth_chance),
        "n_baseline_true": np.array([int((test["score"].to_numpy(dtype=float)[is_true] > 0).sum())]),
    }


def _domain_draws(frame: pd.DataFrame, n_boot: int, seed: int, domain: str) -> dict[str, np.ndarray]:
    """Point values (index 0) and joint-bootstrap draws of one domain's headline quantities (percent)."""
    frame = frame if "refit" in frame.columns else frame.assign(refit=0)
    out = _baseline_ap(frame, n_boot, seed, domain)
    cube, n_refits = _refit_tensor(frame, (BASELINE, SYNTHETIC, FICTIONAL, FICTIONAL_TRUE, NOISE))
    nan = np.full(n_boot + 1, np.nan)
    if n_refits < FA.MIN_REFITS or cube.shape[2] == 0:
        return out | {k: nan for k in QUANTITIES if k not in out} | {"n_refits": np.array([n_refits])}
    plan = FA.resample_plan(cube.shape[2], n_refits, n_boot, sub_seed(seed, "fit-aware", domain))
    d = FA.fit_aware_draws(cube, plan)
    syn, fic, noise = d[f"retraction_{SYNTHETIC}"], d[f"retraction_{FICTIONAL}"], d[f"retraction_{NOISE}"]
    unf_excess, fam_excess = d[f"excess_retraction_{SYNTHETIC}"], d[f"excess_retraction_{FICTIONAL}"]
    out |= {
        "unfamiliar_retraction": 100 * syn,
        "familiar_retraction": 100 * fic,
        "unfamiliar_excess": 100 * unf_excess,
        "familiar_excess": 100 * fam_excess,
        "unfamiliar_stability": 100 * (1 - unf_excess),
        "familiar_stability": 100 * (1 - fam_excess),
        "truth_stability": 100 * (1 - (unf_excess + fam_excess) / 2),
        "familiarity_gap": 100 * (syn - fic),
        "refit_null": 100 * d["null_retraction"],
        "noise_control": 100 * noise,
        "n_refits": np.array([n_refits]),
    }
    return out | {"n_true_test": np.array([cube.shape[2]])}


def measurability(draws: dict[str, np.ndarray]) -> list[str]:
    """Why a domain is not measurable (empty when it is), from its point values."""
    reasons = []
    ap, chance = float(draws["truth_ap"][0]), float(draws["truth_chance"][0])
    if not np.isfinite(ap) or ap < chance + NEAR_CHANCE_MARGIN:
        reasons.append(
            f"the baseline probe is near chance on true vs false statements (test AP {ap:.3f}, chance "
            f"{chance:.3f}; needs at least chance + {NEAR_CHANCE_MARGIN:.2f})"
        )
    n_refits = int(draws["n_refits"][0])
    if n_refits < FA.MIN_REFITS:
        reasons.append(f"no refit null ({n_refits} refits; score with --refits {FA.N_REFITS})")
        return reasons
    n_base = int(draws.get("n_baseline_true", [0])[0])
    if n_base < MIN_BASELINE_TRUE:
        reasons.append(
            f"the baseline probe calls only {n_base} true test statements True (needs {MIN_BASELINE_TRUE})"
        )
    null = float(draws["refit_null"][0]) / 100
    if not np.isfinite(null) or null > MAX_REFIT_NULL:
        reasons.append(
            f"refitting alone retracts {100 * null:.1f} % of true statements (bound {100 * MAX_REFIT_NULL:.0f} %)"
        )
    return reasons


def compute_headline(
    predictions: pd.DataFrame, probe: str, n_boot: int = 1000, seed: int = 0
) -> tuple[Headline, dict[str, list[float | None]]]:
    """Headline scores of ``probe`` and their per-resample draws (for paired comparisons of runs).

    ``predictions`` has one row per statement, probe, task and refit with the columns of
    PREDICTION_COLUMNS. The resample plan of each domain is seeded by (seed, domain) and shared by every
    task, so differences between tasks, and between runs on the same release and seed, are paired. The
    overall values average the measurable domains; with none, they are None and the warnings say why.
    """
    frame = predictions[predictions["probe"] == probe]
    if frame.empty:
        raise ValueError(f"no predictions for probe {probe!r}")
    per_domain: dict[str, DomainHeadline] = {}
    measured: list[dict[str, np.ndarray]] = []
    all_draws: list[dict[str, np.ndarray]] = []
    warnings: list[str] = []
    n_refits = 0
    for domain in sorted(frame["domain"].unique()):
        draws = _domain_draws(frame[frame["domain"] == domain], n_boot, seed, domain)
        all_draws.append(draws)
        n_refits = max(n_refits, int(draws["n_refits"][0]))
        reasons = measurability(draws)
        per_domain[domain] = DomainHeadline(
            **{k: _estimate(draws[k]) for k in QUANTITIES},
            chance_ap=float(draws["chance_ap"][0]),
            truth_chance=float(draws["truth_chance"][0]),
            n_true_test=int(draws.get("n_true_test", [0])[0]),
            n_baseline_true=int(draws.get("n_baseline_true", [0])[0]),
            measurable=not reasons,
            not_measurable=reasons,
        )
        if reasons:
            warnings.append(f"{domain}: not measurable: " + "; ".join(reasons))
        else:
            measured.append(draws)
    if measured:
        means = {k: np.mean(np.vstack([d[k] for d in measured]), axis=0) for k in QUANTITIES}
    else:
        means = {k: np.full(n_boot + 1, np.nan) for k in QUANTITIES}
        warnings.append("no domain is measurable for this model: its stability cannot be scored")
    # Probe quality is no stability claim: it averages every scored domain, measurable or not.
    for key in ("baseline_ap", "truth_ap"):
        means[key] = np.mean(np.vstack([d[key] for d in all_draws]), axis=0)
    headline = Headline(
        probe=probe,
        n_refits=n_refits,
        measurable_domains=sorted(d for d, h in per_domain.items() if h.measurable),
        **{k: _estimate(v) for k, v in means.items()},
        per_domain=per_domain,
        warnings=warnings,
    )
    bootstrap = {
        k: [round(float(x), 10) if np.isfinite(x) else None for x in v[1:]]
        for k, v in means.items()
        if np.isfinite(v[0])
    }
    return headline, bootstrap
