"""Fit-aware stability (docs/method.md, "Fit-aware stability"): rates against the probe's own refit noise.

A retraction rate compares two *fitted* probes, and part of any difference between them comes from the fit
itself. Given the predictions of every task's probe refitted on R bootstrap resamples of the training rows
(every task on the same resample), this module computes, for the true test statements:

* the fit-aware retraction and expansion rate of task k: the mean over refits r of the rate of
  ``p_k^r`` against ``p_0^r`` (baseline-True / baseline-Not-True denominators);
* the refit null: the mean over ordered pairs r != r' of the rate of ``p_0^r'`` against ``p_0^r``, what
  refitting alone produces;
* the excess of each task's rate over the null;

each with a percentile interval from a *joint* bootstrap: every draw resamples the test statements and the
refits (and refit pairs) together. The resample plan is seeded by (seed, domain) only, so it is shared by
every task, probe and model scored on the same release with the same seed: differences between any of them
are paired. Pure functions of arrays; no model or data knowledge.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np

from truthstab.metrics import CONFIDENCE, bootstrap_weights

#: Refits per (domain, probe) by default: 90 ordered refit pairs for the null, and a probe stage with
#: refits that costs less than the extraction of the same run (see `make bench`).
N_REFITS = 10
#: The fewest refits that define a null (it needs two different fits).
MIN_REFITS = 2


@dataclass(frozen=True)
class ResamplePlan:
    """Row 0 of each matrix is the point estimate (every statement once, every refit and pair once).

    ``weights`` (B + 1, n): how often each true test statement is drawn; ``refits`` (B + 1, R): which refits
    a draw averages over; ``pairs`` (B + 1, P): which ordered refit pairs (indices into ``pair_index``).
    """

    weights: np.ndarray
    refits: np.ndarray
    pairs: np.ndarray
    pair_index: np.ndarray


def resample_plan(n: int, n_refits: int, n_boot: int, seed: int) -> ResamplePlan:
    """The joint bootstrap plan over ``n`` statements and ``n_refits`` refits (seeded, deterministic)."""
    if n_refits < MIN_REFITS:
        raise ValueError(f"fit-aware rates need at least {MIN_REFITS} refits, got {n_refits}")
    rng = np.random.default_rng(seed)
    pair_index = np.array(list(permutations(range(n_refits), 2)), dtype=np.int64)
    weights = np.vstack([np.ones((1, n)), bootstrap_weights(n, n_boot, int(rng.integers(2**63)))])
    refits = np.vstack([np.arange(n_refits)[None, :], rng.integers(0, n_refits, size=(n_boot, n_refits))])
    n_pairs = len(pair_index)
    pairs = np.vstack([np.arange(n_pairs)[None, :], rng.integers(0, n_pairs, size=(n_boot, n_pairs))])
    return ResamplePlan(weights=weights, refits=refits, pairs=pairs, pair_index=pair_index)


def _rates(weights: np.ndarray, base: np.ndarray, other: np.ndarray) -> dict[str, np.ndarray]:
    """Retraction and expansion rates of ``other`` vs ``base`` ((m, n) bool each) under each weight row.

    Returns (B + 1, m) arrays; NaN where the denominator is empty.
    """
    b = base.astype(np.float64)
    o = other.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        kept = weights @ b.T
        dropped = weights @ (1 - b).T
        retraction = np.where(kept > 0, (weights @ (b * (1 - o)).T) / kept, np.nan)
        expansion = np.where(dropped > 0, (weights @ ((1 - b) * o).T) / dropped, np.nan)
    return {"retraction": retraction, "expansion": expansion}


def _average(per_item: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Mean over the picked columns of each draw (NaN items ignored; all-NaN gives NaN)."""
    chosen = np.take_along_axis(per_item, picks, axis=1)
    finite = np.isfinite(chosen)
    counts = finite.sum(axis=1)
    sums = np.where(finite, chosen, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def fit_aware_draws(predictions: np.ndarray, plan: ResamplePlan) -> dict[str, np.ndarray]:
    """Point values (index 0) and joint-bootstrap draws of the fit-aware rates.

    ``predictions``: (K, R, n) booleans, task k (0 = baseline) refitted on resample r, on the n true test
    statements. Returns, each of shape (B + 1,): ``null_retraction``, ``null_expansion``, and for every task
    k >= 1 ``retraction_k``, ``expansion_k``, ``excess_retraction_k``, ``excess_expansion_k``.
    """
    p = np.asarray(predictions, dtype=bool)
    if p.ndim != 3 or p.shape[1] != plan.refits.shape[1]:
        raise ValueError(f"predictions must be (tasks, {plan.refits.shape[1]} refits, n); got {p.shape}")
    first, second = plan.pair_index[:, 0], plan.pair_index[:, 1]
    null = _rates(plan.weights, p[0, first], p[0, second])
    out = {f"null_{kind}": _average(null[kind], plan.pairs) for kind in ("retraction", "expansion")}
    for k in range(1, p.shape[0]):
        rates = _rates(plan.weights, p[0], p[k])
        for kind in ("retraction", "expansion"):
            value = _average(rates[kind], plan.refits)
            out[f"{kind}_{k}"] = value
            out[f"excess_{kind}_{k}"] = value - out[f"null_{kind}"]
    return out


def cosine_draws(coefs: np.ndarray, plan: ResamplePlan) -> dict[str, np.ndarray]:
    """Fit-aware boundary rotation: mean cos(w_0^r, w_k^r) per task and the null mean cos(w_0^r, w_0^r').

    ``coefs``: (K, R, D) weight vectors. Draws resample refits (and pairs) only: a weight vector does not
    depend on the test statements. Returns ``null_cosine`` and ``cosine_k`` for k >= 1, each (B + 1,).
    """
    w = np.asarray(coefs, dtype=np.float64)
    norms = np.linalg.norm(w, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(norms > 0, w / np.where(norms > 0, norms, 1.0), np.nan)
    first, second = plan.pair_index[:, 0], plan.pair_index[:, 1]
    null = np.sum(unit[0, first] * unit[0, second], axis=-1)
    out = {"null_cosine": _average(np.broadcast_to(null, plan.pairs.shape).copy(), plan.pairs)}
    for k in range(1, w.shape[0]):
        per_refit = np.sum(unit[0] * unit[k], axis=-1)
        out[f"cosine_{k}"] = _average(np.broadcast_to(per_refit, plan.refits.shape).copy(), plan.refits)
    return out


def interval(
    draws: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float | None, float | None, float | None]:
    """(point, low, high) from draws whose index 0 is the point; None where undefined.

    The interval is widened to contain the point: with few statements a skewed bootstrap distribution can
    otherwise exclude it, and a reader should never see a value outside its own interval.
    """
    point = float(draws[0])
    rest = draws[1:][np.isfinite(draws[1:])]
    if not np.isfinite(point):
        return None, None, None
    if rest.size == 0:
        return point, point, point
    low, high = np.percentile(rest, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
    return point, float(min(low, point)), float(max(high, point))
