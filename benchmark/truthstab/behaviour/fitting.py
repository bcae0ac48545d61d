"""Tokenizing a (domain, prompt)'s prompts and fitting them into the model's maximum length.

Rule (a recorded decision, not an error): when the longest prompt of a (domain, prompt) exceeds the
model's maximum length, context statements are dropped from the end of the drawn list (release order)
until it fits; the largest number that fits is found by bisection on the longest test statement and
checked on all. ``PromptContext.n_kept`` and ``truncation_note`` record it. A prompt that does not fit
even without context is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from truthstab.activations.extract import Encoded, encode_around
from truthstab.behaviour.prompts import PromptParts, build_prompt
from truthstab.errors import ModelError
from truthstab.models.loading import LoadedModel

#: tokenizer.model_max_length values at or above this are transformers' "no limit" placeholder.
_NO_LIMIT = 10**9


@dataclass
class FittedPrompts:
    """The encoded prompts of one (domain, prompt) and how much context survived."""

    encoded: Encoded
    parts: PromptParts
    n_kept: int
    note: str | None


def max_length(loaded: LoadedModel) -> int | None:
    """The longest input the model takes: its position limit, and the tokenizer's if it sets one."""
    config = loaded.model.config
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    limits = [
        v
        for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")
        if isinstance(v := getattr(config, name, None), int) and v > 0
    ]
    tok_limit = getattr(loaded.tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and 0 < tok_limit < _NO_LIMIT:
        limits.append(tok_limit)
    return min(limits) if limits else None


def encode_prompts(
    loaded: LoadedModel, statements: list[str], context: list[str], share_prefix: bool = True
) -> Encoded:
    """Token ids of every statement's prompt with ``context``; the part before the statements is shared."""
    parts = build_prompt(loaded, context)
    return encode_around(
        loaded,
        statements,
        parts.before,
        parts.after,
        add_special_tokens=parts.add_special_tokens,
        keep_after=True,
        use_shared_prefix=share_prefix,
    )


def _longest(enc: Encoded) -> int:
    return len(enc.shared_prefix) + max(len(s) for s in enc.ids)


def fit_prompts(
    loaded: LoadedModel, statements: list[str], context: list[str], share_prefix: bool = True
) -> FittedPrompts:
    """Encode the prompts, dropping context statements from the end until the longest one fits."""
    limit = max_length(loaded)
    enc = encode_prompts(loaded, statements, context, share_prefix)
    parts = build_prompt(loaded, context)
    if limit is None or _longest(enc) <= limit:
        return FittedPrompts(enc, parts, len(context), None)
    widest = statements[max(range(len(statements)), key=lambda i: len(enc.ids[i]))]
    if _longest(encode_prompts(loaded, [widest], [])) > limit:
        raise _too_short(loaded, limit)
    lo, hi = 0, len(context) - 1  # the largest k in [lo, hi] whose longest prompt fits; k = lo fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _longest(encode_prompts(loaded, [widest], context[:mid])) <= limit:
            lo = mid
        else:
            hi = mid - 1
    while True:  # bisection looked at one statement: confirm on all (tokenization is not quite additive)
        enc = encode_prompts(loaded, statements, context[:lo], share_prefix)
        if _longest(enc) <= limit:
            break
        if lo == 0:
            raise _too_short(loaded, limit)
        lo -= 1
    note = (
        f"kept {lo} of {len(context)} context statements (dropped from the end) so the longest prompt "
        f"fits the model's {limit} tokens"
    )
    return FittedPrompts(enc, build_prompt(loaded, context[:lo]), lo, note)


def _too_short(loaded: LoadedModel, limit: int) -> ModelError:
    return ModelError(
        f"{loaded.spec.id} takes at most {limit} tokens, fewer than its longest behavioural prompt even "
        "without context statements: the behavioural track needs a model with a longer context"
    )
