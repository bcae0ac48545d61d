"""``FlipMetrics``: how many true statements a perturbation retracts and expands against its baseline, and
the rates with their intervals. One type for both tracks (a probe's True is a score above 0, an answer's
is the letter a), so that the two tracks' flips are read and compared the same way."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from truthstab import metrics as M
from truthstab.estimate import Estimate

_COUNTS = ("n_true", "n_base_true", "n_base_false", "retraction_count", "expansion_count")
#: Why each rate can be undefined (its denominator is empty).
UNDEFINED = {
    "retraction_rate_all": "no true test statements",
    "expansion_rate_all": "no true test statements",
    "retraction_rate_base": "the baseline called no true test statement True",
    "expansion_rate_base": "the baseline called every true test statement True",
}


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

    @classmethod
    def from_predictions(cls, p0: np.ndarray, pk: np.ndarray, weights: np.ndarray) -> FlipMetrics:
        """Flips of boolean predictions ``pk`` against the baseline's ``p0`` on the true test statements,
        with 95 % percentile intervals over the (B, n) resample counts ``weights``. A rate whose
        denominator is empty has no value and no interval, and says why."""
        point, boot = M.flip_counts(p0, pk), M.flip_counts(p0, pk, weights)
        rates = {}
        for key, why in UNDEFINED.items():
            value = float(np.ravel(point[key])[0])
            if not np.isfinite(value):
                rates[key] = Estimate.undefined(why)
                continue
            low, high = M.percentile_interval(boot[key])
            rates[key] = Estimate(value=value, ci_low=low, ci_high=high)
        return cls(**{k: int(point[k]) for k in _COUNTS}, **rates)
