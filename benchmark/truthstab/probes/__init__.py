"""Probes: scikit-learn estimators that separate True from Not-True statements (docs/method.md §6).

Every probe has ``fit(X, y)``, ``decision_function(X)`` (> 0 means True), ``predict``, ``coef_`` (1, D) and
``intercept_`` (1,), and get/set_params through ``BaseEstimator``. Its class attribute ``input_kind`` says
what ``X`` is: ``"last"`` (an (n, D) array of last-token vectors; the default for plug-ins) or ``"bags"``
(token bags, see :mod:`truthstab.probes.sawmil`).

Built-in names: ``mean-diff``, ``logistic``, ``sawmil``. A user plug-in is named ``module:Class``: the module
is imported, the class instantiated without arguments (with ``random_state`` when it accepts one).
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from truthstab.errors import ProbeError
from truthstab.probes.logistic import LogisticProbe
from truthstab.probes.mean_difference import MeanDifferenceProbe
from truthstab.probes.sawmil import SawmilProbe

#: Built-in probes by name.
PROBES: dict[str, type] = {
    "mean-diff": MeanDifferenceProbe,
    "logistic": LogisticProbe,
    "sawmil": SawmilProbe,
}

_PLUGIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


def input_kind(probe: Any) -> str:
    """``"last"`` or ``"bags"``: what the probe's ``fit`` takes."""
    kind = getattr(probe, "input_kind", "last")
    if kind not in ("last", "bags"):
        raise ProbeError(f"probe {type(probe).__name__} has input_kind {kind!r}; use 'last' or 'bags'")
    return kind


def check_probe(probe: Any, name: str) -> Any:
    """Raise ProbeError unless ``probe`` follows the estimator interface."""
    missing = [m for m in ("fit", "decision_function", "get_params") if not callable(getattr(probe, m, None))]
    if missing:
        raise ProbeError(
            f"probe {name!r} lacks {', '.join(missing)}; a probe must be a scikit-learn estimator "
            "(subclass sklearn.base.BaseEstimator, define fit and decision_function)"
        )
    input_kind(probe)
    return probe


def make_probe(spec: str | Any, seed: int = 0) -> Any:
    """An unfitted probe from a name (``mean-diff|logistic|sawmil|module:Class``) or an estimator instance."""
    if not isinstance(spec, str):
        return check_probe(spec, type(spec).__name__)
    if spec in PROBES:
        return PROBES[spec](random_state=seed)
    if not _PLUGIN.match(spec):
        raise ProbeError(
            f"unknown probe {spec!r}; use one of {', '.join(PROBES)} or a plug-in 'module:Class'"
        )
    module_name, class_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProbeError(
            f"cannot import probe module {module_name!r} ({exc}); check it is on PYTHONPATH"
        ) from exc
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        raise ProbeError(f"module {module_name!r} has no class {class_name!r}; check the probe name")
    accepts_seed = "random_state" in inspect.signature(cls).parameters
    return check_probe(cls(random_state=seed) if accepts_seed else cls(), spec)


def probe_name(spec: str | Any) -> str:
    """The name a probe is reported under: its spec string, or its class name."""
    return spec if isinstance(spec, str) else type(spec).__name__


__all__ = [
    "PROBES",
    "LogisticProbe",
    "MeanDifferenceProbe",
    "SawmilProbe",
    "input_kind",
    "make_probe",
    "probe_name",
]
