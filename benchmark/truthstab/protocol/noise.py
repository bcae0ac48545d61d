"""The noise control (method.md §5): Gaussian rows from training statistics, and feature standardisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truthstab.activations.types import TokenBags
from truthstab.errors import ActivationError

NOISE_FRACTION = 0.1

#: The kind of the generated noise-control rows (not a release kind: releases hold no noise rows).
NOISE_KIND = "noise"


@dataclass(frozen=True)
class NoiseRows:
    """Noise-control rows of one (domain, layer): Gaussian vectors from training statistics, with a split."""

    last: np.ndarray
    mean: np.ndarray
    bags: TokenBags | None
    split: np.ndarray


def _gauss(rng: np.random.Generator, ref: np.ndarray, n: int) -> np.ndarray:
    """n vectors with ref's per-dimension mean and std (float32)."""
    mu = ref.mean(axis=0, dtype=np.float64)
    sd = ref.std(axis=0, dtype=np.float64)
    return (mu + sd * rng.standard_normal((n, ref.shape[1]))).astype(np.float32)


def make_noise(
    train_last: np.ndarray, train_mean: np.ndarray, train_bags: TokenBags | None, n: int, seed: int
) -> NoiseRows:
    """The noise control of method.md §5: n Gaussian rows per representation, seeded, split 50/25/25.

    Last-token and mean vectors follow the training rows' per-dimension mean and std; bags draw token
    vectors from the training tokens' statistics, with lengths resampled from the training bag lengths.
    """
    rng = np.random.default_rng(seed)
    last = _gauss(rng, train_last, n)
    mean = _gauss(rng, train_mean, n)
    bags = None
    if train_bags is not None:
        lengths = rng.choice(train_bags.lengths(), size=n, replace=True)
        vectors = _gauss(rng, train_bags.vectors, int(lengths.sum()))
        bags = TokenBags(vectors=vectors, offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    split = np.empty(n, dtype=object)
    perm = rng.permutation(n)
    n_train, n_cal = n // 2, n // 4
    split[perm[:n_train]] = "train"
    split[perm[n_train : n_train + n_cal]] = "calibration"
    split[perm[n_train + n_cal :]] = "test"
    return NoiseRows(last=last, mean=mean, bags=bags, split=split)


def check_finite(arr: np.ndarray, what: str) -> None:
    if not np.isfinite(arr).all():
        raise ActivationError(
            f"{what} holds non-finite values; re-extract the activations (store bfloat16, not float16)"
        )


def standardise(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(x - mean) / std with training statistics (float32; constant dimensions left unscaled)."""
    mu = train.mean(axis=0, dtype=np.float64)
    sd = train.std(axis=0, dtype=np.float64)
    sd[sd < 1e-12] = 1.0
    return ((x - mu) / sd).astype(np.float32)
