"""Seeds derived from a run's base seed and names, so every random stage is reproducible on its own."""

from __future__ import annotations

import zlib

import numpy as np


def sub_seed(seed: int, *parts: str | int) -> int:
    """A seed derived deterministically from a base seed and names (domain, layer, purpose)."""
    keys = [seed] + [zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence(keys).generate_state(1)[0])
