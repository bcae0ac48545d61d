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

The stages live in submodules, one job each: :mod:`.labels` (row classes, task labels), :mod:`.noise`
(the noise control), :mod:`.design` (a domain's arrays), :mod:`.layers` (layer choice) and :mod:`.fitting`
(the fits and their metrics). This module runs them (:func:`run_protocol`) and re-exports their public names.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from truthstab import fitaware as FA
from truthstab import metrics as M
from truthstab.activations.types import ActivationSet
from truthstab.data.schema import Kind, Split
from truthstab.errors import ProbeError
from truthstab.probes import input_kind, make_probe, probe_name
from truthstab.protocol.design import DomainDesign, build_design
from truthstab.protocol.fitting import FAITHFUL_MAX_BAGS, FitSettings, domain_geometry, fit_domain_probe
from truthstab.protocol.labels import KINDS, TASKS, row_classes, task_labels
from truthstab.protocol.layers import select_layers, sweep_domain
from truthstab.protocol.noise import NOISE_FRACTION, NoiseRows, make_noise
from truthstab.results.probe import LayerSweep, ProtocolReport
from truthstab.seeds import sub_seed
from truthstab.tasks import LABEL_TABLE, Task

__all__ = [
    "FAITHFUL_MAX_BAGS",
    "KINDS",
    "LABEL_TABLE",
    "NOISE_FRACTION",
    "TASKS",
    "DomainDesign",
    "NoiseRows",
    "Task",
    "build_design",
    "make_noise",
    "row_classes",
    "run_protocol",
    "select_layers",
    "sub_seed",
    "sweep_domain",
    "task_labels",
]


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
    _check_arguments(acts, probes, mode, n_refits, noise_rows)
    t0 = time.perf_counter()
    chosen, curves = _choose_layers(acts, layers, curves, sweep, seed, mode)
    t_sweep = time.perf_counter() - t0
    names = [probe_name(p) for p in probes]
    if len(set(names)) != len(names):
        raise ProbeError(f"probe names repeat: {names}; give each probe once")
    settings = FitSettings(mode, seed, faithful_max_bags, n_refits, n_bootstrap)
    needs_bags = any(input_kind(make_probe(p, seed)) == "bags" for p in probes)
    bar = _progress_bar(len(acts) * len(probes), progress)
    results, predictions, geometry, noise = [], [], [], []
    for domain in sorted(acts):
        design = build_design(
            acts[domain], domain, chosen[domain], seed, with_bags=needs_bags, with_noise=noise_rows == "keep"
        )
        noise.append(design.noise)
        w_test, w_true = _domain_weights(design, n_bootstrap, seed)
        for spec in probes:
            rep, pred = fit_domain_probe(design, spec, settings, w_test, w_true)
            results.append(rep)
            predictions.append(pred)
            if bar is not None:
                bar.update(1)
        geometry.append(domain_geometry(design, domain, chosen[domain], seed))
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
        layer_choice="auto" if layers is None else "given",
        layers=chosen,
        sweeps=[curves[d] for d in sorted(curves)],
        noise=noise,
        results=results,
        geometry=geometry,
        predictions=predictions,
        timings={"layer_selection": round(t_sweep, 3), "total": round(time.perf_counter() - t0, 3)},
    )


def _check_arguments(acts, probes, mode: str, n_refits: int, noise_rows: str) -> None:
    """One-line errors for arguments run_protocol cannot use."""
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


def _choose_layers(acts, layers, curves, sweep: bool, seed: int, mode: str):
    """(layer per domain, sweep curves): given curves as they are, else swept when asked or needed; given
    layers override the curves' choice."""
    if curves is not None:
        curves = dict(curves)
        chosen = {d: curves[d].chosen for d in curves}
    elif layers is None or sweep:
        chosen, curves = select_layers(acts, seed, mode)
    else:
        curves = {}
    if layers is not None:
        unknown = sorted(set(layers) - set(acts))
        if unknown or set(acts) - set(layers):
            raise ProbeError(f"layers name domains {sorted(layers)} but activations hold {sorted(acts)}")
        chosen = {d: int(layers[d]) for d in acts}
    return chosen, curves


def _domain_weights(design: DomainDesign, n_bootstrap: int, seed: int):
    """The domain's bootstrap resample counts of its test rows and of its true test rows (shared by every
    probe, and the true ones by the behavioural track: paired intervals)."""
    test = design.split == Split.TEST
    w_test = M.bootstrap_weights(
        int(test.sum()), n_bootstrap, sub_seed(seed, "bootstrap-test", design.domain)
    )
    n_true = int((test & (design.kinds == Kind.TRUE)).sum())
    w_true = M.bootstrap_weights(n_true, n_bootstrap, sub_seed(seed, "bootstrap-true", design.domain))
    return w_test, w_true


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="probes", unit="fit")
