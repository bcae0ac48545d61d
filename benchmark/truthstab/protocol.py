"""The probing protocol (method.md §5, §7, §12): noise control, label maps, layer choice and the fits.

Per domain: generate the noise control from training statistics, standardise features with training
statistics, fit every probe for tasks 0-4 on the same training rows (only labels change), score the
calibration and test splits once, and compute the metrics of :mod:`truthstab.metrics` against task 0.

Modes:
- ``fixed`` (default): the method as intended.
- ``faithful``: reproduces the reference code's defects 1 and 2 (method.md §12) so the paper's numbers can be
  compared like for like. Defect 1: noise labels are never read, so task 4 labels noise Not-True (= task 0)
  and task 1 labels noise True. Defect 2: bag probes train on the first ``faithful_max_bags`` (1800) training
  bags of a list ordered real (true/false), synthetic, fictional, noise, so they rarely see fictional or
  noise rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from truthstab import fitaware as FA
from truthstab import metrics as M
from truthstab.activations.types import ActivationSet, TokenBags
from truthstab.errors import ActivationError, ProbeError
from truthstab.probes import MeanDifferenceProbe, input_kind, make_probe, probe_name
from truthstab.refits import RefitOutcome, run_refits
from truthstab.reports import (
    ConformalMetrics,
    DomainProbeReport,
    FitAwareTask,
    FlipMetrics,
    GeometryReport,
    Interval,
    KindDistance,
    LayerSweep,
    NoiseInfo,
    ProbeTaskMetrics,
    ProtocolReport,
    QualityMetrics,
    RefitPredictions,
    RefitReport,
    StatementPredictions,
    TaskPredictions,
)
from truthstab.seeds import sub_seed
from truthstab.tasks import LABEL_TABLE, Task

#: Task id -> name (the task table lives in truthstab.tasks; kept here for the report's task names).
TASKS: dict[int, str] = {int(t): t.name_text for t in Task}

KINDS: tuple[str, ...] = ("true", "false", "synthetic", "fictional", "noise")
#: Fraction of a domain's statement count drawn as noise rows (method.md §5).
NOISE_FRACTION = 0.1
FAITHFUL_MAX_BAGS = 1800
_FAITHFUL_ORDER = {"true": 0, "false": 0, "synthetic": 1, "fictional": 2, "noise": 3}


def row_classes(kinds: np.ndarray, fiction_truth: np.ndarray) -> np.ndarray:
    """The row class of each row: its kind, or fictional:true / fictional:false."""
    kinds = np.asarray(kinds, dtype=object)
    ft = np.asarray(fiction_truth, dtype=object)
    return np.where(kinds == "fictional", "fictional:" + ft.astype(str), kinds.astype(str))


def task_labels(kinds: np.ndarray, fiction_truth: np.ndarray, task: int, mode: str = "fixed") -> np.ndarray:
    """Boolean True/Not-True labels of rows for a task (0-4) in a mode (``fixed`` or ``faithful``)."""
    if mode not in LABEL_TABLE:
        raise ProbeError(f"unknown protocol mode {mode!r}; use 'fixed' or 'faithful'")
    if task not in TASKS:
        raise ProbeError(f"unknown task {task!r}; tasks are 0-4")
    classes = row_classes(kinds, fiction_truth)
    return np.isin(classes, list(LABEL_TABLE[mode][task]))


# --------------------------------------------------------------------------- noise control


@dataclass(frozen=True)
class NoiseRows:
    """Noise-control rows of one (domain, layer): Gaussian vectors from training statistics, with a split."""

    last: np.ndarray
    mean: np.ndarray
    bags: TokenBags | None
    split: np.ndarray


def _gauss(rng: np.random.Generator, ref: np.ndarray, n: int) -> np.ndarray:
    """n vectors with ref's per-dimension mean and std (float32)."""
    mu = ref.mean(axis=0, dtype=np.float64)
    sd = ref.std(axis=0, dtype=np.float64)
    return (mu + sd * rng.standard_normal((n, ref.shape[1]))).astype(np.float32)


def make_noise(
    train_last: np.ndarray, train_mean: np.ndarray, train_bags: TokenBags | None, n: int, seed: int
) -> NoiseRows:
    """The noise control of method.md §5: n Gaussian rows per representation, seeded, split 50/25/25.

    Last-token and mean vectors follow the training rows' per-dimension mean and std; bags draw token
    vectors from the training tokens' statistics, with lengths resampled from the training bag lengths.
    """
    rng = np.random.default_rng(seed)
    last = _gauss(rng, train_last, n)
    mean = _gauss(rng, train_mean, n)
    bags = None
    if train_bags is not None:
        lengths = rng.choice(train_bags.lengths(), size=n, replace=True)
        vectors = _gauss(rng, train_bags.vectors, int(lengths.sum()))
        bags = TokenBags(vectors=vectors, offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    split = np.empty(n, dtype=object)
    perm = rng.permutation(n)
    n_train, n_cal = n // 2, n // 4
    split[perm[:n_train]] = "train"
    split[perm[n_train : n_train + n_cal]] = "calibration"
    split[perm[n_train + n_cal :]] = "test"
    return NoiseRows(last=last, mean=mean, bags=bags, split=split)


def _check_finite(arr: np.ndarray, what: str) -> None:
    if not np.isfinite(arr).all():
        raise ActivationError(
            f"{what} holds non-finite values; re-extract the activations (store bfloat16, not float16)"
        )


def _standardise(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(x - mean) / std with training statistics (float32; constant dimensions left unscaled)."""
    mu = train.mean(axis=0, dtype=np.float64)
    sd = train.std(axis=0, dtype=np.float64)
    sd[sd < 1e-12] = 1.0
    return ((x - mu) / sd).astype(np.float32)


# --------------------------------------------------------------------------- one domain's design


@dataclass(frozen=True)
class DomainDesign:
    """Rows of one domain at one layer, noise appended, features standardised with training statistics."""

    ids: np.ndarray
    kinds: np.ndarray
    fiction_truth: np.ndarray
    split: np.ndarray
    last: np.ndarray
    bags: TokenBags | None
    noise: NoiseInfo


def _statement_columns(acts: ActivationSet, domain: str) -> tuple[np.ndarray, ...]:
    df = acts.statements
    missing = [c for c in ("id", "kind", "fiction_truth", "split") if c not in df.columns]
    if missing:
        raise ProbeError(f"domain {domain!r}: statements lack columns {missing}; pass a release DataFrame")
    return (
        df["id"].astype(str).to_numpy(dtype=object),
        df["kind"].astype(str).to_numpy(dtype=object),
        df["fiction_truth"].fillna("").astype(str).to_numpy(dtype=object),
        df["split"].astype(str).to_numpy(dtype=object),
    )


def build_design(
    acts: ActivationSet, domain: str, layer: int, seed: int, with_bags: bool, with_noise: bool = True
) -> DomainDesign:
    """Append the seeded noise control (unless ``with_noise`` is False) to a domain's rows at ``layer`` and
    standardise the features."""
    if layer not in acts.last:
        raise ProbeError(
            f"domain {domain!r}: no activations for layer {layer}; choose one of {sorted(acts.last)}"
        )
    if with_bags and layer not in acts.bags:
        raise ProbeError(
            f"domain {domain!r}: no token bags for layer {layer}; extract bags for the chosen layer "
            "or drop bag probes (sawmil)"
        )
    ids, kinds, ft, split = _statement_columns(acts, domain)
    train = split == "train"
    last = np.asarray(acts.last[layer], dtype=np.float32)
    _check_finite(last, f"domain {domain!r} layer {layer} last-token activations")
    bags = acts.bags.get(layer) if with_bags else None
    train_bags = bags.subset(np.flatnonzero(train)) if bags is not None else None
    if bags is not None:
        _check_finite(bags.vectors, f"domain {domain!r} layer {layer} token bags")
    n_noise = round(NOISE_FRACTION * len(ids)) if with_noise else 0
    noise_seed = sub_seed(seed, "noise", domain, layer)
    noise = make_noise(
        last[train], np.asarray(acts.mean.get(layer, last))[train], train_bags, n_noise, noise_seed
    )
    all_last = np.concatenate([last, noise.last])
    all_split = np.concatenate([split, noise.split])
    all_train = all_split == "train"
    std_last = _standardise(all_last, all_last[all_train])
    std_bags = None
    if bags is not None:
        vectors = np.concatenate([bags.vectors, noise.bags.vectors])
        offsets = np.concatenate([bags.offsets, bags.offsets[-1] + noise.bags.offsets[1:]])
        joined = TokenBags(vectors=vectors, offsets=offsets)
        train_tokens = joined.subset(np.flatnonzero(all_train)).vectors
        std_bags = TokenBags(vectors=_standardise(vectors, train_tokens), offsets=offsets)
    info = NoiseInfo(
        domain=domain,
        layer=layer,
        n=n_noise,
        seed=noise_seed,
        n_train=int((noise.split == "train").sum()),
        n_calibration=int((noise.split == "calibration").sum()),
        n_test=int((noise.split == "test").sum()),
    )
    return DomainDesign(
        ids=np.concatenate([ids, np.array([f"noise-{i:05d}" for i in range(n_noise)], dtype=object)]),
        kinds=np.concatenate([kinds, np.full(n_noise, "noise", dtype=object)]),
        fiction_truth=np.concatenate([ft, np.full(n_noise, "", dtype=object)]),
        split=all_split,
        last=std_last,
        bags=std_bags,
        noise=info,
    )


# --------------------------------------------------------------------------- layer selection


def sweep_domain(
    load: Callable[[int], ActivationSet], layers: Sequence[int], domain: str, seed: int, mode: str = "fixed"
) -> LayerSweep:
    """The layer-selection curve of one domain: baseline mean-difference calibration AP per layer.

    ``load(layer)`` returns the domain's activations holding (at least) that layer, so a caller can read
    one layer at a time from the store and the sweep's memory stays that of one layer. Noise is included,
    as in the fits; ties go to the shallower layer.
    """
    order = sorted(layers)
    scores = []
    for layer in order:
        d = build_design(load(layer), domain, layer, seed, with_bags=False)
        y = task_labels(d.kinds, d.fiction_truth, 0, mode)
        tr, cal = d.split == "train", d.split == "calibration"
        probe = MeanDifferenceProbe(covariance=False).fit(d.last[tr], y[tr])
        scores.append(M.average_precision(y[cal], probe.decision_function(d.last[cal])))
    finite = [s if np.isfinite(s) else -np.inf for s in scores]
    best = order[int(np.argmax(finite))]
    return LayerSweep(domain=domain, layers=order, scores=M.finite_or_none(scores), chosen=best)


def select_layers(
    acts: Mapping[str, ActivationSet], seed: int, mode: str = "fixed"
) -> tuple[dict[str, int], dict[str, LayerSweep]]:
    """Per domain, the layer whose baseline mean-difference probe has the best calibration-split AP.

    Sweeps every layer in ``acts[domain].last`` (see :func:`sweep_domain`). Returns (layers, curves).
    """
    curves = {
        d: sweep_domain(lambda _layer, a=acts[d]: a, list(acts[d].last), d, seed, mode) for d in sorted(acts)
    }
    return {d: c.chosen for d, c in curves.items()}, curves


# --------------------------------------------------------------------------- fits and metrics


def _interval(point: Any, boot: np.ndarray) -> Interval:
    est = float(np.ravel(point)[0])
    lo, hi = M.percentile_interval(boot)
    return Interval(estimate=est if np.isfinite(est) else None, low=lo, high=hi)


def _quality(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> QualityMetrics:
    point = M.weighted_quality(y, scores)
    boot = M.weighted_quality(y, scores, weights)
    return QualityMetrics(
        n=len(y), n_positive=int(y.sum()), **{k: _interval(point[k], boot[k]) for k in point}
    )


def _flips(p0: np.ndarray, pk: np.ndarray, weights: np.ndarray) -> FlipMetrics:
    point = M.flip_counts(p0, pk)
    boot = M.flip_counts(p0, pk, weights)
    rates = ("retraction_rate_all", "retraction_rate_base", "expansion_rate_all", "expansion_rate_base")
    counts = ("n_true", "n_base_true", "n_base_false", "retraction_count", "expansion_count")
    return FlipMetrics(
        **{k: int(point[k]) for k in counts}, **{k: _interval(point[k], boot[k]) for k in rates}
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
    idx = np.flatnonzero(design.split == "train")
    if mode == "faithful" and kind == "bags":
        rank = np.array([_FAITHFUL_ORDER[k] for k in design.kinds[idx]])
        idx = idx[np.argsort(rank, kind="stable")][:max_bags]
    return idx


def _fit_domain_probe(
    design: DomainDesign,
    spec: str | Any,
    domain: str,
    layer: int,
    mode: str,
    seed: int,
    weights_test: np.ndarray,
    weights_true: np.ndarray,
    max_bags: int,
    n_refits: int,
    n_bootstrap: int,
) -> tuple[DomainProbeReport, StatementPredictions]:
    """Fit one probe for the five tasks of one domain (metrics vs task 0), then its refits."""
    base = make_probe(spec, seed)
    kind = input_kind(base)
    if kind == "bags" and design.bags is None:
        raise ProbeError(f"probe {probe_name(spec)!r} needs token bags; extract bags for layer {layer}")
    cal, test = np.flatnonzero(design.split == "calibration"), np.flatnonzero(design.split == "test")
    true_in_test = design.kinds[test] == "true"

    def features(idx: np.ndarray) -> Any:
        return design.bags.subset(idx) if kind == "bags" else design.last[idx]

    x_cal, x_test = features(cal), features(test)
    tasks, preds, fitted, by_labels = [], [], {}, {}
    for task in TASKS:
        y_all = task_labels(design.kinds, design.fiction_truth, task, mode)
        train = _train_rows(design, kind, mode, max_bags)
        key = y_all[train].tobytes()
        start = time.perf_counter()
        if key in by_labels:
            # Same rows, same labels (faithful task 4, or a kind absent from training): same fit, exactly.
            est = by_labels[key]
        else:
            est = clone(base)
            try:
                est.fit(features(train), y_all[train])
            except ValueError as exc:
                raise ProbeError(
                    f"domain {domain!r}, probe {probe_name(spec)!r}, task {task}: {exc}"
                ) from exc
            by_labels[key] = est
        seconds = time.perf_counter() - start
        s_cal = np.asarray(est.decision_function(x_cal), dtype=np.float64)
        s_test = np.asarray(est.decision_function(x_test), dtype=np.float64)
        fitted[task] = (est, s_test)
        w, b = _coef(est)
        w0, b0 = _coef(fitted[0][0])
        p0 = fitted[0][1][true_in_test] > 0
        pk = s_test[true_in_test] > 0
        tasks.append(
            ProbeTaskMetrics(
                task=task,
                task_name=TASKS[task],
                n_train=len(train),
                n_train_true=int(y_all[train].sum()),
                hyperparameters=_hyper(est),
                quality=_quality(y_all[test], s_test, weights_test),
                conformal=_conformal(s_cal, y_all[cal], s_test, y_all[test]),
                flips=None if task == Task.BASELINE else _flips(p0, pk, weights_true),
                rotation_cosine=None if w is None or w0 is None else M.rotation_cosine(w0, w),
                bias_shift=None if b is None or b0 is None else M.bias_shift(b0, b),
                fit_seconds=round(seconds, 3),
            )
        )
        preds.append(TaskPredictions(task=task, scores=[float(s) for s in s_test]))
    name = probe_name(spec)
    refit_report, refit_preds = None, []
    if n_refits:
        labels = {t: task_labels(design.kinds, design.fiction_truth, t, mode) for t in TASKS}
        outcome = run_refits(
            {t: fitted[t][0] for t in TASKS},
            labels,
            features,
            features(test[true_in_test]),
            _train_rows(design, kind, mode, max_bags),
            row_classes(design.kinds, design.fiction_truth),
            n_refits,
            seed,
            domain,
        )
        refit_report = _refit_report(outcome, domain, seed, n_bootstrap)
        refit_preds = [
            RefitPredictions(refit=r + 1, task=t, predictions=outcome.predictions[i, r].tolist())
            for i, t in enumerate(TASKS)
            for r in range(n_refits)
        ]
    report = DomainProbeReport(domain=domain, probe=name, layer=layer, tasks=tasks, refits=refit_report)
    predictions = StatementPredictions(
        domain=domain,
        probe=name,
        ids=list(design.ids[test]),
        kinds=list(design.kinds[test]),
        tasks=preds,
        refits=refit_preds,
    )
    return report, predictions


def _as_interval(draws: np.ndarray) -> Interval:
    est, low, high = FA.interval(draws)
    return Interval(estimate=est, low=low, high=high)


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


def _geometry(design: DomainDesign, domain: str, layer: int, seed: int) -> GeometryReport:
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


def run_protocol(
    acts: Mapping[str, ActivationSet],
    probes: Sequence[str | Any] = ("sawmil", "mean-diff", "logistic"),
    layers: Mapping[str, int] | None = None,
    mode: str = "fixed",
    seed: int = 0,
    n_bootstrap: int = M.N_BOOTSTRAP,
    sweep: bool = True,
    progress: bool = False,
    faithful_max_bags: int = FAITHFUL_MAX_BAGS,
    curves: Mapping[str, LayerSweep] | None = None,
    n_refits: int = FA.N_REFITS,
    noise_rows: str = "keep",
) -> ProtocolReport:
    """Run the whole probe stage on per-domain activation sets and return its report.

    ``layers``: a layer per domain, or None to choose by :func:`select_layers` (``sweep`` then is implied;
    with given layers, ``sweep=True`` still records the curves). ``curves``: sweep curves the caller
    already computed with :func:`select_layers` (recorded as they are, not swept again). ``probes``: names
    (``mean-diff|logistic|sawmil|module:Class``) or estimator instances. Bag probes need
    ``acts[domain].bags[layer]`` for the chosen layer. ``n_refits``: bootstrap refits per (domain, probe)
    for the fit-aware rates (0: none; else at least 2). ``noise_rows``: ``keep`` the noise control, or
    ``drop`` it (the reference code's runs lost it; see faithful mode). Same inputs and seed give the same
    report.
    """
    if n_refits and n_refits < FA.MIN_REFITS:
        raise ProbeError(f"--refits must be 0 or at least {FA.MIN_REFITS}, not {n_refits}")
    if noise_rows not in ("keep", "drop"):
        raise ProbeError(f"unknown noise-rows choice {noise_rows!r}; use keep or drop")
    if mode not in LABEL_TABLE:
        raise ProbeError(f"unknown protocol mode {mode!r}; use 'fixed' or 'faithful'")
    if not acts:
        raise ProbeError("no activation sets given; extract activations first")
    if not probes:
        raise ProbeError("no probes given; use e.g. --probes sawmil,mean-diff,logistic")
    t0 = time.perf_counter()
    if curves is not None:
        curves = dict(curves)
        chosen = {d: curves[d].chosen for d in curves}
    elif layers is None or sweep:
        chosen, curves = select_layers(acts, seed, mode)
    else:
        curves = {}
    layer_choice = "auto" if layers is None else "given"
    if layers is not None:
        unknown = sorted(set(layers) - set(acts))
        if unknown or set(acts) - set(layers):
            raise ProbeError(f"layers name domains {sorted(layers)} but activations hold {sorted(acts)}")
        chosen = {d: int(layers[d]) for d in acts}
    t_sweep = time.perf_counter() - t0
    names = [probe_name(p) for p in probes]
    if len(set(names)) != len(names):
        raise ProbeError(f"probe names repeat: {names}; give each probe once")
    needs_bags = any(input_kind(make_probe(p, seed)) == "bags" for p in probes)

    results, predictions, geometry, noise = [], [], [], []
    jobs = [(d, p) for d in sorted(acts) for p in probes]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="probes", unit="fit")
    for domain in sorted(acts):
        design = build_design(
            acts[domain], domain, chosen[domain], seed, with_bags=needs_bags, with_noise=noise_rows == "keep"
        )
        noise.append(design.noise)
        test = design.split == "test"
        w_test = M.bootstrap_weights(int(test.sum()), n_bootstrap, sub_seed(seed, "bootstrap-test", domain))
        n_true = int((test & (design.kinds == "true")).sum())
        w_true = M.bootstrap_weights(n_true, n_bootstrap, sub_seed(seed, "bootstrap-true", domain))
        for spec in probes:
            rep, pred = _fit_domain_probe(
                design,
                spec,
                domain,
                chosen[domain],
                mode,
                seed,
                w_test,
                w_true,
                faithful_max_bags,
                n_refits,
                n_bootstrap,
            )
            results.append(rep)
            predictions.append(pred)
            if bar is not None:
                bar.update(1)
        geometry.append(_geometry(design, domain, chosen[domain], seed))
    if bar is not None:
        bar.close()
    return ProtocolReport(
        mode=mode,
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence=M.CONFIDENCE,
        conformal_alpha=M.CONFORMAL_ALPHA,
        probes=names,
        n_refits=n_refits,
        noise_rows=noise_rows,
        layer_choice=layer_choice,
        layers=chosen,
        sweeps=[curves[d] for d in sorted(curves)],
        noise=noise,
        results=results,
        geometry=geometry,
        predictions=predictions,
        timings={"layer_selection": round(t_sweep, 3), "total": round(time.perf_counter() - t0, 3)},
    )
