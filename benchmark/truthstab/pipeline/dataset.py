"""The dataset stage: a release and its statements per domain (for quick runs, a seeded sample)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from truthstab.errors import DatasetError, TruthstabError
from truthstab.pipeline.config import RunConfig

if TYPE_CHECKING:
    import pandas as pd

    from truthstab.data.registry import Release


def subsample(frame: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """A seeded sample of every (kind, split) group, for quick runs; the whole frame otherwise.

    ``sample_fraction`` keeps the release's proportions of kinds (which set how strongly a perturbation
    pulls on the boundary); ``max_per_kind`` caps each group, which equalises them.
    """
    if not (config.max_per_kind or config.sample_fraction):
        return frame
    shuffled = frame.sample(frac=1.0, random_state=config.seed)
    groups = shuffled.groupby(["kind", "split"], sort=True)
    if config.sample_fraction:
        sizes = groups["id"].transform("size")
        keep = groups.cumcount() < (sizes * config.sample_fraction).round().clip(lower=1)
        shuffled = shuffled[keep]
        groups = shuffled.groupby(["kind", "split"], sort=True)
    if config.max_per_kind:
        shuffled = groups.head(config.max_per_kind)
    return shuffled.sort_values("id").reset_index(drop=True)


def subset_tag(config: RunConfig, frames: dict[str, pd.DataFrame], release: Release) -> str:
    """How a partial run sampled the release, for its folder name (empty for a full run)."""
    parts = []
    if config.sample_fraction:
        parts.append(f"frac{config.sample_fraction:g}")
    if config.max_per_kind:
        parts.append(f"max{config.max_per_kind}")
    if sorted(frames) != sorted(release.domains):
        parts.append("-".join(sorted(frames)))  # "+" is not allowed in a folder name (run_layout)
    return "_".join(parts)


def load_frames(config: RunConfig) -> tuple[Release, dict[str, pd.DataFrame]]:
    """A score's release and its statements per domain (optionally sampled per kind and split, seeded)."""
    from truthstab.data.registry import get_release, load_frame

    release = get_release(config.dataset)
    domains = config.domains or list(release.domains)
    unknown = sorted(set(domains) - set(release.domains))
    if unknown:
        raise DatasetError(
            f"release {release.ref} has no domain(s) {unknown}; it has {sorted(release.domains)}"
        )
    frames = {}
    for domain in domains:
        frame = load_frame(release, domain=domain)
        frames[domain] = subsample(frame, config)
    return release, frames


def pick_domains(release: Release, config: RunConfig, error: type[TruthstabError]) -> list[str]:
    """The domains a probe run or an extraction reads: the configured ones, else all of the release's.

    An unknown domain raises ``error``, the class its command has always raised (ProbeError for `probe
    run`, ActivationError for `activations extract`).
    """
    wanted = list(config.domains) if config.domains else list(release.domains)
    unknown = sorted(set(wanted) - set(release.domains))
    if unknown:
        raise error(f"release {release.ref} has no domain {unknown[0]!r}: pick from {release.domains}")
    return wanted
