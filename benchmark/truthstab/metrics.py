"""Stability and quality metrics (method.md §6, §8): pure functions of arrays, no model or data knowledge.

Everything that draws random numbers takes a seed, so the same inputs give the same numbers. Bootstrap
confidence intervals are vectorised: one (n_resamples, n) matrix of resample counts is drawn once and every
statistic is computed for all resamples at once, so 1000 resamples cost about as much as a few fits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import wasserstein_distance

#: Number of bootstrap resamples and the two-sided confidence level of every interval.
N_BOOTSTRAP = 1000
CONFIDENCE = 0.95
#: Number of random unit directions of the sliced Wasserstein distance.
N_DIRECTIONS = 128
#: Miscoverage level of the conformal calibration.
CONFORMAL_ALPHA = 0.1


def _safe_div(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    """num / den with NaN where den == 0 (a rate with an empty denominator is undefined, not 0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


# --------------------------------------------------------------------------- flips (retraction/expansion)


def flip_counts(p0: np.ndarray, pk: np.ndarray, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Retraction and expansion counts and rates of perturbed predictions ``pk`` against baseline ``p0``.

    ``p0`` and ``pk`` are boolean predictions (True = "True") on the *true* test statements. ``weights``
    (shape (n,) or (B, n): resample counts) weights each statement; None counts each once. Rates come with
    both denominators of method.md §8: ``*_rate_all`` divides by all true statements,
    ``*_rate_base`` by the statements the baseline called True (retractions) / Not-True (expansions).
    """
    p0 = np.asarray(p0, dtype=bool)
    pk = np.asarray(pk, dtype=bool)
    w = np.ones(p0.shape, dtype=np.float64) if weights is None else np.asarray(weights, dtype=np.float64)
    retracted = w @ (p0 & ~pk).astype(np.float64) if w.ndim > 1 else np.sum(w * (p0 & ~pk))
    expanded = w @ (~p0 & pk).astype(np.float64) if w.ndim > 1 else np.sum(w * (~p0 & pk))
    n_all = w.sum(axis=-1)
    n_base_true = w @ p0.astype(np.float64) if w.ndim > 1 else np.sum(w * p0)
    n_base_false = n_all - n_base_true
    return {
        "retraction_count": np.asarray(retracted),
        "expansion_count": np.asarray(expanded),
        "n_true": np.asarray(n_all),
        "n_base_true": np.asarray(n_base_true),
        "n_base_false": np.asarray(n_base_false),
        "retraction_rate_all": _safe_div(retracted, n_all),
        "retraction_rate_base": _safe_div(retracted, n_base_true),
        "expansion_rate_all": _safe_div(expanded, n_all),
        "expansion_rate_base": _safe_div(expanded, n_base_false),
    }


def rotation_cosine(w0: np.ndarray, wk: np.ndarray) -> float:
    """Cosine between two un-normalised weight vectors (1 = the boundary did not rotate)."""
    a = np.ravel(np.asarray(w0, dtype=np.float64))
    b = np.ravel(np.asarray(wk, dtype=np.float64))
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / den) if den > 0 else float("nan")


def bias_shift(b0: float | np.ndarray, bk: float | np.ndarray) -> float:
    """b0 - bk of two intercepts (scalars or one-element arrays)."""
    return float(np.ravel(b0)[0]) - float(np.ravel(bk)[0])


# --------------------------------------------------------------------------- quality (weighted, vectorised)


def _tie_groups(sorted_scores: np.ndarray) -> np.ndarray:
    """Index of the last element of each run of equal scores in a sorted array."""
    last = np.flatnonzero(np.diff(sorted_scores) != 0)
    return np.append(last, len(sorted_scores) - 1)


def weighted_quality(
    y: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Accuracy, ROC AUC, average precision and MCC of ``scores`` (predict True iff score > 0) against ``y``.

    ``weights`` of shape (B, n) holds one resample's counts per row, so each row gives the metrics of one
    bootstrap resample; the results equal scikit-learn's metrics on the resampled data (tested). Undefined
    metrics (one class absent) are NaN.
    """
    y = np.asarray(y, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    w = np.ones((1, len(y))) if weights is None else np.atleast_2d(np.asarray(weights, dtype=np.float64))
    pred = scores > 0
    yf, pf = y.astype(np.float64), pred.astype(np.float64)
    tp = w @ (yf * pf)
    fp = w @ ((1 - yf) * pf)
    fn = w @ (yf * (1 - pf))
    tn = w @ ((1 - yf) * (1 - pf))
    n = tp + fp + fn + tn
    pos, neg = tp + fn, fp + tn
    accuracy = _safe_div(tp + tn, n)
    mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    # sklearn's convention: MCC is 0 when any marginal is empty.
    mcc = np.where(mcc_den > 0, _safe_div(tp * tn - fp * fn, np.where(mcc_den > 0, mcc_den, 1.0)), 0.0)
    mcc = np.where(n > 0, mcc, np.nan)

    # Descending score order; ties between distinct statements form one threshold.
    order = np.argsort(-scores, kind="stable")
    s_sorted = scores[order]
    y_sorted = yf[order]
    w_sorted = w[:, order]
    groups = _tie_groups(-s_sorted)
    cum_tp = np.cumsum(w_sorted * y_sorted, axis=1)[:, groups]
    cum_all = np.cumsum(w_sorted, axis=1)[:, groups]
    cum_fp = cum_all - cum_tp
    # Average precision: sum over thresholds of (recall increment) x precision.
    d_tp = np.diff(np.concatenate([np.zeros((len(w), 1)), cum_tp], axis=1), axis=1)
    precision = _safe_div(cum_tp, cum_all)
    ap = _safe_div(np.nansum(d_tp * np.nan_to_num(precision), axis=1), pos)
    # ROC AUC by the trapezoid rule over the same thresholds (ties count one half).
    tpr = _safe_div(np.concatenate([np.zeros((len(w), 1)), cum_tp], axis=1), pos[:, None])
    fpr = _safe_div(np.concatenate([np.zeros((len(w), 1)), cum_fp], axis=1), neg[:, None])
    auc = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
    auc = np.where((pos > 0) & (neg > 0), auc, np.nan)
    ap = np.where(pos > 0, ap, np.nan)
    return {"accuracy": accuracy, "roc_auc": auc, "average_precision": ap, "mcc": mcc}


def average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    """Average precision of ``scores`` for the positives of ``y`` (scikit-learn's definition)."""
    return float(weighted_quality(y, scores)["average_precision"][0])


# --------------------------------------------------------------------------- bootstrap


def bootstrap_weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n) matrix of resample counts: row b says how often each item is drawn in resample b."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n)) if n else np.zeros((n_resamples, 0), dtype=np.int64)
    counts = np.zeros((n_resamples, n), dtype=np.float64)
    rows = np.repeat(np.arange(n_resamples), n)
    np.add.at(counts, (rows, idx.ravel()), 1.0)
    return counts


def percentile_interval(
    samples: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float | None, float | None]:
    """The central ``confidence`` percentile interval of bootstrap samples (NaN resamples ignored)."""
    s = np.asarray(samples, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return None, None
    lo, hi = np.percentile(s, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
    return float(lo), float(hi)


# --------------------------------------------------------------------------- geometry


def random_directions(dim: int, n_directions: int = N_DIRECTIONS, seed: int = 0) -> np.ndarray:
    """(n_directions, dim) seeded random unit vectors, uniform on the sphere."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n_directions, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: np.ndarray) -> float:
    """Sliced Wasserstein-1 distance between point clouds ``a`` (n, D) and ``b`` (m, D).

    The mean over ``directions`` of the 1-D Wasserstein-1 distance between the projections.
    """
    pa = np.asarray(a, dtype=np.float64) @ directions.T
    pb = np.asarray(b, dtype=np.float64) @ directions.T
    return float(np.mean([wasserstein_distance(pa[:, j], pb[:, j]) for j in range(directions.shape[0])]))


def pairwise_sliced_wasserstein(
    clouds: Mapping[str, np.ndarray], n_directions: int = N_DIRECTIONS, seed: int = 0
) -> list[tuple[str, str, float]]:
    """Sliced Wasserstein-1 between every pair of named clouds (same seeded directions for all pairs)."""
    names = [k for k in clouds if len(clouds[k])]
    if not names:
        return []
    dirs = random_directions(np.asarray(clouds[names[0]]).shape[1], n_directions, seed)
    return [
        (x, y, sliced_wasserstein(clouds[x], clouds[y], dirs))
        for i, x in enumerate(names)
        for y in names[i + 1 :]
    ]


# --------------------------------------------------------------------------- conformal calibration


def conformal_threshold(cal_scores: np.ndarray, cal_y: np.ndarray, alpha: float = CONFORMAL_ALPHA) -> float:
    """Inductive conformal threshold on the calibration split with the symmetric non-conformity score.

    Non-conformity of a (score, label) pair is -score for label True and +score for label Not-True; the
    threshold is the ceil((n + 1)(1 - alpha))/n empirical quantile of the calibration non-conformities.
    """
    s = np.asarray(cal_scores, dtype=np.float64)
    y = np.asarray(cal_y, dtype=bool)
    nc = np.where(y, -s, s)
    n = len(nc)
    if n == 0:
        return float("inf")
    level = min(1.0, np.ceil((n + 1) * (1 - alpha)) / n)
    return float(np.quantile(nc, level, method="higher"))


def conformal_sets(scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(contains True, contains Not-True) membership of each statement's conformal prediction set."""
    s = np.asarray(scores, dtype=np.float64)
    return -s <= threshold, s <= threshold


def conformal_metrics(scores: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Coverage, abstention rate (set not a singleton) and accuracy on the non-abstained statements."""
    y = np.asarray(y, dtype=bool)
    has_true, has_false = conformal_sets(scores, threshold)
    covered = np.where(y, has_true, has_false)
    singleton = has_true ^ has_false
    correct = singleton & covered
    n = len(y)
    return {
        "coverage": float(covered.mean()) if n else float("nan"),
        "abstention_rate": float(1 - singleton.mean()) if n else float("nan"),
        "selective_accuracy": float(correct.sum() / singleton.sum()) if singleton.any() else float("nan"),
    }


def finite_or_none(values: Sequence[float]) -> list[float | None]:
    """Floats with NaN/inf replaced by None (JSON has no NaN)."""
    return [float(v) if np.isfinite(v) else None for v in values]
