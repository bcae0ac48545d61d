"""Which layers a run reads: a layer list checked against the model, and the layer policy of the probe stage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from truthstab.errors import ActivationError, ProbeError


def parse_layers(text: str | None, n_layers: int) -> list[int] | None:
    """``all`` -> None (every layer); ``"3,5-7"`` -> [3, 5, 6, 7]; ``""``/None -> []. Checked against the model."""
    if text is None or text.strip() == "":
        return []
    if text.strip().lower() == "all":
        return None
    layers: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise ActivationError(f"bad layer list {text!r}: use all, or numbers and ranges like 3,5-7")
        lo, hi = int(match[1]), int(match[2] or match[1])
        layers.update(range(lo, hi + 1))
    bad = sorted(layer for layer in layers if layer >= n_layers)
    if bad:
        raise ActivationError(f"layer(s) {bad} do not exist: the model has layers 0-{n_layers - 1}")
    return sorted(layers)


@dataclass(frozen=True)
class LayerPolicy:
    """How layers are chosen: ``name`` is auto | paper | given | sweep-list."""

    name: str
    extract: list[int] | None  # pooled layers to extract; None: every layer
    fixed: dict[str, int] | None  # a layer per domain, or None to choose by the calibration sweep

    @property
    def chooses_fixed(self) -> bool:
        """True when the layers are given (paper table, one layer), False when the sweep chooses them."""
        return self.fixed is not None or self.name == "given"


def layer_policy(layers: str, model: str, n_layers: int) -> LayerPolicy:
    """``auto`` (sweep all layers), ``paper`` (docs/method.md §10's table), or a list/range such as ``12`` or ``8-14``."""
    if layers == "auto":
        return LayerPolicy("auto", None, None)
    if layers == "paper":
        from truthstab.models.registry import resolve_alias

        info = resolve_alias(model)
        if info is None or not info.paper_layers:
            raise ProbeError(
                f"--layers paper needs one of the paper's models (docs/method.md §10); {model!r} is not: "
                "use --layers auto or a list"
            )
        return LayerPolicy("paper", sorted(set(info.paper_layers.values())), dict(info.paper_layers))
    wanted = parse_layers(layers, n_layers)
    if not wanted:
        raise ProbeError("--layers is empty: use auto, paper, or a list like 12 or 10-20")
    return LayerPolicy("given" if len(wanted) == 1 else "sweep-list", wanted, None)
