"""`truthstab probe run`: the probe stage alone on a release's cached (or freshly extracted) activations.

Loads the model (for the cache key), reads the activations from the store (extracting only what is
missing), chooses layers (auto sweep, the paper's table, or a given list), fetches the token bags of the
chosen layers when a bag probe runs, and calls :func:`truthstab.protocol.run_protocol`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from truthstab.activations.types import ActivationSet
from truthstab.errors import ProbeError
from truthstab.reports import ProtocolReport

DEFAULT_PROBES: tuple[str, ...] = ("sawmil", "mean-diff", "logistic")


def _layer_policy(layers: str, model: str, n_layers: int) -> tuple[list[int] | None, dict[str, int] | None]:
    """(layers to extract, None = all; fixed layer per domain or None = choose by the sweep)."""
    from truthstab.activations.run import parse_layers

    if layers == "auto":
        return None, None
    if layers == "paper":
        from truthstab.models.registry import resolve_alias

        info = resolve_alias(model)
        if info is None or not info.paper_layers:
            raise ProbeError(
                f"--layers paper needs one of the paper's models (method.md §10); {model!r} is not: "
                "use --layers auto or a list"
            )
        return sorted(set(info.paper_layers.values())), dict(info.paper_layers)
    wanted = parse_layers(layers, n_layers)
    if not wanted:
        raise ProbeError("--layers is empty: use auto, paper, or a list like 12 or 10-20")
    return wanted, None


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
) -> ProtocolReport:
    """The probe-stage report of ``model`` on release ``dataset`` (activations from the store)."""
    from truthstab.activations.store import ActivationStore
    from truthstab.data.registry import get_release, load_frame
    from truthstab.models.loading import load_model
    from truthstab.probes import input_kind, make_probe
    from truthstab.protocol import run_protocol, select_layers

    specs = [make_probe(p, seed) for p in probes]  # fail on a bad probe name before loading anything
    release = get_release(dataset)
    wanted = list(domains) if domains else list(release.domains)
    unknown = sorted(set(wanted) - set(release.domains))
    if unknown:
        raise ProbeError(f"release {release.ref} has no domain {unknown[0]!r}: pick from {release.domains}")
    loaded = load_model(model, revision, dtype, device, False, "auto")
    extract, fixed = _layer_policy(layers, model, loaded.spec.n_layers)
    store = ActivationStore(cache_dir)
    frames = {d: load_frame(release, domain=d) for d in wanted}

    def get(domain: str, pooled, bag_layers=()) -> ActivationSet:
        return store.get_or_extract(
            loaded,
            frames[domain],
            release.sha256,
            domain,
            layers=pooled,
            bag_layers=bag_layers,
            batch_size=batch_size,
            progress=progress,
        )

    acts = {d: get(d, extract) for d in wanted}
    if fixed is not None:
        chosen = {d: fixed[d] for d in wanted}
    elif extract is not None and len(extract) == 1:
        chosen = dict.fromkeys(wanted, extract[0])
    else:
        chosen, _ = select_layers(acts, seed, mode)
    if any(input_kind(p) == "bags" for p in specs):
        for d in wanted:
            bagged = get(d, [chosen[d]], [chosen[d]])
            a = acts[d]
            acts[d] = ActivationSet(a.statements, a.layers, a.last, a.mean, bagged.bags, a.meta)
    return run_protocol(
        acts,
        list(probes),
        layers=chosen,
        mode=mode,
        seed=seed,
        n_bootstrap=n_bootstrap,
        sweep=True,
        progress=progress,
    )


def write_report(report: ProtocolReport, path: Path) -> None:
    """Write the report as JSON atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(report.model_dump_json(indent=1))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
