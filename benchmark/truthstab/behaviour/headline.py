"""The behavioural track's headline: stability of the model's own answers, against its control prompt.

The probe track measures a perturbation's retractions against the refit null (what refitting alone
retracts). The behavioural track's null is its **control prompt**: the same "Let's say that you believe
these statements:" block with up to K *true* training statements of the domain. Whatever a long context of
statements does to the answers by itself (length, distraction, recency), the control does too, so

- ``unfamiliar_excess`` = RR(synthetic) - RR(control), ``familiar_excess`` = RR(fictional) - RR(control),
  percentage points, RR over the true test statements the baseline prompt answered a (true);
- ``truth_stability`` = 100 - mean of the two excesses; ``unfamiliar_stability``, ``familiar_stability``
  = 100 - each; ``familiarity_gap`` = RR(synthetic) - RR(fictional);
- ``outside_mass``: the baseline prompt's mean next-token probability outside the option letters. It is
  shown, not gated: a model that rarely answers with a letter is visible next to its score.

Intervals: percentile bootstrap over the true test statements with the track's one resample matrix per
domain (shared by every prompt and by the probe track), so excesses and gaps are paired differences.

A domain is **measurable** when the baseline prompt answers a for at least MIN_BASELINE_TRUE statements
and the control retracts at most MAX_CONTROL_RETRACTION of them (the probe track's bounds, for the same
reasons). Model-level values average the measurable domains; with none they are None and say why.
"""

from __future__ import annotations

import numpy as np

from truthstab import metrics as M
from truthstab.behaviour.metrics import bootstrap_matrix
from truthstab.behaviour.report import (
    BehaviouralDomainHeadline,
    BehaviouralHeadline,
    Estimate,
    StatementAnswers,
)
from truthstab.headline import MAX_REFIT_NULL, MIN_BASELINE_TRUE

#: Bounds of measurability: the probe track's, for the same reasons (the control is this track's null).
MAX_CONTROL_RETRACTION = MAX_REFIT_NULL

QUANTITIES = (
    "truth_stability",
    "unfamiliar_stability",
    "familiar_stability",
    "familiarity_gap",
    "unfamiliar_excess",
    "familiar_excess",
    "unfamiliar_retraction",
    "familiar_retraction",
    "fictional_true_retraction",
    "control_retraction",
    "outside_mass",
)


def _estimate(draws: np.ndarray, reason: str) -> Estimate:
    """Point (index 0) and percentile interval of the draws; None with ``reason`` when undefined."""
    if not np.isfinite(draws[0]):
        return Estimate(value=None, ci_low=None, ci_high=None, reason=reason)
    low, high = M.percentile_interval(draws[1:])
    return Estimate(value=float(draws[0]), ci_low=low, ci_high=high)


def _domain_draws(by_prompt: dict[str, StatementAnswers], seed: int, n_boot: int) -> dict[str, np.ndarray]:
    """Point (index 0) and bootstrap draws of one domain's quantities, percent."""
    base = by_prompt["baseline"]
    n = len(base.ids)
    weights = np.vstack([np.ones((1, n)), bootstrap_matrix(n, base.domain, seed, n_boot)])
    p0 = np.asarray(base.answers) == "a"
    nan = np.full(len(weights), np.nan)

    def rr(prompt: str) -> np.ndarray:
        if prompt not in by_prompt:
            return nan
        if by_prompt[prompt].ids != base.ids:
            raise ValueError(f"{base.domain}/{prompt}: answers are not aligned with the baseline's")
        pk = np.asarray(by_prompt[prompt].answers) == "a"
        return 100 * M.flip_counts(p0, pk, weights)["retraction_rate_base"]

    syn, fic, ctrl = rr("synthetic"), rr("fictional"), rr("control")
    unf, fam = syn - ctrl, fic - ctrl
    return {
        "truth_stability": 100 - (unf + fam) / 2,
        "unfamiliar_stability": 100 - unf,
        "familiar_stability": 100 - fam,
        "familiarity_gap": syn - fic,
        "unfamiliar_excess": unf,
        "familiar_excess": fam,
        "unfamiliar_retraction": syn,
        "familiar_retraction": fic,
        "fictional_true_retraction": rr("fictional-true"),
        "control_retraction": ctrl,
        "outside_mass": 100 * weights @ np.asarray(base.p_outside, dtype=np.float64) / n,
        "n_baseline_true": np.array([int(p0.sum())]),
        "n_true_test": np.array([n]),
    }


def measurability(draws: dict[str, np.ndarray], prompts: set[str]) -> list[str]:
    """Why a domain's behavioural stability is not measurable (empty when it is)."""
    missing = sorted({"synthetic", "fictional", "control"} - prompts)
    if missing:
        return [f"prompts {missing} were not run (score with every prompt)"]
    reasons = []
    n_base = int(draws["n_baseline_true"][0])
    if n_base < MIN_BASELINE_TRUE:
        reasons.append(
            f"the baseline prompt answers a (true) for only {n_base} true test statements "
            f"(needs {MIN_BASELINE_TRUE})"
        )
    ctrl = float(draws["control_retraction"][0])
    if n_base and (not np.isfinite(ctrl) or ctrl > 100 * MAX_CONTROL_RETRACTION):
        reasons.append(
            f"a context of true statements alone retracts {ctrl:.1f} % of the baseline's true answers "
            f"(bound {100 * MAX_CONTROL_RETRACTION:.0f} %)"
        )
    return reasons


def behavioural_headline(answers: list[StatementAnswers], seed: int, n_bootstrap: int) -> BehaviouralHeadline:
    """The headline from the per-statement answers of every (domain, prompt); pure and seeded."""
    domains: dict[str, dict[str, StatementAnswers]] = {}
    for a in answers:
        domains.setdefault(a.domain, {})[a.prompt] = a
    per_domain, measured, every, warnings = {}, [], [], []
    for domain in sorted(domains):
        draws = _domain_draws(domains[domain], seed, n_bootstrap)
        reasons = measurability(draws, set(domains[domain]))
        every.append(draws)
        per_domain[domain] = BehaviouralDomainHeadline(
            **{
                k: _estimate(draws[k], "not defined: no baseline-True statement or prompt missing")
                for k in QUANTITIES
            },
            n_true_test=int(draws["n_true_test"][0]),
            n_baseline_true=int(draws["n_baseline_true"][0]),
            measurable=not reasons,
            not_measurable=reasons,
        )
        if reasons:
            warnings.append(f"{domain}: behavioural stability not measurable: " + "; ".join(reasons))
        else:
            measured.append(draws)
    why = "no domain is measurable for this model's answers"
    if not measured:
        warnings.append(why + ": its behavioural stability cannot be scored")
    means = {
        k: np.mean(np.vstack([d[k] for d in measured]), axis=0)
        if measured
        else np.full(n_bootstrap + 1, np.nan)
        for k in QUANTITIES
    }
    means["outside_mass"] = np.mean(np.vstack([d["outside_mass"] for d in every]), axis=0)
    return BehaviouralHeadline(
        measurable_domains=sorted(d for d, h in per_domain.items() if h.measurable),
        **{k: _estimate(v, why) for k, v in means.items()},
        per_domain=per_domain,
        warnings=warnings,
    )
