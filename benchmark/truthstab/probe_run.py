"""`truthstab probe run`: the probe stage alone on a release's cached (or freshly extracted) activations.

Loads the model (for the cache key), reads the activations from the store (extracting only what is
missing), chooses layers (auto sweep, the paper's table, or a given list), fetches the token bags of the
chosen layers when a bag probe runs, and calls :func:`truthstab.protocol.run_protocol`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from truthstab.errors import ProbeError
from truthstab.fileio import atomic_write_text
from truthstab.fitaware import N_REFITS
from truthstab.reports import ProtocolReport
from truthstab.scoring import DEFAULT_PROBES


def probe_release(
    model: str,
    dataset: str = "truthstab",
    domains: Sequence[str] | None = None,
    probes: Sequence[str] = DEFAULT_PROBES,
    layers: str = "auto",
    mode: str = "fixed",
    seed: int = 0,
    n_bootstrap: int = 1000,
    dtype: str = "auto",
    device: str = "auto",
    revision: str | None = None,
    batch_size: int | str = "auto",
    cache_dir: Path | None = None,
    progress: bool = True,
    n_refits: int = N_REFITS,
    noise_rows: str = "keep",
) -> ProtocolReport:
    """The probe-stage report of ``model`` on release ``dataset`` (activations from the store)."""
    from truthstab.activations.store import ActivationStore
    from truthstab.data.registry import get_release, load_frame
    from truthstab.models.loading import load_model
    from truthstab.probe_inputs import gather_probe_inputs, layer_policy
    from truthstab.probes import input_kind, make_probe
    from truthstab.protocol import run_protocol

    specs = [make_probe(p, seed) for p in probes]  # fail on a bad probe name before loading anything
    release = get_release(dataset)
    wanted = list(domains) if domains else list(release.domains)
    unknown = sorted(set(wanted) - set(release.domains))
    if unknown:
        raise ProbeError(f"release {release.ref} has no domain {unknown[0]!r}: pick from {release.domains}")
    loaded = load_model(model, revision, dtype, device, False, "auto")
    policy = layer_policy(layers, model, loaded.spec.n_layers)
    frames = {d: load_frame(release, domain=d) for d in wanted}
    inputs = gather_probe_inputs(
        ActivationStore(cache_dir),
        loaded,
        frames,
        release.sha256,
        policy,
        needs_bags=any(input_kind(p) == "bags" for p in specs),
        seed=seed,
        mode=mode,
        batch_size=batch_size,
        progress=progress,
    )
    acts, chosen = inputs.acts, inputs.layers
    return run_protocol(
        acts,
        list(probes),
        layers=chosen if policy.chooses_fixed else None,
        mode=mode,
        seed=seed,
        n_bootstrap=n_bootstrap,
        sweep=False,
        progress=progress,
        curves=inputs.curves,
        n_refits=n_refits,
        noise_rows=noise_rows,
    )


def write_report(report: ProtocolReport, path: Path) -> None:
    """Write the report as JSON atomically (temporary file in the same folder, then rename)."""
    atomic_write_text(Path(path), report.model_dump_json(indent=1))
