"""Extract a dataset release's activations into the store: what `truthstab activations extract` runs."""

from __future__ import annotations

import re
import time
from pathlib import Path

from truthstab.activations.store import ActivationStore
from truthstab.errors import ActivationError


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


def extract_release(
    model: str,
    dataset: str,
    domains: list[str] | None = None,
    layers: str = "all",
    bag_layers: str = "",
    batch_size: int | str = "auto",
    dtype: str = "auto",
    device: str = "auto",
    revision: str | None = None,
    trust_remote_code: bool = False,
    chat_template: str = "auto",
    progress: bool = True,
    cache_dir: Path | None = None,
) -> list[dict]:
    """Load ``model``, and store the activations of every (chosen) domain of release ``dataset``.

    Returns one summary per domain: statements, layers, seconds, statements/s, store entries.
    """
    from truthstab.data.registry import get_release, load_frame
    from truthstab.models.loading import load_model

    release = get_release(dataset)
    wanted = domains or release.domains
    unknown = sorted(set(wanted) - set(release.domains))
    if unknown:
        raise ActivationError(
            f"release {release.ref} has no domain {unknown[0]!r}: pick from {release.domains}"
        )
    loaded = load_model(model, revision, dtype, device, trust_remote_code, chat_template)
    pooled = parse_layers(layers, loaded.spec.n_layers)
    bags = parse_layers(bag_layers, loaded.spec.n_layers) or []
    store = ActivationStore(cache_dir)
    out = []
    for domain in wanted:
        frame = load_frame(release, domain=domain)
        start = time.perf_counter()
        acts = store.get_or_extract(
            loaded,
            frame,
            release.sha256,
            domain,
            layers=pooled,
            bag_layers=bags,
            batch_size=batch_size,
            progress=progress,
        )
        seconds = time.perf_counter() - start
        out.append(
            {
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
        )
        del acts  # free this domain's arrays before the next domain's are read (peak memory: one domain)
    return out
