"""Layer choice: the baseline mean-difference probe's calibration AP per layer, best layer per domain."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from truthstab import metrics as M
from truthstab.activations.types import ActivationSet
from truthstab.data.schema import Split
from truthstab.probes import MeanDifferenceProbe
from truthstab.protocol.design import build_design
from truthstab.protocol.labels import task_labels
from truthstab.results.probe import (
    LayerSweep,
)


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
        tr, cal = d.split == Split.TRAIN, d.split == Split.CALIBRATION
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
