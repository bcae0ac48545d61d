"""The one point-with-interval type of every number truthstab reports (probe metrics, behavioural rates,
headline scores, leaderboard cells).

``value`` is the point estimate and ``ci_low`` / ``ci_high`` its 95 % bootstrap percentile interval. An
undefined quantity is ``value=None`` (a rate with an empty denominator, a score a model cannot have),
with ``reason`` saying why where the producer knows: JSON has no NaN, and a number that cannot be measured
must say so instead of looking like one. Imports nothing of truthstab, so every layer can use it.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Estimate(BaseModel):
    """A point estimate with its 95 % bootstrap percentile interval (None with a reason when undefined)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float | None = Field(description="the point estimate; None when undefined")
    ci_low: float | None = Field(description="lower end of the 95 % percentile interval")
    ci_high: float | None = Field(description="upper end of the 95 % percentile interval")
    reason: str | None = Field(default=None, description="why the value is undefined, when it is")

    @model_validator(mode="after")
    def _finite_and_ordered(self) -> Estimate:
        numbers = [v for v in (self.value, self.ci_low, self.ci_high) if v is not None]
        if not all(math.isfinite(v) for v in numbers):
            raise ValueError("an estimate is finite; an undefined quantity is None, not NaN or inf")
        if self.ci_low is not None and self.ci_high is not None and self.ci_low > self.ci_high + 1e-9:
            raise ValueError(f"interval [{self.ci_low}, {self.ci_high}] is reversed")
        return self

    @classmethod
    def undefined(cls, reason: str | None = None) -> Estimate:
        """An estimate with no value (and no interval), saying why."""
        return cls(value=None, ci_low=None, ci_high=None, reason=reason)
