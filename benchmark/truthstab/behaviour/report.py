"""The behavioural track's typed report: what the integrator writes into the result file and the board.

Strict: unknown fields are refused and NaN/inf cannot be stored; an undefined number is None with a
``reason``. Per-statement answers live in the report too (``answers``) and flatten to the predictions side
file with :meth:`BehaviouralReport.predictions_frame`.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from truthstab.estimate import Estimate
from truthstab.flips import FlipMetrics


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class AnswerShares(_Model):
    """How one prompt's answers split over the options, and the mean probability mass outside them."""

    n: int
    a: Estimate = Field(description="share answered a (true)")
    b: Estimate = Field(description="share answered b (false)")
    c: Estimate = Field(description="share answered c (neither)")
    outside_mass: Estimate = Field(description="mean next-token probability outside the option tokens")


class PromptContext(_Model):
    """Which context statements a prompt told the model to believe, and how its prefix was run."""

    pool_size: int = Field(description="training statements of the prompt's kind in the domain")
    n_drawn: int = Field(description="context statements drawn (min(K, pool))")
    n_kept: int = Field(description="context statements kept after fitting the model's maximum length")
    truncated: bool
    truncation_note: str | None
    seed: int | None = Field(description="seed of the draw (None: nothing drawn)")
    ids: list[str] = Field(description="ids of the kept context statements, release order")
    prefix_tokens: int = Field(description="tokens shared by every prompt (run once when cached)")
    prefix_cache: bool = Field(
        description="whether the shared prefix's keys/values were reused (always when packed; padded, not when "
        "a sliding-window layer is shorter than the prompt: then every prompt runs in full)"
    )
    forward: str = Field(
        default="padded",
        description="how statements were run behind the prefix: 'packed' (end to end in one row, kept apart "
        "by the attention mask, checked against a full pass) or 'padded' (padded batches)",
    )
    max_prompt_tokens: int


class PromptResult(_Model):
    """One prompt (baseline or a perturbation) in one domain."""

    prompt: str
    task: int | None = Field(description="the probe-track task it pairs with (None: the control)")
    context: PromptContext
    shares: AnswerShares
    flips: FlipMetrics | None = Field(description="vs the baseline prompt (None for the baseline)")


class DomainBehaviour(_Model):
    """All prompts of one domain."""

    domain: str
    n_true_test: int
    prompts: list[PromptResult]


class StatementAnswers(_Model):
    """Per-statement option probabilities and answers of one prompt in one domain (ids row-aligned)."""

    domain: str
    prompt: str
    task: int | None
    ids: list[str]
    p_a: list[float]
    p_b: list[float]
    p_c: list[float]
    p_outside: list[float]
    answers: list[str]


class BehaviouralDomainHeadline(_Model):
    """One domain's behavioural headline quantities (percent; None with a reason where undefined)."""

    truth_stability: Estimate
    unfamiliar_stability: Estimate
    familiar_stability: Estimate
    familiarity_gap: Estimate
    unfamiliar_excess: Estimate = Field(description="RR(synthetic) - RR(control), percentage points")
    familiar_excess: Estimate = Field(description="RR(fictional) - RR(control), percentage points")
    unfamiliar_retraction: Estimate = Field(description="RR(synthetic) over baseline-True, percent")
    familiar_retraction: Estimate = Field(description="RR(fictional) over baseline-True, percent")
    fictional_true_retraction: Estimate = Field(description="RR(fictional-true) over baseline-True, percent")
    control_retraction: Estimate = Field(description="RR(control): the behavioural null, percent")
    outside_mass: Estimate = Field(
        description="baseline prompt: mean probability outside the letters, percent"
    )
    n_true_test: int = Field(ge=0)
    n_baseline_true: int = Field(ge=0, description="true test statements the baseline prompt answered a")
    measurable: bool
    not_measurable: list[str] = Field(default_factory=list)


class BehaviouralHeadline(_Model):
    """The behavioural scores the leaderboard shows, per model (definitions: truthstab.behaviour.headline)."""

    measurable_domains: list[str]
    truth_stability: Estimate
    unfamiliar_stability: Estimate
    familiar_stability: Estimate
    familiarity_gap: Estimate
    unfamiliar_excess: Estimate
    familiar_excess: Estimate
    unfamiliar_retraction: Estimate
    familiar_retraction: Estimate
    fictional_true_retraction: Estimate
    control_retraction: Estimate
    outside_mass: Estimate = Field(description="mean over every scored domain (shown, not gated)")
    per_domain: dict[str, BehaviouralDomainHeadline]
    warnings: list[str] = Field(default_factory=list)


class BehaviouralMetrics(_Model):
    """What the behavioural stage measured, as a result file stores it: the per-statement answers are in
    the behaviour side file and the seed and bootstrap count in the result's protocol record, not here."""

    confidence: float = Field(description="level of every interval (0.95)")
    bootstrap: str = Field(description="how the resample matrix is shared (pairing)")
    k_context: int = Field(description="context statements per perturbed prompt (the paper's K)")
    layout: str = Field(description="plain | chat | chat, system folded into the user turn")
    prompt_example: str = Field(description="the baseline prompt of the first test statement, verbatim")
    option_ids: dict[str, list[int]] = Field(description="the token ids read for each option letter")
    prompts: list[str]
    domains: list[DomainBehaviour]
    headline: BehaviouralHeadline | None = Field(
        default=None, description="stability of the answers against the control prompt (behaviour.headline)"
    )

    def metrics_frame(self) -> pd.DataFrame:
        """One row per (domain, prompt): shares and flip rates with intervals, flat."""
        rows = []
        for dom in self.domains:
            for p in dom.prompts:
                row = {"domain": dom.domain, "prompt": p.prompt, "task": p.task, "n": p.shares.n}
                for key in ("a", "b", "c", "outside_mass"):
                    row[f"share_{key}"] = getattr(p.shares, key).value
                row["n_context"] = p.context.n_kept
                if p.flips is not None:
                    for key in ("retraction_rate_all", "retraction_rate_base", "expansion_rate_all"):
                        est = getattr(p.flips, key)
                        row |= {key: est.value, f"{key}_low": est.ci_low, f"{key}_high": est.ci_high}
                    row["expansion_rate_base"] = p.flips.expansion_rate_base.value
                    row["retraction_count"] = p.flips.retraction_count
                    row["expansion_count"] = p.flips.expansion_count
                rows.append(row)
        return pd.DataFrame(rows)


class BehaviouralReport(BehaviouralMetrics):
    """Everything the behavioural stage computed for one model: its metrics, its settings, the answers."""

    seed: int
    n_bootstrap: int
    answers: list[StatementAnswers]
    timings: dict[str, float]

    def metrics(self) -> BehaviouralMetrics:
        """The measured part, as a result file stores it."""
        return BehaviouralMetrics.model_validate(
            self.model_dump(include=set(BehaviouralMetrics.model_fields))
        )

    def predictions_frame(self) -> pd.DataFrame:
        """One row per (domain, prompt, true test statement): option probabilities, answer, prediction.

        ``prediction`` is True iff the answer is a ("true"), the behavioural analogue of a probe's
        prediction; ``task`` (nullable) pairs a row with the probe track's predictions of the same id.
        """
        cols = ["domain", "prompt", "task", "id", "p_a", "p_b", "p_c", "p_outside", "answer", "prediction"]
        frames = [
            pd.DataFrame(
                {
                    "domain": s.domain,
                    "prompt": s.prompt,
                    "task": pd.array([s.task] * len(s.ids), dtype="Int64"),
                    "id": s.ids,
                    "p_a": s.p_a,
                    "p_b": s.p_b,
                    "p_c": s.p_c,
                    "p_outside": s.p_outside,
                    "answer": s.answers,
                    "prediction": [a == "a" for a in s.answers],
                }
            )
            for s in self.answers
        ]
        return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
