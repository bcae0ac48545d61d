"""The behavioural stage: ask a causal LM about every true test statement under each prompt, and score it.

Per domain (sorted) and prompt (baseline first): draw the context, fit the prompts into the model's
length, run them with the shared-prefix cache, read the option probabilities, then compute answer shares
and flips against the baseline with one bootstrap matrix per domain. Same inputs and seed give the same
report.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from truthstab import metrics as M
from truthstab.behaviour.answers import answers_from, option_token_ids
from truthstab.behaviour.fitting import fit_prompts
from truthstab.behaviour.forward import (
    answer_probabilities,
    check_key,
    forward_plan,
    reuses_prefix,
    shared_prefix_cache,
)
from truthstab.behaviour.headline import behavioural_headline
from truthstab.behaviour.metrics import PAIRING, answer_shares, bootstrap_matrix, flip_metrics
from truthstab.behaviour.prompts import K_CONTEXT, PROBE_TASK, PROMPTS, context_pool, draw_context
from truthstab.behaviour.report import (
    BehaviouralReport,
    DomainBehaviour,
    PromptContext,
    PromptResult,
    StatementAnswers,
)
from truthstab.data.schema import Kind, Split
from truthstab.errors import DatasetError, ProbeError
from truthstab.models.loading import LoadedModel, ModelSpec
from truthstab.seeds import sub_seed

_COLUMNS = ("id", "kind", "split", "statement", "fiction_truth")


def behavioural_support(spec: ModelSpec) -> str | None:
    """Why a model cannot take the behavioural track (a note to print, not an error), or None if it can."""
    if spec.is_encoder:
        return (
            f"{spec.id} is an encoder ({spec.architecture}): it predicts no next token, so it has no answer to "
            "read; the behavioural track is skipped"
        )
    return None


def length_support(loaded: LoadedModel, frames: Mapping[str, pd.DataFrame]) -> str | None:
    """Why a model's context is too short for the behavioural prompt even without context statements (a
    note to print), or None if every domain's longest true test statement fits."""
    from truthstab.errors import ModelError

    for domain in sorted(frames):
        statements = true_test_rows(frames[domain])["statement"].astype(str).tolist()
        if not statements:
            continue
        try:
            fit_prompts(loaded, statements, [])
        except ModelError as exc:
            return f"{exc}; the behavioural track is skipped"
    return None


def true_test_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The true test statements of a domain frame, in release order (the rows every metric is over)."""
    return frame[(frame["kind"] == Kind.TRUE) & (frame["split"] == Split.TEST)]


@dataclass
class _Run:
    """The settings every (domain, prompt) of one run shares."""

    loaded: LoadedModel
    seed: int
    n_bootstrap: int
    k_context: int
    batch_size: int | str
    prefix_cache: bool
    padding_side: str
    option_ids: dict[str, list[int]]
    bar: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    plans: dict[tuple, str] = field(default_factory=dict)  # the packing check's answers, per check_key
    example: str = ""


def run_behavioural(
    loaded: LoadedModel,
    frames: Mapping[str, pd.DataFrame],
    seed: int = 0,
    n_bootstrap: int = M.N_BOOTSTRAP,
    batch_size: int | str = "auto",
    progress: bool = False,
    k_context: int = K_CONTEXT,
    prompts: Sequence[str] = PROMPTS,
    prefix_cache: bool = True,
    padding_side: str = "left",
) -> BehaviouralReport:
    """Run the behavioural track on per-domain release frames (columns of the release schema).

    ``batch_size``: rows per forward pass, or "auto" (bounded by the memory of the prefix cache copy).

    Raises ProbeError for an unsupported model or bad prompt list, DatasetError for a frame without true
    test statements, ModelError for a tokenizer without distinct option letters or a missing template.
    """
    reason = behavioural_support(loaded.spec)
    if reason:
        raise ProbeError(reason)
    _check_inputs(frames, prompts)
    t0 = time.perf_counter()
    total = sum(len(true_test_rows(f)) for f in frames.values()) * len(prompts)
    run = _Run(
        loaded,
        seed,
        n_bootstrap,
        k_context,
        batch_size,
        prefix_cache,
        padding_side,
        option_token_ids(loaded.tokenizer),
        _progress(total, progress),
    )
    domains, answers = [], []
    for domain in sorted(frames):
        dom, ans = _run_domain(run, domain, frames[domain], prompts)
        domains.append(dom)
        answers += ans
    if run.bar is not None:
        run.bar.close()
    run.timings["total"] = round(time.perf_counter() - t0, 3)
    return BehaviouralReport(
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence=M.CONFIDENCE,
        bootstrap=PAIRING,
        k_context=k_context,
        layout=_layout(loaded),
        prompt_example=run.example,
        option_ids=run.option_ids,
        prompts=list(prompts),
        domains=domains,
        answers=answers,
        timings=run.timings,
        headline=behavioural_headline(answers, seed, n_bootstrap),
    )


def _run_domain(
    run: _Run, domain: str, frame: pd.DataFrame, prompts: Sequence[str]
) -> tuple[DomainBehaviour, list[StatementAnswers]]:
    """Every prompt of one domain; flips against its baseline, all on one bootstrap matrix (paired)."""
    test = true_test_rows(frame)
    weights = bootstrap_matrix(len(test), domain, run.seed, run.n_bootstrap)
    results, answers, base = [], [], None
    for prompt in prompts:
        t1 = time.perf_counter()
        context, probs = _ask(run, frame, test, domain, prompt)
        letters = answers_from(probs)
        base = letters if prompt == "baseline" else base
        flips = None if prompt == "baseline" else flip_metrics(base, letters, weights)
        shares = answer_shares(letters, probs[:, 3], weights)
        results.append(
            PromptResult(prompt=prompt, task=PROBE_TASK[prompt], context=context, shares=shares, flips=flips)
        )
        answers.append(_statement_answers(domain, prompt, test, probs, letters))
        run.timings[f"{domain}/{prompt}"] = round(time.perf_counter() - t1, 3)
    return DomainBehaviour(domain=domain, n_true_test=len(test), prompts=results), answers


def _ask(run: _Run, frame: pd.DataFrame, test: pd.DataFrame, domain: str, prompt: str):
    """(context record, (N, 4) probabilities) of one (domain, prompt)."""
    drawn = draw_context(frame, domain, prompt, run.seed, run.k_context)
    statements = test["statement"].astype(str).tolist()
    fitted = fit_prompts(run.loaded, statements, drawn["statement"].astype(str).tolist(), run.prefix_cache)
    enc = fitted.encoded
    key = check_key(run.loaded, enc)
    cached = None
    if key not in run.plans:  # the check needs the prefix's cache: compute it once, for both
        cached = shared_prefix_cache(run.loaded, enc)
        run.plans[key] = forward_plan(run.loaded, enc, cached)
    probs = answer_probabilities(
        run.loaded,
        enc,
        run.option_ids,
        batch_size=run.batch_size,
        padding_side=run.padding_side,
        on_progress=run.bar.update if run.bar is not None else None,
        plan=run.plans[key],
        cached=cached if run.plans[key] == "packed" else None,
    )
    context = PromptContext(
        pool_size=0 if prompt == "baseline" else len(context_pool(frame, prompt)),
        n_drawn=len(drawn),
        n_kept=fitted.n_kept,
        truncated=fitted.n_kept < len(drawn),
        truncation_note=fitted.note,
        seed=sub_seed(run.seed, "behaviour-context", domain, prompt) if len(drawn) else None,
        ids=drawn["id"].astype(str).tolist()[: fitted.n_kept],
        prefix_tokens=len(enc.shared_prefix),
        prefix_cache=reuses_prefix(run.loaded.model, enc, run.plans[key]),
        forward=run.plans[key],
        max_prompt_tokens=len(enc.shared_prefix) + max(len(s) for s in enc.ids),
    )
    run.example = run.example or fitted.parts.before + statements[0] + fitted.parts.after
    return context, probs


def _statement_answers(
    domain: str, prompt: str, test: pd.DataFrame, probs: np.ndarray, letters
) -> StatementAnswers:
    return StatementAnswers(
        domain=domain,
        prompt=prompt,
        task=PROBE_TASK[prompt],
        ids=test["id"].astype(str).tolist(),
        p_a=probs[:, 0].tolist(),
        p_b=probs[:, 1].tolist(),
        p_c=probs[:, 2].tolist(),
        p_outside=probs[:, 3].tolist(),
        answers=[str(a) for a in letters],
    )


def _check_inputs(frames: Mapping[str, pd.DataFrame], prompts: Sequence[str]) -> None:
    if not frames:
        raise DatasetError("no domains given: pass at least one domain's statements")
    unknown = [p for p in prompts if p not in PROMPTS]
    if unknown or not prompts or prompts[0] != "baseline" or len(set(prompts)) != len(prompts):
        raise ProbeError(
            f"prompts must start with 'baseline' and name each of {list(PROMPTS)} at most once, not {list(prompts)}"
        )
    for domain, frame in frames.items():
        missing = [c for c in _COLUMNS if c not in frame.columns]
        if missing:
            raise DatasetError(
                f"domain {domain!r}: statements lack columns {missing}; pass a release DataFrame"
            )
        if true_test_rows(frame).empty:
            raise DatasetError(
                f"domain {domain!r} has no true test statements to ask about: check the release or subsample"
            )


def _layout(loaded: LoadedModel) -> str:
    if not loaded.spec.uses_chat_template:
        return "plain"
    from truthstab.behaviour.prompts import chat_frame

    return "chat, system folded into the user turn" if chat_frame(loaded)[2] else "chat"


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="behavioural", unit="prompt", smoothing=0.1)
