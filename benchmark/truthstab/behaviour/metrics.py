"""Behavioural stability metrics: the probe track's flip counts applied to the model's own answers.

On the true test statements, "True" means the model answered a. Retractions and expansions of each
perturbed prompt against the baseline prompt use :func:`truthstab.metrics.flip_counts` (both
denominators); intervals come from one bootstrap matrix per domain, shared by every prompt (paired) and
drawn with the probe track's seed for the same rows, ``sub_seed(seed, "bootstrap-true", domain)``, so the
two tracks resample the same statements together.
"""

from __future__ import annotations

import numpy as np

from truthstab import metrics as M
from truthstab.behaviour.answers import LETTERS
from truthstab.behaviour.report import AnswerShares, Estimate
from truthstab.flips import FlipMetrics
from truthstab.seeds import sub_seed

#: How the bootstrap is shared, recorded in the report.
PAIRING = (
    "one (n_bootstrap, n_true_test) resample matrix per domain, seed sub_seed(seed, 'bootstrap-true', "
    "domain) over the true test statements in release order: shared by every prompt and by the probe track"
)


def bootstrap_matrix(n_true: int, domain: str, seed: int, n_bootstrap: int) -> np.ndarray:
    """The (n_bootstrap, n_true) resample counts of a domain's true test statements (paired, seeded)."""
    return M.bootstrap_weights(n_true, n_bootstrap, sub_seed(seed, "bootstrap-true", domain))


def _estimate(point, boot: np.ndarray, reason: str) -> Estimate:
    value = float(np.ravel(point)[0])
    low, high = M.percentile_interval(boot)
    if not np.isfinite(value):
        return Estimate(value=None, ci_low=None, ci_high=None, reason=reason)
    return Estimate(value=value, ci_low=low, ci_high=high)


def flip_metrics(base: np.ndarray, perturbed: np.ndarray, weights: np.ndarray) -> FlipMetrics:
    """Retractions/expansions of ``perturbed`` answers (letters) against ``base`` answers, with intervals."""
    return FlipMetrics.from_predictions(np.asarray(base) == "a", np.asarray(perturbed) == "a", weights)


def answer_shares(answers: np.ndarray, outside: np.ndarray, weights: np.ndarray) -> AnswerShares:
    """Shares of a, b and c among ``answers`` and the mean mass outside the options, with intervals."""
    answers = np.asarray(answers)
    n = len(answers)
    values = {letter: (answers == letter).astype(np.float64) for letter in LETTERS}
    values["outside_mass"] = np.asarray(outside, dtype=np.float64)
    out = {}
    for key, v in values.items():
        point = v.mean() if n else np.nan
        # every resample draws n statements, so n is each resample's denominator
        boot = weights @ v / n if n else np.full(len(weights), np.nan)
        out[key] = _estimate(point, boot, "no true test statements")
    return AnswerShares(n=n, **out)
