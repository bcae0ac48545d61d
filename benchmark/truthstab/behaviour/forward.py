"""Next-token option probabilities of many prompts that share their beginning, fast and exact.

The shared prefix (instruction and context) runs once through :class:`~truthstab.activations.prefix.
SharedPrefix`. Then, by the plan :func:`forward_plan` picks:

- ``"packed"`` (the default where the model allows it): statements are laid end to end in one row behind
  the prefix with a mask that keeps them apart (:func:`~truthstab.activations.prefix.pack_sequences`), so
  the prefix cache is never copied per statement and no token is padding (about 2x faster than padded
  batches on SmolLM2 with a 1,600-token prefix). Exact for sliding-window layers too. Before a (domain,
  prompt) is packed, one packed statement is checked against its own full pass, so an architecture whose
  forward ignored the mask would be caught and run padded instead.
- ``"padded"``: batches of statements, sorted by length so padding is short, each row with the prefix
  cache expanded; when a sliding-window layer is shorter than the prompts, the prefix cannot be reused and
  every prompt runs in full.

Only the answer positions are projected onto the vocabulary. The numbers depend neither on the plan nor on
the batch size or padding side, and equal a full un-cached pass within float tolerance (tested).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from truthstab.activations.extract import Encoded
from truthstab.activations.prefix import (
    SharedPrefix,
    accepts_logits_to_keep,
    cache_kwarg,
    pack_sequences,
    packable,
    packed_masks,
    pad_batch,
    prefix_fits_windows,
)
from truthstab.behaviour.answers import option_probabilities
from truthstab.errors import ActivationError
from truthstab.models.loading import LoadedModel

PLANS = ("packed", "padded")
#: Tokens per packed row of ``batch_size="auto"`` (on SmolLM2 behind a 1,600-token prefix, rows of about 500
#: tokens ran as fast as rows of 1,000 and faster than 2,000: attention to the other statements of the row is
#: computed and masked, so longer rows waste more).
PACK_TOKENS = 512
#: How far a packed statement's next-token distribution may be from its own full pass for the packing
#: check to pass. float32: log-probabilities of the whole vocabulary within 1e-3 (exact packing agrees to
#: about 1e-5; a mask that let packed statements see each other moved a tiny random model's by 1e-2).
#: Half precision rounds too much for that; there the total variation distance must stay under 0.05 (bfloat16
#: rounding alone gave about 0.01 on SmolLM2; attending to two other statements moves a trained model more).
CHECK_LOGPROB_ATOL = 1e-3
CHECK_TV_HALF = 0.05


def answer_probabilities(
    loaded: LoadedModel,
    encoded: Encoded,
    option_ids: dict[str, list[int]],
    batch_size: int | str = "auto",
    padding_side: str = "left",
    on_progress: Callable[[int], None] | None = None,
    plan: str | None = None,
    cached: SharedPrefix | None = None,
) -> np.ndarray:
    """(N, 4) P(a), P(b), P(c), mass outside, for prompts ``shared_prefix + ids[i]``, in input order.

    ``plan``: "packed" or "padded" (None: :func:`forward_plan`). ``batch_size``: statements per forward pass;
    "auto" packs up to PACK_TOKENS tokens per row, or pads :func:`auto_batch_size` rows. ``padding_side``
    applies to padded batches. ``cached``: the shared prefix's cache when the caller already has it (from
    :func:`shared_prefix_cache`), so that it is not computed twice. Raises ActivationError on non-finite
    logits or bad arguments.
    """
    if padding_side not in ("left", "right"):
        raise ActivationError(f"padding_side must be left or right, not {padding_side!r}")
    if batch_size != "auto" and not (isinstance(batch_size, int) and batch_size > 0):
        raise ActivationError(f"batch size must be a positive integer or 'auto', not {batch_size!r}")
    if plan not in (None, *PLANS):
        raise ActivationError(f"plan must be one of {PLANS}, not {plan!r}")
    if cached is None and plan in (None, "packed"):
        cached = shared_prefix_cache(loaded, encoded)
    plan = plan or forward_plan(loaded, encoded, cached)
    if plan == "packed":
        return _packed_probabilities(loaded, encoded, option_ids, batch_size, on_progress, cached)
    return _padded_probabilities(loaded, encoded, option_ids, batch_size, padding_side, on_progress)


def shared_prefix_cache(loaded: LoadedModel, encoded: Encoded) -> SharedPrefix | None:
    """The key/value cache of the prompts' shared prefix, or None when there is none or the model cannot
    pack (the padded path builds its own)."""
    if encoded.shared_prefix and packable(loaded.model):
        return SharedPrefix(loaded.model, encoded.shared_prefix)
    return None


def forward_plan(loaded: LoadedModel, encoded: Encoded, cached: SharedPrefix | None = None) -> str:
    """``"packed"`` when the model can pack and one packed statement equals its full pass, else ``"padded"``.

    ``cached``: the prefix's cache if already computed (else it is computed here). The check costs one full
    pass over one prompt; callers running many (domain, prompt)s may keep its answer per
    :func:`check_key`.
    """
    if not packable(loaded.model):
        return "padded"
    if cached is None and encoded.shared_prefix:
        cached = SharedPrefix(loaded.model, encoded.shared_prefix)
    return "packed" if _packing_is_exact(loaded, encoded, cached) else "padded"


def check_key(loaded: LoadedModel, encoded: Encoded) -> tuple[int, bool]:
    """What the packing check's answer depends on: the model object, and whether the prompts outgrow a
    sliding window (the mask's window rule only acts then)."""
    return id(loaded.model), not prefix_fits_windows(loaded.model, _longest(encoded))


def _longest(encoded: Encoded) -> int:
    return len(encoded.shared_prefix) + max(len(s) for s in encoded.ids)


def _packing_is_exact(loaded: LoadedModel, encoded: Encoded, cached: SharedPrefix | None) -> bool:
    """Pack the first (up to) three statements and compare the last one, which a wrong mask would let see
    the others, with a plain full pass over its whole prompt (next-token distribution over the vocabulary)."""
    model, head = loaded.model, encoded.ids[:3]
    packed = _packed_logits(model, head, cached)[-1:].double()
    full = _last_logits(model, [encoded.shared_prefix + head[-1]], 0, "left", None).double()
    if not (torch.isfinite(full).all() and torch.isfinite(packed).all()):
        return False  # the padded path raises the clear error
    if next(model.parameters()).dtype in (torch.float32, torch.float64):
        gap = (torch.log_softmax(packed, -1) - torch.log_softmax(full, -1)).abs().max()
        return bool(gap <= CHECK_LOGPROB_ATOL)
    tv = 0.5 * (torch.softmax(packed, -1) - torch.softmax(full, -1)).abs().sum()
    return bool(tv <= CHECK_TV_HALF)


def _packed_probabilities(
    loaded, encoded: Encoded, option_ids, batch_size, on_progress, cached: SharedPrefix | None
) -> np.ndarray:
    """Statements in input order, packed into rows of ``batch_size`` statements or about PACK_TOKENS tokens."""
    model, ids = loaded.model, encoded.ids
    out = np.empty((len(ids), 4), np.float64)
    for rows in _packs(ids, batch_size):
        logits = _packed_logits(model, [ids[i] for i in rows], cached)
        if not torch.isfinite(logits).all():
            raise ActivationError("non-finite logits (NaN or inf): try --dtype float32, or check the model")
        out[rows] = option_probabilities(logits, option_ids)
        if on_progress:
            on_progress(len(rows))
    return out


def _packs(ids: list[list[int]], batch_size: int | str) -> list[list[int]]:
    """Consecutive index groups: ``batch_size`` statements each, or ("auto") as many as fit PACK_TOKENS
    tokens (at least one)."""
    if batch_size != "auto":
        return [list(range(s, min(s + batch_size, len(ids)))) for s in range(0, len(ids), batch_size)]
    packs, current, tokens = [], [], 0
    for i, seq in enumerate(ids):
        if current and tokens + len(seq) > PACK_TOKENS:
            packs.append(current)
            current, tokens = [], 0
        current.append(i)
        tokens += len(seq)
    return [*packs, current]


def _packed_logits(model, seqs: list[list[int]], cached: SharedPrefix | None) -> torch.Tensor:
    """(n, vocab) logits at each packed sequence's last token."""
    batch = pack_sequences(seqs, cached.length if cached else 0)
    device = next(model.parameters()).device
    mask = packed_masks(model, batch, cached)
    mask = {k: m.to(device) for k, m in mask.items()} if isinstance(mask, dict) else mask.to(device)
    inputs = {
        "input_ids": batch.input_ids.to(device),
        "attention_mask": mask,
        "position_ids": batch.position_ids.to(device),
    }
    if cached is not None:
        inputs |= {cache_kwarg(model): cached.cache(1), "use_cache": True}
    else:
        inputs["use_cache"] = False
    keep = accepts_logits_to_keep(model)
    if keep:
        inputs["logits_to_keep"] = batch.ends.to(device)
    with torch.inference_mode():
        logits = model(**inputs).logits[0]
    return logits if keep else logits[batch.ends.to(logits.device)]


def _padded_probabilities(
    loaded, encoded: Encoded, option_ids, batch_size, padding_side, on_progress
) -> np.ndarray:
    """Padded batches sorted by length, the prefix cache expanded per row where it can be reused."""
    model = loaded.model
    ids, prefix = encoded.ids, encoded.shared_prefix
    if prefix and not reuses_prefix(model, encoded):
        ids, prefix = [prefix + s for s in ids], []
    cached = SharedPrefix(model, prefix) if prefix else None
    if batch_size == "auto":
        batch_size = auto_batch_size(cached)
    pad_id = loaded.tokenizer.pad_token_id or 0
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    out = np.empty((len(ids), 4), np.float64)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        logits = _last_logits(model, [ids[i] for i in rows], pad_id, padding_side, cached)
        if not torch.isfinite(logits).all():
            raise ActivationError("non-finite logits (NaN or inf): try --dtype float32, or check the model")
        out[rows] = option_probabilities(logits, option_ids)
        if on_progress:
            on_progress(len(rows))
    return out


#: Rows per batch of ``batch_size="auto"``: as many as keep each batch's copy of the prefix keys/values
#: under AUTO_CACHE_BYTES, at most AUTO_MAX_ROWS (on SmolLM2 with a 1,600-token prefix, 64 rows ran 20 %
#: faster per statement than 32 and 128 no faster than 64) and at least AUTO_MIN_ROWS.
AUTO_CACHE_BYTES = 4 * 2**30
AUTO_MAX_ROWS = 64
AUTO_MIN_ROWS = 4


def auto_batch_size(cached: SharedPrefix | None) -> int:
    """Rows per batch: bounded by the memory of the expanded prefix cache each batch copies."""
    if cached is None:
        return AUTO_MAX_ROWS
    per_row = sum(
        k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in cached.kv[: cached.keep]
    )
    return int(min(AUTO_MAX_ROWS, max(AUTO_MIN_ROWS, AUTO_CACHE_BYTES // max(per_row, 1))))


def reuses_prefix(model, encoded: Encoded, plan: str = "padded") -> bool:
    """Whether the shared prefix is run once. Packed: whenever there is one. Padded: when no sliding-window
    layer is shorter than the longest prompt (that layer's cache would drop prefix keys a padded row still
    needs: not exact, tested)."""
    if plan == "packed":
        return bool(encoded.shared_prefix)
    return bool(encoded.shared_prefix) and prefix_fits_windows(model, _longest(encoded))


def _last_logits(model, seqs: list[list[int]], pad_id: int, side: str, cached: SharedPrefix | None):
    """(B, vocab) logits at each row's last real token."""
    batch = pad_batch(seqs, pad_id, side, cached.length if cached else 0)
    device = next(model.parameters()).device
    inputs = {
        "input_ids": batch.input_ids.to(device),
        "attention_mask": batch.attention_mask.to(device),
        "position_ids": batch.position_ids.to(device),
    }
    if cached is not None:
        inputs |= {cache_kwarg(model): cached.cache(len(seqs)), "use_cache": True}
    else:  # nothing comes after this pass: keeping its keys and values would only cost memory
        inputs["use_cache"] = False
    last = torch.tensor([o + len(s) - 1 for o, s in zip(batch.offsets, seqs, strict=True)])
    keep = accepts_logits_to_keep(model)
    if keep:
        # left padding puts every answer position in the last column; right padding names it per row
        inputs["logits_to_keep"] = 1 if side == "left" else last.unsqueeze(1).to(device)
    with torch.inference_mode():
        logits = model(**inputs).logits
    if keep:
        return logits[:, -1] if side == "left" else logits[:, 0]
    return logits[torch.arange(len(seqs)), last.to(logits.device)]
