"""What the probe stage needs from the store: activations for the layer policy, the chosen layers, bags.

Shared by `truthstab score` and `truthstab probe run`: pooled vectors are read (or extracted) first, the
layer is chosen per domain, and only then are the token bags of the chosen layers fetched, since bags of
every layer would cost the forward passes' full output on disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from truthstab.pipeline.config import RunConfig
from truthstab.pipeline.layers import LayerPolicy
from truthstab.pipeline.timing import Stage, no_stage

if TYPE_CHECKING:
    import pandas as pd

    from truthstab.activations.store import ActivationStore
    from truthstab.activations.types import ActivationSet
    from truthstab.models.loading import LoadedModel
    from truthstab.results.probe import LayerSweep


@dataclass(frozen=True)
class ProbeInputs:
    """The activations of the chosen layer per domain, the chosen layers, and the sweep curves."""

    acts: dict[str, ActivationSet]
    layers: dict[str, int]
    curves: dict[str, LayerSweep]


@dataclass(frozen=True)
class _StoreReader:
    """One run's view of the store: the same model, statements, release and batch size for every read."""

    store: ActivationStore
    loaded: LoadedModel
    frames: Mapping[str, pd.DataFrame]
    dataset_sha256: str
    batch_size: int | str
    progress: bool

    def ensure(self, domain: str, layers: list[int] | None) -> None:
        """Extract whatever of ``layers`` (None: every layer) the store lacks for ``domain``."""
        self.store.ensure(
            self.loaded,
            self.frames[domain],
            self.dataset_sha256,
            domain,
            layers=layers,
            batch_size=self.batch_size,
            progress=self.progress,
        )

    def get(self, domain: str, layers: list[int], bag_layers: Sequence[int] = ()) -> ActivationSet:
        """``domain``'s pooled activations of ``layers`` (and the token bags of ``bag_layers``)."""
        return self.store.get_or_extract(
            self.loaded,
            self.frames[domain],
            self.dataset_sha256,
            domain,
            layers=layers,
            bag_layers=bag_layers,
            batch_size=self.batch_size,
            progress=self.progress,
        )


def gather_probe_inputs(
    config: RunConfig,
    loaded: LoadedModel,
    frames: Mapping[str, pd.DataFrame],
    dataset_sha256: str,
    policy: LayerPolicy,
    needs_bags: bool,
    progress: bool = False,
    stage: Stage = no_stage,
) -> ProbeInputs:
    """Activations of the chosen layer per domain (with its bags when ``needs_bags``), the chosen layers
    and the sweep curves, from the store under ``config.cache_dir``.

    Every wanted layer is extracted once; the sweep then reads the store one layer at a time and only the
    chosen layer is kept, so the peak memory grows with one layer, not with the model's depth.
    ``stage(name)`` wraps each step (activations, layer choice, chosen layers), e.g. to time it.
    """
    # Imported here: the store loads torch and safetensors, which reading a configuration never needs.
    from truthstab.activations.store import ActivationStore
    from truthstab.protocol import sweep_domain

    reader = _StoreReader(
        ActivationStore(config.cache_dir), loaded, frames, dataset_sha256, config.batch, progress
    )
    with stage("activations"):
        for d in frames:
            reader.ensure(d, policy.extract)
    with stage("layer choice"):
        swept = list(policy.extract if policy.extract is not None else range(loaded.spec.n_layers))
        curves = {
            d: sweep_domain(lambda layer, d=d: reader.get(d, [layer]), swept, d, config.seed, config.protocol)
            for d in frames
        }
        chosen = _chosen_layers(policy, curves, frames)
    with stage("chosen layers"):
        acts = {d: reader.get(d, [chosen[d]], [chosen[d]] if needs_bags else ()) for d in frames}
    return ProbeInputs(acts=acts, layers=chosen, curves=curves)


def _chosen_layers(policy: LayerPolicy, curves: Mapping, frames: Mapping) -> dict[str, int]:
    """The sweep's choice per domain, unless the policy fixes the layers (the paper's table, one layer)."""
    if policy.fixed is not None:
        return {d: policy.fixed[d] for d in frames}
    if policy.name == "given":
        return dict.fromkeys(frames, policy.extract[0])
    return {d: c.chosen for d, c in curves.items()}
