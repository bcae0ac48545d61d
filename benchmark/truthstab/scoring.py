"""The score pipeline: dataset -> model -> activations -> layer choice -> probes -> metrics -> result.

Every stage is restartable: activations come from the resumable on-disk store, the probe stage is
deterministic given its seed, and the run folder is written to a temporary sibling and renamed into place,
so an interrupted run leaves nothing half-written and a rerun gives identical numbers.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from truthstab.errors import ProbeError, TruthstabError
from truthstab.results import Result

PROBE_NAMES = ("sawmil", "mean-diff", "logistic")
PRIMARY_PROBE_ORDER = ("sawmil", "mean-diff", "logistic")


class ScoreConfig(BaseModel):
    """Everything that defines a scoring run (recorded in the result's protocol section)."""

    model_config = ConfigDict(extra="forbid")

    model: str = "smollm2-135m"
    revision: str | None = None
    dataset: str = "truthstab"
    probes: list[str] = Field(default_factory=lambda: list(PROBE_NAMES))
    layers: str = "auto"
    protocol: Literal["fixed", "faithful"] = "fixed"
    dtype: str = "auto"
    device: str = "auto"
    batch_size: str = "auto"
    seed: int = 0
    n_bootstrap: int = Field(default=1000, ge=10)
    domains: list[str] | None = None
    max_per_kind: int | None = Field(
        default=None, ge=1, description="cap statements per domain, kind and split"
    )
    out: Path = Path("submissions")
    trust_remote_code: bool = False
    chat_template: Literal["auto", "on", "off"] = "auto"
    cache_dir: Path | None = None

    @field_validator("probes")
    @classmethod
    def _probes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one probe is needed")
        return value

    @field_validator("layers")
    @classmethod
    def _layers(cls, value: str) -> str:
        if value in ("auto", "paper") or all(p.strip().isdigit() for p in value.split(",")):
            return value
        raise ValueError(f"layers must be auto, paper or a comma-separated list of integers, not {value!r}")

    @field_validator("batch_size")
    @classmethod
    def _batch(cls, value: str) -> str:
        if value == "auto" or (value.isdigit() and int(value) > 0):
            return value
        raise ValueError(f"batch size must be auto or a positive integer, not {value!r}")


class ScoreOutput(BaseModel):
    """What a scoring run produced."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    result_path: Path
    run_dir: Path
    result: Result


class StageTimer:
    """Times the pipeline's stages and reports them on one running display."""

    def __init__(self, n_stages: int, echo: Callable[[str], None] | None) -> None:
        self.n_stages = n_stages
        self.echo = echo
        self.timings: dict[str, float] = {}
        self._index = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._index += 1
        if self.echo:
            self.echo(f"[{self._index}/{self.n_stages}] {name} ...")
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        if self.echo:
            self.echo(f"[{self._index}/{self.n_stages}] {name}: done in {self.timings[name]:.1f} s")


def primary_probe(probes: list[str]) -> str:
    """The probe the headline uses: sAwMIL (the paper's) when run, else the first of the preference order."""
    for name in PRIMARY_PROBE_ORDER:
        if name in probes:
            return name
    return probes[0]


def parse_layers(value: str) -> str | list[int]:
    """``auto``/``paper`` as given, else the list of layer indices."""
    if value in ("auto", "paper"):
        return value
    return [int(p) for p in value.split(",")]


def replace_dir(tmp: Path, final: Path) -> None:
    """Move a fully written folder into place, replacing an older run of the same tag."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{time.time_ns()}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def new_tmp_dir(parent: Path, tag: str) -> Path:
    """A temporary folder beside the final one (same file system, so the rename is atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".tmp-{tag}-", dir=parent))


def now_utc() -> datetime:
    """The creation time recorded in results (seconds resolution)."""
    return datetime.now(UTC).replace(microsecond=0)


def check_probes(probes: list[str]) -> None:
    """Every probe is a known name or a ``module:Class`` plug-in."""
    for name in probes:
        if name not in PROBE_NAMES and ":" not in name:
            raise ProbeError(f"unknown probe {name!r}: use {', '.join(PROBE_NAMES)} or module:Class")


__all__ = ["ScoreConfig", "ScoreOutput", "TruthstabError", "score"]


def score(
    config: ScoreConfig, progress: bool = True, echo: Callable[[str], None] | None = print
) -> ScoreOutput:
    """Score one model on one release and write its result folder; see the module docstring."""
    from truthstab.score_pipeline import run_pipeline  # heavy imports (torch) only when scoring

    check_probes(config.probes)
    return run_pipeline(config, progress=progress, echo=echo)
