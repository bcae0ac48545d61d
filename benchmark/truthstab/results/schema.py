"""The versioned result schema: one JSON per scored run, read by every tool downstream, typed from the
headline down to every probe's metrics (pydantic, with a field description on every number; its JSON
Schema is ``docs/result.schema.json``, printed by ``truthstab results schema``).

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

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from truthstab.behaviour.agreement import TrackAgreement
from truthstab.behaviour.report import BehaviouralMetrics
from truthstab.estimate import Estimate
from truthstab.models.spec import ModelSpec
from truthstab.results.probe import ProtocolMetrics

#: Bump the major part on any incompatible change; a reader migrates older majors it knows
#: (``truthstab.results.migrate``) and refuses the rest.
SCHEMA_VERSION = "3.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class DatasetRecord(_Model):
    """The release a run scored."""

    name: str
    version: str
    sha256: str = Field(description="the release's content sha256 (its manifest's)")
    domains: list[str] = Field(description="the domains scored")


class HarnessRecord(_Model):
    """The truthstab code that ran, as it was when the run started."""

    version: str = Field(description="the package version (from its metadata)")
    git_hash: str | None = Field(description="the source tree's commit, None outside a git checkout")
    git_dirty: bool | None = Field(description="whether the tree had uncommitted changes")


class ProtocolRecord(_Model):
    """How the run was scored: every setting, once (the metrics below do not repeat them)."""

    mode: Literal["fixed", "faithful"]
    probes: list[str]
    primary_probe: str = Field(description="the probe the headline is computed from")
    layer_policy: str = Field(description="auto (sweep), paper (the paper's table) or the layers given")
    layers: dict[str, int] = Field(description="the layer probed per domain (0-based decoder block)")
    seed: int = Field(description="the one seed every stage derives its sub-seeds from")
    n_bootstrap: int
    n_refits: int = Field(description="bootstrap refits of the training rows per (domain, probe)")
    batch_size: str
    padding_side: str
    pooling: str
    options: dict[str, Any] = Field(default_factory=dict, description="the run's other command-line options")


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
    model: ModelSpec
    dataset: DatasetRecord
    harness: HarnessRecord
    protocol: ProtocolRecord
    environment: EnvironmentRecord
    timings: dict[str, float]
    headline: Headline
    headline_bootstrap: dict[str, list[float | None]] = Field(
        default_factory=dict, description="per-resample headline values, paired across tasks and runs"
    )
    metrics: ProtocolMetrics | None = Field(
        description="everything the probe stage measured (None only in hand-made results)"
    )
    predictions_file: str = Field(description="Parquet side file, relative to the result file")
    behavioural: BehaviouralMetrics | None = Field(
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
