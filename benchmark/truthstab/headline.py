"""The headline scores of a run, with paired bootstrap intervals (definitions in truthstab.results).

A pure function of the per-statement predictions of the primary probe, so the numbers can be recomputed
from the Parquet side file of any result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from truthstab.results import DomainHeadline, Estimate, Headline

#: Task ids of method.md §7.
BASELINE, SYNTHETIC, FICTIONAL, FICTIONAL_TRUE, NOISE = 0, 1, 2, 3, 4

#: A baseline probe whose test AP is within this margin of the positive rate is called near chance.
NEAR_CHANCE_MARGIN = 0.10

PREDICTION_COLUMNS = ("domain", "id", "kind", "split", "probe", "task", "score", "prediction")


def _estimate(value: float, draws: np.ndarray) -> Estimate:
    """Point estimate with a 95 % percentile interval.

    The interval is widened to contain the point estimate: with few statements a skewed bootstrap
    distribution can otherwise exclude it, and a reader should never see a value outside its own CI.
    """
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        return Estimate(value=value, ci_low=value, ci_high=value)
    low, high = np.percentile(finite, [2.5, 97.5])
    return Estimate(value=float(value), ci_low=float(min(low, value)), ci_high=float(max(high, value)))


def _retraction(p0: np.ndarray, pk: np.ndarray) -> np.ndarray:
    """Retraction rate with the baseline-True denominator along the last axis (nan when p0 has no True)."""
    kept = p0.sum(axis=-1)
    retracted = (p0 & ~pk).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, retracted / np.maximum(kept, 1), np.nan)


def _task_matrix(frame: pd.DataFrame, tasks: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Boolean predictions (task x statement) of the true test statements, rows aligned by id."""
    true_test = frame[(frame["kind"] == "true") & (frame["split"] == "test")]
    wide = true_test.pivot(index="id", columns="task", values="prediction").sort_index()
    missing = [t for t in tasks if t not in wide.columns]
    if missing:
        raise ValueError(f"predictions lack task(s) {missing}")
    return wide[list(tasks)].to_numpy(dtype=bool).T, len(wide)


def _domain_draws(frame: pd.DataFrame, n_boot: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Point values (index 0) and bootstrap draws (1..n_boot) of one domain's retractions and AP."""
    tasks = (BASELINE, SYNTHETIC, FICTIONAL, NOISE)
    preds, n = _task_matrix(frame, tasks)
    idx = (
        np.vstack([np.arange(n), rng.integers(0, n, size=(n_boot, n))])
        if n
        else np.zeros((n_boot + 1, 0), int)
    )
    p0 = preds[0][idx]
    out = {name: _retraction(p0, preds[i][idx]) for i, name in ((1, "syn"), (2, "fic"), (3, "noise"))}

    test = frame[(frame["split"] == "test") & (frame["task"] == BASELINE)].sort_values("id")
    labels = (test["kind"] == "true").to_numpy()
    scores = test["score"].to_numpy(dtype=float)
    m = len(test)
    ap = np.full(n_boot + 1, np.nan)
    ap[0] = average_precision_score(labels, scores) if labels.any() else np.nan
    for b in range(1, n_boot + 1):
        sel = rng.integers(0, m, size=m)
        if labels[sel].any():
            ap[b] = average_precision_score(labels[sel], scores[sel])
    out["ap"] = ap
    out["chance_ap"] = np.full(n_boot + 1, labels.mean() if m else np.nan)
    out["n_true_test"] = np.array([n])
    out["n_baseline_true"] = np.array([int(preds[0].sum())])
    return out


def _stability_estimates(draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The headline quantities (percent) for each draw, index 0 being the point estimate."""
    unf = 100 * (1 - draws["syn"])
    fam = 100 * (1 - draws["fic"])
    return {
        "unfamiliar_stability": unf,
        "familiar_stability": fam,
        "truth_stability": (unf + fam) / 2,
        "familiarity_gap": 100 * (draws["syn"] - draws["fic"]),
        "noise_control": 100 * draws["noise"],
        "baseline_ap": draws["ap"],
    }


def compute_headline(
    predictions: pd.DataFrame, probe: str, n_boot: int = 1000, seed: int = 0
) -> tuple[Headline, dict[str, list[float]]]:
    """Headline scores of ``probe`` and their per-resample draws (for paired comparisons of runs).

    ``predictions`` has one row per statement, probe and task with the columns of PREDICTION_COLUMNS.
    Resamples are drawn per domain with a generator seeded by (seed, domain position in sorted order) and
    shared by every task, so differences between tasks (and between runs on the same release and seed)
    are paired.
    """
    frame = predictions[predictions["probe"] == probe]
    if frame.empty:
        raise ValueError(f"no predictions for probe {probe!r}")
    domains = sorted(frame["domain"].unique())
    per_domain: dict[str, DomainHeadline] = {}
    stacked: dict[str, list[np.ndarray]] = {}
    warnings: list[str] = []
    for position, domain in enumerate(domains):
        rng = np.random.default_rng([seed, position])
        draws = _domain_draws(frame[frame["domain"] == domain], n_boot, rng)
        values = _stability_estimates(draws)
        per_domain[domain] = DomainHeadline(
            **{k: _estimate(v[0], v[1:]) for k, v in values.items()},
            n_true_test=int(draws["n_true_test"][0]),
            n_baseline_true=int(draws["n_baseline_true"][0]),
        )
        for key, v in values.items():
            stacked.setdefault(key, []).append(v)
        if draws["ap"][0] < draws["chance_ap"][0] + NEAR_CHANCE_MARGIN:
            warnings.append(
                f"{domain}: the baseline probe is near chance (test AP {draws['ap'][0]:.3f} vs positive rate "
                f"{draws['chance_ap'][0]:.3f}); its stability numbers mean little"
            )
        if draws["n_baseline_true"][0] == 0:
            warnings.append(
                f"{domain}: the baseline probe calls no true test statement True; retractions undefined"
            )
    means = {k: np.nanmean(np.vstack(v), axis=0) for k, v in stacked.items()}
    headline = Headline(
        probe=probe,
        **{k: _estimate(v[0], v[1:]) for k, v in means.items()},
        per_domain=per_domain,
        warnings=warnings,
    )
    bootstrap = {k: [round(float(x), 10) for x in v[1:]] for k, v in means.items()}
    return headline, bootstrap
