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
    """Activations of the chosen layer per domain (with its bags when ``needs_bags``), the chosen layers
    and the sweep curves.

    Every wanted layer is extracted once; the sweep then reads the store one layer at a time and only the
    chosen layer is kept, so the peak memory grows with one layer, not with the model's depth.
    ``stage(name)`` wraps each step (activations, layer choice, chosen layers), e.g. to time it.
    """
    from truthstab.protocol import sweep_domain

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
        for d in frames:
            store.ensure(
                loaded,
                frames[d],
                dataset_sha256,
                d,
                layers=policy.extract,
                batch_size=batch_size,
                progress=progress,
            )
    with stage("layer choice"):
        swept = policy.extract if policy.extract is not None else range(loaded.spec.n_layers)
        curves = {
            d: sweep_domain(lambda layer, d=d: get(d, [layer]), list(swept), d, seed, mode) for d in frames
        }
        chosen = {d: c.chosen for d, c in curves.items()}
        if policy.fixed is not None:
            chosen = {d: policy.fixed[d] for d in frames}
        elif policy.name == "given":
            chosen = dict.fromkeys(frames, policy.extract[0])
    with stage("chosen layers"):
        acts = {d: get(d, [chosen[d]], [chosen[d]] if needs_bags else ()) for d in frames}
    return ProbeInputs(acts=acts, layers=chosen, curves=curves)
