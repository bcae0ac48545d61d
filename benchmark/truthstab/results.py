"""The versioned result schema: one JSON per scored run, read by every tool downstream.

A result carries its full provenance (model sha, dataset version and sha256, harness version and git
hash, seeds, library versions) so that any number on the leaderboard can be traced back to statements
through the per-statement predictions side file.

Headline scores (all in percent; docs/method.md, "Fit-aware stability"). Every stability number is
*fit-aware*: the primary probe is refitted for every task on R bootstrap resamples of the training rows,
and a perturbation's retraction rate is compared with the *refit null*, the rate that refitting the baseline
alone produces. Per domain, on the true test statements, with baseline-True denominators:

* ``refit_null`` = 100 x RR_null, the mean over refit pairs r != r' of the share of statements the
  baseline refit r calls True and the baseline refit r' does not: what fitting alone retracts;
* ``unfamiliar_retraction`` = 100 x RR_syn, the mean over refits of task 1's (True + Synthetic) retraction
  rate against the same refit's baseline; ``familiar_retraction`` likewise for task 2 (True + Fictional);
* ``unfamiliar_excess`` = 100 x (RR_syn - RR_null) and ``familiar_excess`` = 100 x (RR_fic - RR_null), in
  percentage points: what the perturbation retracts beyond fit noise;
* ``unfamiliar_stability`` = 100 - unfamiliar_excess, ``familiar_stability`` = 100 - familiar_excess,
  ``truth_stability`` = their mean (100: a perturbation retracts no more than refitting does; above 100:
  less, within noise);
* ``familiarity_gap`` = 100 x (RR_syn - RR_fic) (the null cancels): positive when unfamiliar statements
  move the boundary more than familiar ones, the paper's finding;
* ``noise_control`` = 100 x RR_noise under task 4 (True + Noise). Gaussian rows with the training
  statistics are linearly separable from real activations, so this measures how a probe treats rows
  off the data manifold, not robustness to relabelling; the refit null is the control the board shows;
* ``baseline_ap`` = average precision of the full-data baseline probe on the test split (``chance_ap``:
  the share of true statements among the test rows, the AP of a random score).

``truth_ap`` = the same probe's AP on true against false test statements alone (chance: their true
share, 0.5): what measurability uses, since synthetic, fictional and noise rows differ from true ones on
the surface and a network that knows nothing still ranks true statements above them.

A domain is *measurable* when its true-vs-false AP is at least chance + 0.10, its baseline calls at least 30
true test statements True, and its refit null is at most 15 %; the model-level values average the
measurable domains only, and are None when no domain is measurable (the warnings say why); the model-level
``baseline_ap`` averages every scored domain (probe quality is no stability claim).
Intervals are 95 % percentiles of a joint bootstrap over true test statements and refits (refit pairs
for the null), seeded by (seed, domain): paired across tasks, probes and models on the same release.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from truthstab.behaviour.agreement import TrackAgreement
from truthstab.behaviour.report import BehaviouralReport
from truthstab.errors import ResultError
from truthstab.fileio import atomic_write_text

#: Bump the major part on any incompatible change; readers refuse other majors.
SCHEMA_VERSION = "2.1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Estimate(_Model):
    """A point estimate with its 95 % bootstrap confidence interval."""

    value: float
    ci_low: float
    ci_high: float

    @model_validator(mode="after")
    def _ordered(self) -> Estimate:
        if not all(math.isfinite(v) for v in (self.value, self.ci_low, self.ci_high)):
            raise ValueError("an estimate is finite; an undefined quantity is None, not NaN")
        if not (self.ci_low - 1e-9 <= self.value <= self.ci_high + 1e-9):
            raise ValueError(
                f"estimate {self.value} lies outside its interval [{self.ci_low}, {self.ci_high}]"
            )
        return self


class DomainHeadline(_Model):
    """The headline quantities of one domain (None where undefined; see the module docstring)."""

    truth_stability: Estimate | None
    unfamiliar_stability: Estimate | None
    familiar_stability: Estimate | None
    familiarity_gap: Estimate | None
    unfamiliar_excess: Estimate | None = Field(description="RR_syn - RR_null, percentage points")
    familiar_excess: Estimate | None = Field(description="RR_fic - RR_null, percentage points")
    unfamiliar_retraction: Estimate | None = Field(description="fit-aware RR_syn, percent")
    familiar_retraction: Estimate | None = Field(description="fit-aware RR_fic, percent")
    refit_null: Estimate | None = Field(description="RR_null: what refitting alone retracts, percent")
    noise_control: Estimate | None = Field(description="fit-aware retraction under True + Noise, percent")
    baseline_ap: Estimate | None = Field(description="test AP of the full-data baseline probe")
    chance_ap: float = Field(description="share of true statements among the test rows (AP of chance)")
    truth_ap: Estimate | None = Field(
        default=None, description="test AP of the baseline probe on true vs false statements alone"
    )
    truth_chance: float | None = Field(
        default=None, description="share of true among true and false test rows"
    )
    n_true_test: int = Field(ge=0, description="true test statements (the retraction denominator pool)")
    n_baseline_true: int = Field(ge=0, description="true test statements the baseline probe calls True")
    measurable: bool = Field(description="True when the domain enters the model-level headline")
    not_measurable: list[str] = Field(default_factory=list, description="why not, when not measurable")


class Headline(_Model):
    """The scores the leaderboard ranks by (see the module docstring for definitions)."""

    probe: str
    n_refits: int = Field(ge=0, description="bootstrap refits behind the fit-aware rates")
    measurable_domains: list[str] = Field(description="domains averaged into the model-level values")
    truth_stability: Estimate | None
    unfamiliar_stability: Estimate | None
    familiar_stability: Estimate | None
    familiarity_gap: Estimate | None
    unfamiliar_excess: Estimate | None
    familiar_excess: Estimate | None
    unfamiliar_retraction: Estimate | None
    familiar_retraction: Estimate | None
    refit_null: Estimate | None
    noise_control: Estimate | None
    baseline_ap: Estimate | None
    truth_ap: Estimate | None = Field(default=None, description="mean over domains of the true-vs-false AP")
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
    n_refits: int = Field(description="bootstrap refits of the training rows per (domain, probe)")
    batch_size: str
    padding_side: str
    pooling: str
    options: dict[str, Any] = Field(default_factory=dict)


class EnvironmentRecord(_Model):
    """The machine and software a run executed on."""

    device: str
    python: str
    platform: str
    libraries: dict[str, str]
    accelerator: dict[str, str | int | bool | None] = Field(
        default_factory=dict,
        description="torch threads, CUDA availability, version and device names, native bfloat16 on CPU",
    )
    tokenizer: dict[str, str | int | bool | None] = Field(
        default_factory=dict, description="the tokenizer's class, vocabulary size, padding side, length limit"
    )


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
    headline_bootstrap: dict[str, list[float | None]] = Field(
        default_factory=dict, description="per-resample headline values, paired across tasks and runs"
    )
    metrics: dict[str, Any] = Field(description="the full protocol report (truthstab.reports)")
    predictions_file: str = Field(description="Parquet side file, relative to the result file")
    behavioural: BehaviouralReport | None = Field(
        default=None, description="the behavioural track (--tracks behavioural); None when not run"
    )
    behavioural_skipped: str | None = Field(
        default=None,
        description="why the behavioural track did not run for this model (an encoder, a context too short "
        "for the prompt); None when it ran or was not asked for",
    )
    behavioural_file: str | None = Field(
        default=None, description="Parquet side file of the behavioural answers, relative to the result"
    )
    track_agreement: list[TrackAgreement] = Field(
        default_factory=list,
        description="per (domain, task): true statements retracted by both tracks, one, none",
    )
    figures: list[str] = Field(default_factory=list, description="figure files, relative to the result")


def result_json_schema() -> str:
    """The JSON Schema of a result file (pydantic's, with the schema version in its title), as text."""
    schema = Result.model_json_schema(mode="serialization")
    schema["title"] = f"truthstab result, schema {SCHEMA_VERSION}"
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def _check_version(data: dict, path: Path) -> None:
    found = str(data.get("schema_version", "missing"))
    if found.split(".")[0] == "1":
        raise ResultError(
            f"{path}: result schema {found} predates fit-aware stability (schema {SCHEMA_VERSION}): its "
            "headline does not separate the model from refit noise; re-score the model with truthstab score"
        )
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


def dump_result(result: Result) -> str:
    """The canonical JSON text of a result (sorted keys, so equal results give equal bytes)."""
    data = result.model_dump(mode="json")
    # allow_nan=False: JSON has no NaN; an undefined number must be None in the model, never NaN.
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_result(result: Result, path: str | Path) -> Path:
    """Write a result file atomically and return its path."""
    path = Path(path)
    atomic_write_text(path, dump_result(result))
    return path
