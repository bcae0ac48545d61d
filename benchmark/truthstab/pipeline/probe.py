"""`truthstab probe run`: the probe stage alone on a release's cached (or freshly extracted) activations.

Loads the model (for the cache key), reads the activations from the store (extracting only what is
missing), chooses layers (auto sweep, the paper's table, or a given list), fetches the token bags of the
chosen layers when a bag probe runs, and calls :func:`truthstab.protocol.run_protocol`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from truthstab.errors import ProbeError
from truthstab.fileio import atomic_write_text
from truthstab.pipeline.config import RunConfig
from truthstab.pipeline.dataset import pick_domains
from truthstab.pipeline.inputs import gather_probe_inputs
from truthstab.pipeline.layers import layer_policy
from truthstab.pipeline.model import load_run_model
from truthstab.pipeline.probing import needs_bags, run_probes

if TYPE_CHECKING:
    from truthstab.results.probe import ProtocolReport


def probe_release(config: RunConfig, progress: bool = True) -> ProtocolReport:
    """The probe-stage report of ``config.model`` on release ``config.dataset`` (activations from the
    store), also written to ``config.report_file`` when one is set."""
    from truthstab.data.registry import get_release, load_frame
    from truthstab.probes import make_probe

    config.require("probe")
    for name in config.probes:
        make_probe(name, config.seed)  # fail on a bad probe name before loading anything
    release = get_release(config.dataset)
    domains = pick_domains(release, config, ProbeError)
    loaded = load_run_model(config)
    policy = layer_policy(config.layers, config.model, loaded.spec.n_layers)
    frames = {d: load_frame(release, domain=d) for d in domains}
    inputs = gather_probe_inputs(
        config, loaded, frames, release.sha256, policy, needs_bags(config), progress=progress
    )
    report = run_probes(config, inputs, policy, progress)
    if config.report_file is not None:
        write_report(report, config.report_file)
    return report


def write_report(report: ProtocolReport, path: Path) -> None:
    """Write the report as JSON atomically (temporary file in the same folder, then rename)."""
    atomic_write_text(Path(path), report.model_dump_json(indent=1))
