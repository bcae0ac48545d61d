"""The probe stage: which probes a run fits, whether they need token bags, and the protocol run on the
chosen layers' activations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from truthstab.errors import ProbeError
from truthstab.pipeline.config import PROBE_NAMES, RunConfig
from truthstab.pipeline.inputs import ProbeInputs
from truthstab.pipeline.layers import LayerPolicy

if TYPE_CHECKING:
    from truthstab.results.probe import ProtocolReport


def check_probes(probes: list[str]) -> None:
    """Every probe is a known name or a ``module:Class`` plug-in."""
    for name in probes:
        if name not in PROBE_NAMES and ":" not in name:
            raise ProbeError(f"unknown probe {name!r}: use {', '.join(PROBE_NAMES)} or module:Class")


def needs_bags(config: RunConfig) -> bool:
    """Whether a probe of the run reads token bags (sAwMIL), so the chosen layers' bags are fetched too."""
    from truthstab.probes import input_kind, make_probe

    return any(input_kind(make_probe(p, config.seed)) == "bags" for p in config.probes)


def run_probes(config: RunConfig, inputs: ProbeInputs, policy: LayerPolicy, progress: bool) -> ProtocolReport:
    """The protocol on the chosen layers: every task, probe, refit and metric (see
    :func:`truthstab.protocol.run_protocol`); the sweep already ran, so its curves are recorded as they are."""
    # Imported here: the protocol loads scikit-learn, which building a configuration never needs.
    from truthstab.protocol import run_protocol

    return run_protocol(
        inputs.acts,
        config.probes,
        layers=inputs.layers if policy.chooses_fixed else None,
        mode=config.protocol,
        seed=config.seed,
        n_bootstrap=config.n_bootstrap,
        sweep=False,
        curves=inputs.curves,
        progress=progress,
        n_refits=config.n_refits,
        noise_rows=config.noise_rows,
    )
