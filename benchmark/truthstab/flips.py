"""``FlipMetrics``: how many true statements a perturbation retracts and expands against its baseline, and
the rates with their intervals. One type for both tracks (a probe's True is a score above 0, an answer's
is the letter a), so that the two tracks' flips are read and compared the same way."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from truthstab.estimate import Estimate


class FlipMetrics(BaseModel):
    """Retractions and expansions of a perturbed probe or prompt vs its baseline on the true test
    statements (method.md §8)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_true: int = Field(description="true test statements (denominator 'all')")
    n_base_true: int = Field(description="true test statements the baseline called True (answered a)")
    n_base_false: int = Field(description="true test statements the baseline called Not-True")
    retraction_count: int
    expansion_count: int
    retraction_rate_all: Estimate = Field(description="retractions / all true test statements (v1 paper)")
    retraction_rate_base: Estimate = Field(description="retractions / baseline-True (later tables)")
    expansion_rate_all: Estimate
    expansion_rate_base: Estimate = Field(description="expansions / baseline-Not-True")
