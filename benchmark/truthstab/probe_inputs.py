"""What the probe stage needs from the store: activations for the layer policy, the chosen layers, bags.

Shared by `truthstab score` and `truthstab probe run`: pooled vectors are read (or extracted) first, the
layer is chosen per domain, and only then are the token bags of the chosen layers fetched, since bags of
every layer would cost the forward passes' full output on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import pandas as pd

from truthstab.activations.store import ActivationStore
from truthstab.activations.types import ActivationSet
from truthstab.errors import ProbeError


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
    from truthstab.activations.run import parse_layers

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


@dataclass(frozen=True)
class ProbeInputs:
    acts: dict[str, ActivationSet]
    layers: dict[str, int]
    curves: dict  # domain -> truthstab.reports.LayerSweep


@contextmanager
def _no_stage(_name: str) -> Iterator[None]:
    yield


def gather_probe_inputs(
    store: ActivationStore,
    loaded,
    frames: Mapping[str, pd.DataFrame],
    dataset_sha256: str,
    policy: LayerPolicy,
    needs_bags: bool,
    seed: int,
    mode: str,
    batch_size: int | str = "auto",
    progress: bool = False,
    stage: Callable[[str], AbstractContextManager] = _no_stage,
) -> ProbeInputs:
    """Activations per domain (bags for the chosen layer when ``needs_bags``), chosen layers and sweep curves.

    ``stage(name)`` wraps each step (activations, layer choice, token bags), e.g. to time it.
    """
    from truthstab.protocol import select_layers

    def get(domain: str, layers, bag_layers=()) -> ActivationSet:
        return store.get_or_extract(
            loaded,
            frames[domain],
            dataset_sha256,
            domain,
            layers=layers,
            bag_layers=bag_layers,
            batch_size=batch_size,
            progress=progress,
        )

    with stage("activations"):
        acts = {d: get(d, policy.extract) for d in frames}
    with stage("layer choice"):
        chosen, curves = select_layers(acts, seed, mode)
        if policy.fixed is not None:
            chosen = {d: policy.fixed[d] for d in frames}
        elif policy.name == "given":
            chosen = dict.fromkeys(frames, policy.extract[0])
    if needs_bags:
        with stage("token bags"):
            for d in frames:
                bags = get(d, [chosen[d]], [chosen[d]]).bags
                a = acts[d]
                acts[d] = ActivationSet(a.statements, a.layers, a.last, a.mean, bags, a.meta)
    return ProbeInputs(acts=acts, layers=chosen, curves=curves)
