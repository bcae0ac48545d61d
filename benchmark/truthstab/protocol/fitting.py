"""Fitting every probe for every task of one domain, and its metrics, refits and geometry."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from truthstab import fitaware as FA
from truthstab import metrics as M
from truthstab.data.schema import Kind, Split
from truthstab.errors import ProbeError
from truthstab.estimate import Estimate
from truthstab.flips import FlipMetrics
from truthstab.probes import input_kind, make_probe, probe_name
from truthstab.protocol.design import DomainDesign
from truthstab.protocol.labels import KINDS, TASKS, row_classes, task_labels
from truthstab.protocol.noise import NOISE_KIND
from truthstab.refits import RefitOutcome, run_refits
from truthstab.results.probe import (
    ConformalMetrics,
    DomainProbeReport,
    FitAwareTask,
    GeometryReport,
    KindDistance,
    ProbeTaskMetrics,
    QualityMetrics,
    RefitPredictions,
    RefitReport,
    StatementPredictions,
    TaskPredictions,
)
from truthstab.seeds import sub_seed
from truthstab.tasks import Task

FAITHFUL_MAX_BAGS = 1800
_FAITHFUL_ORDER = {"true": 0, "false": 0, "synthetic": 1, "fictional": 2, NOISE_KIND: 3}


def _interval(point: Any, boot: np.ndarray) -> Estimate:
    est = float(np.ravel(point)[0])
    lo, hi = M.percentile_interval(boot)
    return Estimate(value=est if np.isfinite(est) else None, ci_low=lo, ci_high=hi)


def _quality(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> QualityMetrics:
    point = M.weighted_quality(y, scores)
    boot = M.weighted_quality(y, scores, weights)
    return QualityMetrics(
        n=len(y), n_positive=int(y.sum()), **{k: _interval(point[k], boot[k]) for k in point}
    )


def _conformal(
    cal_scores: np.ndarray, cal_y: np.ndarray, scores: np.ndarray, y: np.ndarray
) -> ConformalMetrics:
    thr = M.conformal_threshold(cal_scores, cal_y, M.CONFORMAL_ALPHA)
    m = M.conformal_metrics(scores, y, thr)
    return ConformalMetrics(
        alpha=M.CONFORMAL_ALPHA,
        threshold=thr if np.isfinite(thr) else None,
        n_calibration=len(cal_y),
        **{k: (v if np.isfinite(v) else None) for k, v in m.items()},
    )


def _coef(est: Any) -> tuple[np.ndarray | None, float | None]:
    coef = getattr(est, "coef_", None)
    inter = getattr(est, "intercept_", None)
    return (
        None if coef is None else np.ravel(np.asarray(coef, dtype=np.float64)),
        None if inter is None else float(np.ravel(inter)[0]),
    )


def _hyper(est: Any) -> dict[str, float | int | str | bool]:
    fn = getattr(est, "hyperparameters", None)
    if callable(fn):
        return dict(fn())
    return {k: v for k, v in est.get_params().items() if isinstance(v, (bool, int, float, str))}


def _train_rows(design: DomainDesign, kind: str, mode: str, max_bags: int) -> np.ndarray:
    """Training row indices; in faithful mode, bag probes see only the first ``max_bags`` of the
    reference's list order (real, synthetic, fictional, noise)."""
    idx = np.flatnonzero(design.split == Split.TRAIN)
    if mode == "faithful" and kind == "bags":
        rank = np.array([_FAITHFUL_ORDER[k] for k in design.kinds[idx]])
        idx = idx[np.argsort(rank, kind="stable")][:max_bags]
    return idx


@dataclass(frozen=True)
class FitSettings:
    """What every (domain, probe) fit of one protocol run shares."""

    mode: str
    seed: int
    max_bags: int
    n_refits: int
    n_bootstrap: int


def fit_domain_probe(
    design: DomainDesign,
    spec: str | Any,
    settings: FitSettings,
    weights_test: np.ndarray,
    weights_true: np.ndarray,
) -> tuple[DomainProbeReport, StatementPredictions]:
    """Fit one probe for the five tasks of one domain (metrics vs task 0), then its refits.

    ``weights_test`` / ``weights_true``: the domain's bootstrap resample counts of its test rows / true
    test rows, shared by every probe (paired intervals).
    """
    base = make_probe(spec, settings.seed)
    kind = input_kind(base)
    if kind == "bags" and design.bags is None:
        raise ProbeError(
            f"probe {probe_name(spec)!r} needs token bags; extract bags for layer {design.layer}"
        )

    def features(idx: np.ndarray) -> Any:
        return design.bags.subset(idx) if kind == "bags" else design.last[idx]

    train = _train_rows(design, kind, settings.mode, settings.max_bags)
    fitted = _fit_tasks(design, spec, base, features, train, settings.mode)
    test = np.flatnonzero(design.split == Split.TEST)
    tasks, preds = _task_metrics(design, fitted, features, train, settings.mode, weights_test, weights_true)
    refit_report, refit_preds = None, []
    if settings.n_refits:
        true_test = test[design.kinds[test] == Kind.TRUE]
        refit_report, refit_preds = _refits(design, fitted, features, true_test, train, settings)
    name = probe_name(spec)
    report = DomainProbeReport(
        domain=design.domain, probe=name, layer=design.layer, tasks=tasks, refits=refit_report
    )
    predictions = StatementPredictions(
        domain=design.domain,
        probe=name,
        ids=list(design.ids[test]),
        kinds=list(design.kinds[test]),
        tasks=preds,
        refits=refit_preds,
    )
    return report, predictions


def _fit_tasks(design: DomainDesign, spec, base, features, train: np.ndarray, mode: str) -> dict:
    """task -> (fitted estimator, fit seconds). Tasks whose training labels coincide share one fit."""
    fitted, by_labels = {}, {}
    for task in TASKS:
        y = task_labels(design.kinds, design.fiction_truth, task, mode)[train]
        key = y.tobytes()
        start = time.perf_counter()
        if key not in by_labels:  # same rows, same labels (faithful task 4, a kind absent): same fit
            est = clone(base)
            try:
                est.fit(features(train), y)
            except ValueError as exc:
                raise ProbeError(
                    f"domain {design.domain!r}, probe {probe_name(spec)!r}, task {task}: {exc}"
                ) from exc
            by_labels[key] = est
        fitted[task] = (by_labels[key], time.perf_counter() - start)
    return fitted


def _task_metrics(design, fitted, features, train, mode, weights_test, weights_true):
    """(ProbeTaskMetrics per task, TaskPredictions per task) on the calibration and test splits."""
    cal, test = np.flatnonzero(design.split == Split.CALIBRATION), np.flatnonzero(design.split == Split.TEST)
    true_in_test = design.kinds[test] == Kind.TRUE
    x_cal, x_test = features(cal), features(test)
    scores = {
        t: np.asarray(est.decision_function(x_test), dtype=np.float64) for t, (est, _) in fitted.items()
    }
    w0, b0 = _coef(fitted[Task.BASELINE][0])
    p0 = scores[Task.BASELINE][true_in_test] > 0
    tasks, preds = [], []
    for task, (est, seconds) in fitted.items():
        y_all = task_labels(design.kinds, design.fiction_truth, task, mode)
        s_cal, s_test = np.asarray(est.decision_function(x_cal), dtype=np.float64), scores[task]
        w, b = _coef(est)
        tasks.append(
            ProbeTaskMetrics(
                task=task,
                task_name=TASKS[task],
                n_train=len(train),
                n_train_true=int(y_all[train].sum()),
                hyperparameters=_hyper(est),
                quality=_quality(y_all[test], s_test, weights_test),
                conformal=_conformal(s_cal, y_all[cal], s_test, y_all[test]),
                flips=None
                if task == Task.BASELINE
                else FlipMetrics.from_predictions(p0, s_test[true_in_test] > 0, weights_true),
                rotation_cosine=None if w is None or w0 is None else M.rotation_cosine(w0, w),
                bias_shift=None if b is None or b0 is None else M.bias_shift(b0, b),
                fit_seconds=round(seconds, 3),
            )
        )
        preds.append(TaskPredictions(task=task, scores=[float(s) for s in s_test]))
    return tasks, preds


def _refits(design, fitted, features, true_test: np.ndarray, train: np.ndarray, settings: FitSettings):
    """(RefitReport, RefitPredictions) of one (domain, probe): every task refitted on shared resamples."""
    labels = {t: task_labels(design.kinds, design.fiction_truth, t, settings.mode) for t in TASKS}
    outcome = run_refits(
        {t: fitted[t][0] for t in TASKS},
        labels,
        features,
        features(true_test),
        train,
        row_classes(design.kinds, design.fiction_truth),
        settings.n_refits,
        settings.seed,
        design.domain,
    )
    report = _refit_report(outcome, design.domain, settings.seed, settings.n_bootstrap)
    preds = [
        RefitPredictions(refit=r + 1, task=t, predictions=outcome.predictions[i, r].tolist())
        for i, t in enumerate(TASKS)
        for r in range(settings.n_refits)
    ]
    return report, preds


def _as_interval(draws: np.ndarray) -> Estimate:
    est, low, high = FA.interval(draws)
    return Estimate(value=est, ci_low=low, ci_high=high)


def _refit_report(outcome: RefitOutcome, domain: str, seed: int, n_bootstrap: int) -> RefitReport:
    """The fit-aware rates of one (domain, probe) from its refits (joint bootstrap, plan per domain)."""
    n_refits, n_true = outcome.predictions.shape[1], outcome.predictions.shape[2]
    plan = FA.resample_plan(n_true, n_refits, n_bootstrap, sub_seed(seed, "fit-aware", domain))
    draws = FA.fit_aware_draws(outcome.predictions, plan)
    cos = FA.cosine_draws(outcome.coefs, plan) if outcome.coefs is not None else {}
    tasks = [
        FitAwareTask(
            task=t,
            task_name=TASKS[t],
            retraction_rate=_as_interval(draws[f"retraction_{t}"]),
            expansion_rate=_as_interval(draws[f"expansion_{t}"]),
            excess_retraction=_as_interval(draws[f"excess_retraction_{t}"]),
            excess_expansion=_as_interval(draws[f"excess_expansion_{t}"]),
            cosine=_as_interval(cos[f"cosine_{t}"]) if cos else None,
        )
        for t in TASKS
        if t != 0
    ]
    return RefitReport(
        n_refits=n_refits,
        n_true=n_true,
        seeds=outcome.seeds,
        null_retraction=_as_interval(draws["null_retraction"]),
        null_expansion=_as_interval(draws["null_expansion"]),
        null_cosine=_as_interval(cos["null_cosine"]) if cos else None,
        tasks=tasks,
        fit_seconds=outcome.seconds,
    )


def domain_geometry(design: DomainDesign, domain: str, layer: int, seed: int) -> GeometryReport:
    clouds = {k: design.last[design.kinds == k] for k in KINDS}
    geo_seed = sub_seed(seed, "geometry", domain)
    pairs = M.pairwise_sliced_wasserstein(clouds, M.N_DIRECTIONS, geo_seed)
    return GeometryReport(
        domain=domain,
        layer=layer,
        n_directions=M.N_DIRECTIONS,
        seed=geo_seed,
        counts={k: len(v) for k, v in clouds.items()},
        distances=[KindDistance(a=a, b=b, distance=d) for a, b, d in pairs],
    )
