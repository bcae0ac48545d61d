"""Extract a dataset release's activations into the store: what `truthstab activations extract` runs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from truthstab.errors import ActivationError
from truthstab.pipeline.config import RunConfig
from truthstab.pipeline.dataset import pick_domains
from truthstab.pipeline.layers import parse_layers
from truthstab.pipeline.model import load_run_model

if TYPE_CHECKING:
    from truthstab.activations.store import ActivationStore
    from truthstab.data.registry import Release
    from truthstab.models.loading import LoadedModel


def extract_release(config: RunConfig, progress: bool = True) -> list[dict]:
    """Load ``config.model``, and store the activations of every (chosen) domain of ``config.dataset``:
    ``config.layers`` pooled (all, or a list) and the token bags of ``config.bag_layers``.

    Returns one summary per domain: statements, layers, seconds, statements/s, store entries.
    """
    from truthstab.activations.store import ActivationStore
    from truthstab.data.registry import get_release

    config.require("extract")
    release = get_release(config.dataset)
    domains = pick_domains(release, config, ActivationError)
    loaded = load_run_model(config)
    pooled = parse_layers(config.layers, loaded.spec.n_layers)
    bags = parse_layers(config.bag_layers, loaded.spec.n_layers) or []
    store = ActivationStore(config.cache_dir)
    return [
        _extract_domain(config, store, loaded, release, domain, pooled, bags, progress) for domain in domains
    ]


def _extract_domain(
    config: RunConfig,
    store: ActivationStore,
    loaded: LoadedModel,
    release: Release,
    domain: str,
    pooled: list[int] | None,
    bags: list[int],
    progress: bool,
) -> dict:
    """Store one domain's activations (``pooled`` layers, None for all; ``bags``' token bags) and
    summarise how it went."""
    from truthstab.data.registry import load_frame

    frame = load_frame(release, domain=domain)
    start = time.perf_counter()
    acts = store.get_or_extract(
        loaded,
        frame,
        release.sha256,
        domain,
        layers=pooled,
        bag_layers=bags,
        batch_size=config.batch,
        progress=progress,
    )
    seconds = time.perf_counter() - start
    # Only the summary leaves: this domain's arrays are freed before the next domain's are read, so the
    # peak memory is one domain's.
    return {
        "model": loaded.spec.alias or loaded.spec.id,
        "revision": loaded.spec.revision_sha,
        "dataset": release.ref,
        "domain": domain,
        "statements": len(frame),
        "layers": len(acts.layers),
        "bag_layers": sorted(acts.bags),
        "seconds": round(seconds, 2),
        "statements_per_s": round(len(frame) / seconds, 1) if seconds > 0 else None,
        "store_entries": acts.meta["store_entries"],
        "weights": loaded.spec.quantization_note or loaded.spec.dtype,
    }
