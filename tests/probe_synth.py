"""Constructed activation sets for the probe-stage tests: clusters whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from truthstab.activations.types import ActivationSet, TokenBags


def make_acts(
    centres: dict[str, np.ndarray],
    counts: dict[str, int],
    dim: int = 6,
    spread: float = 0.5,
    seed: int = 0,
    layers: tuple[int, ...] = (0,),
    bag_len: tuple[int, int] = (3, 6),
    signal_layer: int | None = None,
) -> ActivationSet:
    """An ActivationSet with one Gaussian cluster per row class (kind or fictional:true/false).

    ``centres`` maps a row class to its centre (length ``dim``). Rows get a seeded 50/25/25 split per
    class. Bags: filler tokens around 0, and the statement's last-token vector as the last two tokens.
    With several layers, only ``signal_layer`` (default: the last) carries the clusters; others are noise.
    """
    rng = np.random.default_rng(seed)
    rows, vecs = [], []
    for cls, n in counts.items():
        kind, _, ft = cls.partition(":")
        split = np.array(["train"] * (n // 2) + ["calibration"] * (n // 4) + ["test"] * (n - n // 2 - n // 4))
        rng.shuffle(split)
        for i in range(n):
            rows.append(
                {
                    "id": f"{cls}-{i:04d}",
                    "domain": "cities",
                    "kind": kind,
                    "truth": "",
                    "fiction_truth": ft,
                    "split": split[i],
                    "negated": False,
                }
            )
            vecs.append(centres[cls] + spread * rng.standard_normal(dim))
    last = np.array(vecs, dtype=np.float32)
    df = pd.DataFrame(rows)
    signal_layer = layers[-1] if signal_layer is None else signal_layer
    lasts = {
        k: last if k == signal_layer else rng.standard_normal(last.shape).astype(np.float32) for k in layers
    }
    lengths = rng.integers(bag_len[0], bag_len[1] + 1, len(df))
    parts = []
    for i, n in enumerate(lengths):
        filler = 0.3 * rng.standard_normal((n - 2, dim))
        parts.append(np.vstack([filler, last[i], last[i] + 0.05 * rng.standard_normal(dim)]))
    bags = TokenBags(
        np.vstack(parts).astype(np.float32), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    )
    return ActivationSet(
        statements=df,
        layers=tuple(layers),
        last=lasts,
        mean=dict(lasts),
        bags={signal_layer: bags},
    )


def e(i: int, scale: float = 1.0, dim: int = 6) -> np.ndarray:
    """scale times the i-th unit vector."""
    v = np.zeros(dim)
    v[i] = scale
    return v
