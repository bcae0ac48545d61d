"""The in-memory activation set: the interface between the activation store and the probe stage."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TokenBags:
    """All real-token vectors of N statements, stored flat: bag i is ``vectors[offsets[i]:offsets[i+1]]``."""

    vectors: np.ndarray  # (T, D) float32
    offsets: np.ndarray  # (N + 1,) int64, offsets[0] == 0, offsets[-1] == T

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def bag(self, i: int) -> np.ndarray:
        """The (n_tokens_i, D) vectors of statement i."""
        return self.vectors[self.offsets[i] : self.offsets[i + 1]]

    def lengths(self) -> np.ndarray:
        """Number of real tokens per statement."""
        return np.diff(self.offsets)

    def subset(self, index: np.ndarray) -> TokenBags:
        """The bags of the statements at ``index`` (in that order)."""
        parts = [self.bag(int(i)) for i in index]
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        vectors = np.concatenate(parts) if parts else self.vectors[:0]
        return TokenBags(vectors=vectors, offsets=offsets)


@dataclass(frozen=True)
class ActivationSet:
    """Activations of one model on a set of statements, row-aligned with ``statements``.

    ``statements`` holds at least the release columns ``id, domain, kind, truth, fiction_truth, split,
    negated``. ``last[l]`` and ``mean[l]`` are (N, D) float32 arrays for decoder block ``l`` (0-based; the
    residual output of that block, ``hidden_states[l + 1]``); ``bags[l]`` holds every real-token vector
    for the layers where bags were extracted.
    """

    statements: pd.DataFrame
    layers: tuple[int, ...]
    last: dict[int, np.ndarray]
    mean: dict[int, np.ndarray]
    bags: dict[int, TokenBags] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.statements)
        for name, table in (("last", self.last), ("mean", self.mean)):
            for layer, arr in table.items():
                if arr.shape[0] != n:
                    raise ValueError(f"{name}[{layer}] has {arr.shape[0]} rows for {n} statements")
        for layer, bags in self.bags.items():
            if len(bags) != n:
                raise ValueError(f"bags[{layer}] has {len(bags)} bags for {n} statements")
