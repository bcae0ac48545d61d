"""The versioned result schema: one JSON per scored run, read by every tool downstream.

A result carries its full provenance (model sha, dataset version and sha256, harness version and git
hash, seeds, library versions) so that any number on the leaderboard can be traced back to statements
through the per-statement predictions side file.

Headline scores (all in percent, higher stability is better):

* ``unfamiliar_stability`` = 100 x (1 - r_syn), where r_syn is the retraction rate of the primary probe
  under task 1 (True + Synthetic) with the baseline-True denominator, averaged over domains;
* ``familiar_stability`` = 100 x (1 - r_fic), likewise for task 2 (True + Fictional);
* ``truth_stability`` = the mean of the two;
* ``familiarity_gap`` = 100 x (r_syn - r_fic), in percentage points (positive: unfamiliar statements
  move the boundary more than familiar ones, the paper's finding);
* ``noise_control`` = 100 x r_noise, the retraction rate under task 4 (True + Noise), which should stay
  near zero: a large value means the probe is fragile to any relabelling at all;
* ``baseline_ap`` = average precision of the baseline (task 0) probe on the test split, mean over domains.

Each comes with a 95 % percentile bootstrap interval over test statements (seeded; the resamples are
drawn per domain and shared by every task, so the draws of different tasks are paired).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from truthstab.errors import ResultError

#: Bump the major part on any incompatible change; readers refuse other majors.
SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Estimate(_Model):
    """A point estimate with its 95 % bootstrap confidence interval."""

    value: float
    ci_low: float
    ci_high: float

    @model_validator(mode="after")
    def _ordered(self) -> Estimate:
        if math.isnan(self.value):  # undefined (e.g. no baseline-True statement): reported, with a warning
            return self
        if not (self.ci_low - 1e-9 <= self.value <= self.ci_high + 1e-9):
            raise ValueError(
                f"estimate {self.value} lies outside its interval [{self.ci_low}, {self.ci_high}]"
            )
        return self


class DomainHeadline(_Model):
    """The headline quantities of one domain."""

    unfamiliar_stability: Estimate
    familiar_stability: Estimate
    truth_stability: Estimate
    familiarity_gap: Estimate
    noise_control: Estimate
    baseline_ap: Estimate
    n_true_test: int = Field(ge=0, description="true test statements (the retraction denominator pool)")
    n_baseline_true: int = Field(ge=0, description="true test statements the baseline probe calls True")


class Headline(_Model):
    """The scores the leaderboard ranks by (see the module docstring for definitions)."""

    probe: str
    truth_stability: Estimate
    unfamiliar_stability: Estimate
    familiar_stability: Estimate
    familiarity_gap: Estimate
    noise_control: Estimate
    baseline_ap: Estimate
    per_domain: dict[str, DomainHeadline]
    warnings: list[str] = Field(default_factory=list)


class ModelRecord(_Model):
    id: str
    alias: str | None = None
    revision_sha: str
    dtype: str
    device: str
    architecture: str
    model_type: str
    is_encoder: bool
    is_instruct: bool
    uses_chat_template: bool
    chat_template_sha256: str | None = None
    n_layers: int
    hidden_size: int
    n_parameters: int
    quantization_note: str | None = None
    source: str


class DatasetRecord(_Model):
    name: str
    version: str
    sha256: str
    domains: list[str]


class HarnessRecord(_Model):
    version: str
    git_hash: str | None
    git_dirty: bool | None


class ProtocolRecord(_Model):
    mode: Literal["fixed", "faithful"]
    probes: list[str]
    primary_probe: str
    layer_policy: str
    layers: dict[str, int]
    sweep_curves: dict[str, list[float | None]] = Field(default_factory=dict)
    seed: int
    seeds: dict[str, int] = Field(default_factory=dict)
    n_bootstrap: int
    batch_size: str
    padding_side: str
    pooling: str
    options: dict[str, Any] = Field(default_factory=dict)


class EnvironmentRecord(_Model):
    device: str
    python: str
    platform: str
    libraries: dict[str, str]


class Result(_Model):
    """One scored run."""

    schema_version: str = SCHEMA_VERSION
    created_at: datetime
    model: ModelRecord
    dataset: DatasetRecord
    harness: HarnessRecord
    protocol: ProtocolRecord
    environment: EnvironmentRecord
    timings: dict[str, float]
    headline: Headline
    headline_bootstrap: dict[str, list[float]] = Field(
        default_factory=dict, description="per-resample headline values, paired across tasks and runs"
    )
    metrics: dict[str, Any] = Field(description="the full protocol report (truthstab.reports)")
    predictions_file: str = Field(description="Parquet side file, relative to the result file")
    figures: list[str] = Field(default_factory=list, description="figure files, relative to the result")


def _check_version(data: dict, path: Path) -> None:
    found = str(data.get("schema_version", "missing"))
    if found.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ResultError(
            f"{path}: result schema {found} is incompatible with this truthstab (schema {SCHEMA_VERSION}); "
            "re-score the model or use a matching truthstab version"
        )


def read_result(path: str | Path) -> Result:
    """Read and validate a result file; a malformed or incompatible file raises ResultError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ResultError(f"{path}: no such result file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultError(
            f"{path}: not valid JSON ({exc}); the file is corrupted, re-score the model"
        ) from exc
    if not isinstance(data, dict):
        raise ResultError(f"{path}: a result file holds a JSON object, found {type(data).__name__}")
    _check_version(data, path)
    try:
        return Result.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ResultError(
            f"{path}: field {where!r}: {first['msg']} ({exc.error_count()} problem(s))"
        ) from exc


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump_result(result: Result) -> str:
    """The canonical JSON text of a result (sorted keys, so equal results give equal bytes)."""
    return json.dumps(result.model_dump(mode="json"), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_result(result: Result, path: str | Path) -> Path:
    """Write a result file atomically and return its path."""
    path = Path(path)
    atomic_write_text(path, dump_result(result))
    return path
