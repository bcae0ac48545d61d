"""Next-token option probabilities of many prompts that share their beginning, fast and exact.

The shared prefix (instruction and context) runs once through :class:`~truthstab.activations.prefix.
SharedPrefix`; batches of statements, sorted by length so padding is short, then run only their own
tokens and the options. Only the answer position is projected onto the vocabulary. With left padding
(the default) that position is the last column for every row; with right padding it is gathered per row.
Either way the numbers do not depend on the batch size or padding side (tested), and equal a full
un-cached pass within float tolerance (tested).
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
    pad_batch,
    prefix_fits_windows,
)
from truthstab.behaviour.answers import option_probabilities
from truthstab.errors import ActivationError
from truthstab.models.loading import LoadedModel


def answer_probabilities(
    loaded: LoadedModel,
    encoded: Encoded,
    option_ids: dict[str, list[int]],
    batch_size: int | str = "auto",
    padding_side: str = "left",
    on_progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(N, 4) P(a), P(b), P(c), mass outside, for prompts ``shared_prefix + ids[i]``, in input order.

    ``batch_size="auto"``: :func:`auto_batch_size`. Raises ActivationError on non-finite logits.
    """
    if padding_side not in ("left", "right"):
        raise ActivationError(f"padding_side must be left or right, not {padding_side!r}")
    if batch_size != "auto" and not (isinstance(batch_size, int) and batch_size > 0):
        raise ActivationError(f"batch size must be a positive integer or 'auto', not {batch_size!r}")
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


def reuses_prefix(model, encoded: Encoded) -> bool:
    """Whether the shared prefix can be run once: it exists, and no sliding-window layer is shorter than the
    longest prompt (that layer's cache would drop prefix keys the window still needs: not exact, tested)."""
    longest = len(encoded.shared_prefix) + max(len(s) for s in encoded.ids)
    return bool(encoded.shared_prefix) and prefix_fits_windows(model, longest)


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
