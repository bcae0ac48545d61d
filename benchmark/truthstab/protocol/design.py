"""One domain's design: statements and noise rows as arrays, standardised with training statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truthstab.activations.types import ActivationSet, TokenBags
from truthstab.data.schema import Split
from truthstab.errors import ProbeError
from truthstab.protocol.noise import NOISE_FRACTION, NOISE_KIND, check_finite, make_noise, standardise
from truthstab.results.probe import (
    NoiseInfo,
)
from truthstab.seeds import sub_seed


@dataclass(frozen=True)
class DomainDesign:
    """Rows of one domain at one layer, noise appended, features standardised with training statistics."""

    domain: str
    layer: int
    ids: np.ndarray
    kinds: np.ndarray
    fiction_truth: np.ndarray
    split: np.ndarray
    last: np.ndarray
    bags: TokenBags | None
    noise: NoiseInfo


def _statement_columns(acts: ActivationSet, domain: str) -> tuple[np.ndarray, ...]:
    df = acts.statements
    missing = [c for c in ("id", "kind", "fiction_truth", "split") if c not in df.columns]
    if missing:
        raise ProbeError(f"domain {domain!r}: statements lack columns {missing}; pass a release DataFrame")
    return (
        df["id"].astype(str).to_numpy(dtype=object),
        df["kind"].astype(str).to_numpy(dtype=object),
        df["fiction_truth"].fillna("").astype(str).to_numpy(dtype=object),
        df["split"].astype(str).to_numpy(dtype=object),
    )


def build_design(
    acts: ActivationSet, domain: str, layer: int, seed: int, with_bags: bool, with_noise: bool = True
) -> DomainDesign:
    """Append the seeded noise control (unless ``with_noise`` is False) to a domain's rows at ``layer`` and
    standardise the features."""
    if layer not in acts.last:
        raise ProbeError(
            f"domain {domain!r}: no activations for layer {layer}; choose one of {sorted(acts.last)}"
        )
    if with_bags and layer not in acts.bags:
        raise ProbeError(
            f"domain {domain!r}: no token bags for layer {layer}; extract bags for the chosen layer "
            "or drop bag probes (sawmil)"
        )
    ids, kinds, ft, split = _statement_columns(acts, domain)
    train = split == Split.TRAIN
    last = np.asarray(acts.last[layer], dtype=np.float32)
    check_finite(last, f"domain {domain!r} layer {layer} last-token activations")
    bags = acts.bags.get(layer) if with_bags else None
    train_bags = bags.subset(np.flatnonzero(train)) if bags is not None else None
    if bags is not None:
        check_finite(bags.vectors, f"domain {domain!r} layer {layer} token bags")
    n_noise = round(NOISE_FRACTION * len(ids)) if with_noise else 0
    noise_seed = sub_seed(seed, "noise", domain, layer)
    noise = make_noise(
        last[train], np.asarray(acts.mean.get(layer, last))[train], train_bags, n_noise, noise_seed
    )
    all_last = np.concatenate([last, noise.last])
    all_split = np.concatenate([split, noise.split])
    all_train = all_split == Split.TRAIN
    std_last = standardise(all_last, all_last[all_train])
    std_bags = None
    if bags is not None:
        vectors = np.concatenate([bags.vectors, noise.bags.vectors])
        offsets = np.concatenate([bags.offsets, bags.offsets[-1] + noise.bags.offsets[1:]])
        joined = TokenBags(vectors=vectors, offsets=offsets)
        train_tokens = joined.subset(np.flatnonzero(all_train)).vectors
        std_bags = TokenBags(vectors=standardise(vectors, train_tokens), offsets=offsets)
    info = NoiseInfo(
        domain=domain,
        layer=layer,
        n=n_noise,
        seed=noise_seed,
        n_train=int((noise.split == Split.TRAIN).sum()),
        n_calibration=int((noise.split == Split.CALIBRATION).sum()),
        n_test=int((noise.split == Split.TEST).sum()),
    )
    return DomainDesign(
        domain=domain,
        layer=layer,
        ids=np.concatenate([ids, np.array([f"noise-{i:05d}" for i in range(n_noise)], dtype=object)]),
        kinds=np.concatenate([kinds, np.full(n_noise, NOISE_KIND, dtype=object)]),
        fiction_truth=np.concatenate([ft, np.full(n_noise, "", dtype=object)]),
        split=all_split,
        last=std_last,
        bags=std_bags,
        noise=info,
    )
