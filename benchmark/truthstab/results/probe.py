"""Typed output of the probe stage (pydantic): what the result schema embeds, JSON-serialisable and deterministic.

Undefined numbers (a rate with an empty denominator, AUC with one class) are ``None``, never NaN. Lists
are ordered (domains, probes and tasks in a fixed order), so the same run gives the same JSON.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from truthstab.data.schema import Kind
from truthstab.estimate import Estimate
from truthstab.flips import FlipMetrics


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualityMetrics(_Model):
    """Probe quality on the test split against the task's labels (score > 0 means True)."""

    n: int
    n_positive: int
    accuracy: Estimate
    roc_auc: Estimate
    average_precision: Estimate
    mcc: Estimate


class ConformalMetrics(_Model):
    """Inductive conformal calibration on the calibration split, evaluated on the test split."""

    alpha: float
    threshold: float | None
    n_calibration: int
    coverage: float | None
    abstention_rate: float | None
    selective_accuracy: float | None


class ProbeTaskMetrics(_Model):
    """One probe fitted for one task (0-4) in one domain, and its metrics vs task 0."""

    task: int
    task_name: str
    n_train: int
    n_train_true: int
    hyperparameters: dict[str, float | int | str | bool]
    quality: QualityMetrics
    conformal: ConformalMetrics
    flips: FlipMetrics | None = Field(description="vs task 0; None for task 0 itself")
    rotation_cosine: float | None = Field(description="cos(w0, wk) of the un-normalised weight vectors")
    bias_shift: float | None = Field(description="b0 - bk")
    fit_seconds: float


class FitAwareTask(_Model):
    """One perturbation's rates over the refits, and their excess over the refit null (docs/method.md)."""

    task: int
    task_name: str
    retraction_rate: Estimate = Field(
        description="mean over refits r of retr(p0^r, pk^r), baseline-True denominator"
    )
    expansion_rate: Estimate = Field(
        description="mean over refits of expansions, baseline-Not-True denominator"
    )
    excess_retraction: Estimate = Field(description="retraction_rate minus the refit null's retraction rate")
    excess_expansion: Estimate = Field(description="expansion_rate minus the refit null's expansion rate")
    cosine: Estimate | None = Field(description="mean over refits of cos(w0^r, wk^r); None without coef_")


class RefitReport(_Model):
    """The refits of one (domain, probe): the null that fitting alone produces, and every task against it.

    Intervals come from a joint bootstrap over the true test statements and the refits (and refit pairs),
    with one resample plan per (seed, domain) shared by every task, probe and model.
    """

    n_refits: int
    n_true: int = Field(description="true test statements the rates are computed on")
    seeds: list[int] = Field(description="the training-row resample seed of each refit")
    null_retraction: Estimate = Field(description="mean over refit pairs r != r' of retr(p0^r, p0^r')")
    null_expansion: Estimate = Field(
        description="mean over refit pairs of expansions between baseline refits"
    )
    null_cosine: Estimate | None = Field(description="mean cos(w0^r, w0^r') over refit pairs")
    tasks: list[FitAwareTask] = Field(description="tasks 1-4 against the baseline refits")
    fit_seconds: float


class DomainProbeReport(_Model):
    """All five tasks of one probe in one domain at the chosen layer."""

    domain: str
    probe: str
    layer: int
    tasks: list[ProbeTaskMetrics]
    refits: RefitReport | None = Field(default=None, description="fit-aware rates; None with --refits 0")


class LayerSweep(_Model):
    """The layer-selection curve of one domain: calibration AP of the baseline task per layer."""

    domain: str
    probe: str = "mean-diff"
    metric: str = "calibration_average_precision"
    layers: list[int]
    scores: list[float | None]
    chosen: int


class KindDistance(_Model):
    """Sliced Wasserstein-1 distance between the standardised last-token clouds of two kinds."""

    a: str
    b: str
    distance: float


class GeometryReport(_Model):
    domain: str
    layer: int
    n_directions: int
    seed: int
    counts: dict[str, int]
    distances: list[KindDistance]


class NoiseInfo(_Model):
    """The generated noise control of one domain (method.md §5)."""

    domain: str
    layer: int
    n: int
    seed: int
    n_train: int
    n_calibration: int
    n_test: int


class TaskPredictions(_Model):
    task: int
    scores: list[float]


class RefitPredictions(_Model):
    """Boolean predictions of one task's refit r on the *true* test statements (in ``ids`` order)."""

    refit: int
    task: int
    predictions: list[bool]


class StatementPredictions(_Model):
    """Per-statement test-split scores of one probe in one domain, for every task (ids row-aligned)."""

    domain: str
    probe: str
    ids: list[str]
    kinds: list[str]
    tasks: list[TaskPredictions]
    refits: list[RefitPredictions] = Field(default_factory=list)


class ProtocolMetrics(_Model):
    """What the probe stage measured, as a result file stores it (its settings, such as mode, seed, probes,
    layers and refits, are the result's protocol record, so they are not stored twice)."""

    confidence: float = Field(description="level of every interval (0.95)")
    conformal_alpha: float = Field(description="miscoverage level of the conformal abstention sets")
    sweeps: list[LayerSweep] = Field(description="the layer-selection curves the layers were chosen from")
    noise: list[NoiseInfo] = Field(description="the generated noise control of each domain")
    results: list[DomainProbeReport] = Field(description="every (domain, probe): five tasks and the refits")
    geometry: list[GeometryReport] = Field(description="distances between the kinds' activation clouds")

    def metrics_frame(self) -> pd.DataFrame:
        """One row per (domain, probe, task): the headline numbers, flat (for tables and CSV)."""
        rows = []
        for rep in self.results:
            for t in rep.tasks:
                f = t.flips
                rows.append(
                    {
                        "domain": rep.domain,
                        "probe": rep.probe,
                        "layer": rep.layer,
                        "task": t.task,
                        "task_name": t.task_name,
                        "retraction_rate_base": f.retraction_rate_base.value if f else None,
                        "retraction_rate_base_low": f.retraction_rate_base.ci_low if f else None,
                        "retraction_rate_base_high": f.retraction_rate_base.ci_high if f else None,
                        "retraction_rate_all": f.retraction_rate_all.value if f else None,
                        "expansion_rate_base": f.expansion_rate_base.value if f else None,
                        "expansion_rate_base_low": f.expansion_rate_base.ci_low if f else None,
                        "expansion_rate_base_high": f.expansion_rate_base.ci_high if f else None,
                        "expansion_rate_all": f.expansion_rate_all.value if f else None,
                        "retraction_count": f.retraction_count if f else None,
                        "expansion_count": f.expansion_count if f else None,
                        "rotation_cosine": t.rotation_cosine,
                        "bias_shift": t.bias_shift,
                        "accuracy": t.quality.accuracy.value,
                        "roc_auc": t.quality.roc_auc.value,
                        "average_precision": t.quality.average_precision.value,
                        "average_precision_low": t.quality.average_precision.ci_low,
                        "average_precision_high": t.quality.average_precision.ci_high,
                        "mcc": t.quality.mcc.value,
                        "abstention_rate": t.conformal.abstention_rate,
                    }
                )
        return pd.DataFrame(rows)


class ProtocolReport(ProtocolMetrics):
    """Everything the probe stage computed for one model (``truthstab probe run`` writes it): its metrics,
    its settings and the per-statement predictions."""

    mode: Literal["fixed", "faithful"]
    seed: int
    n_bootstrap: int
    probes: list[str]
    n_refits: int = Field(description="bootstrap refits of the training rows per (domain, probe)")
    noise_rows: Literal["keep", "drop"] = Field(description="drop: the noise control is left out (faithful)")
    layer_choice: Literal["given", "auto"]
    layers: dict[str, int]
    predictions: list[StatementPredictions]
    timings: dict[str, float]

    def metrics(self) -> ProtocolMetrics:
        """The measured part, as a result file stores it."""
        return ProtocolMetrics.model_validate(self.model_dump(include=set(ProtocolMetrics.model_fields)))

    def predictions_frame(self) -> pd.DataFrame:
        """One row per (domain, probe, task, refit, test statement): id, kind, score, prediction.

        ``refit`` 0 is the full-data fit (every test statement, with its score); refits 1..R cover the true
        test statements only, with no score (NaN): their predictions are what fit-aware rates need.
        """
        frames = []
        for p in self.predictions:
            for t in p.tasks:
                frames.append(
                    pd.DataFrame(
                        {
                            "domain": p.domain,
                            "probe": p.probe,
                            "task": t.task,
                            "refit": 0,
                            "id": p.ids,
                            "kind": p.kinds,
                            "score": t.scores,
                            "prediction": [s > 0 for s in t.scores],
                        }
                    )
                )
            true_ids = [i for i, k in zip(p.ids, p.kinds, strict=True) if k == Kind.TRUE]
            for r in p.refits:
                frames.append(
                    pd.DataFrame(
                        {
                            "domain": p.domain,
                            "probe": p.probe,
                            "task": r.task,
                            "refit": r.refit,
                            "id": true_ids,
                            "kind": "true",
                            "score": float("nan"),
                            "prediction": r.predictions,
                        }
                    )
                )
        cols = ["domain", "probe", "task", "refit", "id", "kind", "score", "prediction"]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
