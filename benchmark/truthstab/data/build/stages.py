"""What every release recipe's builder shares: a domain's real sources, and the seed of each stage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from truthstab.data.build.facts import Fact


@dataclass(frozen=True)
class DomainSource:
    """A domain's real facts, with the pool of false objects and the names synthetic ones must avoid."""

    facts: list[Fact]
    pool: dict[str, dict[str, frozenset[str]]]
    real_names: list[str]
    parameters: dict


def stage_seed(seed: int, label: str) -> int:
    """The seed of one stage, derived from the release seed (independent of PYTHONHASHSEED)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{label}".encode()).digest()[:8], "big")
