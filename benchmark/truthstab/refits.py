"""Refits of one (domain, probe): every task refitted on the same bootstrap resamples of the training rows.

Resample r draws the training rows with replacement within each row class (true, false, synthetic,
fictional:true, fictional:false, noise), seeded from (seed, domain, r) alone, so probes and models scored on
the same release and seed refit on the same rows. Each task's refit keeps the hyper-parameters its
full-data fit chose (the probe's ``refit_params``: C, covariance yes/no): the search is done once per
(domain, task), which keeps R refits cheap and measures the noise of the fit itself, not of the search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from truthstab.seeds import sub_seed


def stratified_resample(classes: np.ndarray, rows: np.ndarray, seed: int) -> np.ndarray:
    """Row indices drawn with replacement from ``rows``, as many per row class as it has (sorted)."""
    rng = np.random.default_rng(seed)
    picked = []
    row_classes = np.asarray(classes)[rows]
    for cls in sorted(set(row_classes.tolist())):
        members = rows[row_classes == cls]
        picked.append(members[rng.integers(0, len(members), size=len(members))])
    return np.sort(np.concatenate(picked)) if picked else rows[:0]


def refit_template(fitted: Any) -> Any:
    """An unfitted copy of ``fitted`` that reuses its chosen hyper-parameters when the probe says how.

    Built-in probes define ``refit_params()``; a plug-in without it is cloned as it is (its own search, if
    any, then runs on every refit).
    """
    template = clone(fitted)
    params = getattr(fitted, "refit_params", None)
    return template.set_params(**params()) if callable(params) else template


@dataclass(frozen=True)
class RefitOutcome:
    """Predictions (K, R, n) on the evaluation rows and weight vectors (K, R, D), or None without coef_."""

    predictions: np.ndarray
    coefs: np.ndarray | None
    seeds: list[int]
    seconds: float


def run_refits(
    fitted: Mapping[int, Any],
    labels: Mapping[int, np.ndarray],
    features: Callable[[np.ndarray], Any],
    x_eval: Any,
    train_rows: np.ndarray,
    classes: np.ndarray,
    n_refits: int,
    seed: int,
    domain: str,
) -> RefitOutcome:
    """Refit every task of ``fitted`` (task -> full-data fit) on ``n_refits`` shared resamples.

    ``labels[task]`` holds every row's label, ``features(idx)`` the probe's input for rows ``idx``;
    predictions are ``decision_function(x_eval) > 0``. Tasks whose training labels coincide on a resample
    share one fit (as in the full-data fits).
    """
    import time

    start = time.perf_counter()
    tasks = sorted(fitted)
    templates = {t: refit_template(fitted[t]) for t in tasks}
    preds: list[list[np.ndarray]] = [[] for _ in tasks]
    coefs: list[list[np.ndarray | None]] = [[] for _ in tasks]
    seeds = [sub_seed(seed, "refit", domain, r) for r in range(1, n_refits + 1)]
    for r_seed in seeds:
        idx = stratified_resample(classes, train_rows, r_seed)
        x_train = features(idx)
        done: dict[bytes, Any] = {}
        for i, task in enumerate(tasks):
            y = labels[task][idx]
            key = y.tobytes() + repr(templates[task].get_params()).encode()
            if key not in done:
                done[key] = clone(templates[task]).fit(x_train, y)
            est = done[key]
            preds[i].append(np.asarray(est.decision_function(x_eval), dtype=np.float64) > 0)
            coef = getattr(est, "coef_", None)
            coefs[i].append(None if coef is None else np.ravel(np.asarray(coef, dtype=np.float64)))
    has_coef = all(c is not None for row in coefs for c in row)
    return RefitOutcome(
        predictions=np.array(preds, dtype=bool),
        coefs=np.array(coefs, dtype=np.float64) if has_coef else None,
        seeds=seeds,
        seconds=round(time.perf_counter() - start, 3),
    )
