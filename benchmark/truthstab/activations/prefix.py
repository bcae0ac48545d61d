"""A token prefix shared by every sequence of a batch, run through the model once (method.md §4).

Two stages feed a causal LM many sequences that begin with the same tokens: activation extraction (a chat
template's system prompt and user header) and the behavioural track (the instruction and up to 100 context
statements). The prefix's keys and values are computed once; each batch then gets a fresh cache holding
them expanded over its rows, and runs only its own tokens, with position ids continuing after the prefix
and an attention mask covering prefix + own tokens. Position ids are given explicitly from the mask, so
left and right padding give the same numbers.

A sliding-window layer keeps only its window of keys: a padded batch behind a prefix that does not fit in
the window cannot reuse it exactly, so :func:`prefix_fits_windows` says when padded batches must fall back
to full passes.

Packing (:func:`pack_sequences`, :func:`packed_masks`) is the faster way when only a few positions of each
sequence are read (the behavioural track): several sequences are laid end to end in *one* row behind the
prefix, each with its own position ids, and an explicit attention mask lets each token see the prefix and
the earlier tokens of its own sequence only (within a sliding window where a layer has one). The prefix
cache is then never copied per row, no token is padding, and the matrix products are wide. Sliding-window
layers are exact too: the mask names each key's true position, and a window of W needs only the last W - 1
prefix keys, which is what the cache keeps.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch

#: Attention implementations that apply an arbitrary additive mask (packing needs one).
MASKABLE_ATTENTION = ("sdpa", "eager")
#: The layer types of a hybrid model whose forward takes one mask per type (a dict), as transformers' own.
HYBRID_LAYER_TYPES = {"full_attention", "sliding_attention"}


def cache_kwarg(model) -> str:
    """The forward keyword of the key/value cache: ``cache`` in transformers 5.x, ``past_key_values`` before."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def accepts_logits_to_keep(model) -> bool:
    """Whether the model's forward can compute logits for chosen positions only (saves a vocab projection
    of every prefix token)."""
    return "logits_to_keep" in inspect.signature(model.forward).parameters


def sliding_windows(model) -> list[int | None]:
    """Each layer's sliding window (None: full attention), from a cache built for the model's config."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    sliding = getattr(cache, "is_sliding", None) or [False] * len(cache.layers)
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    window = getattr(config, "sliding_window", None)
    return [window if s else None for s in sliding]


def prefix_fits_windows(model, total_length: int) -> bool:
    """True if no sliding-window layer would drop prefix keys in sequences of ``total_length`` tokens."""
    return all(w is None or total_length <= w for w in sliding_windows(model))


def _text_config(model):
    config = model.config
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def packable(model) -> bool:
    """Whether sequences can be packed into one row with an explicit mask: the attention implementation
    applies any mask, and every layer is full attention or the model takes a mask per layer type."""
    if getattr(model.config, "_attn_implementation", None) not in MASKABLE_ATTENTION:
        return False
    if all(w is None for w in sliding_windows(model)):
        return True
    types = getattr(_text_config(model), "layer_types", None)
    return bool(types) and set(types) <= HYBRID_LAYER_TYPES


def shared_prefix(ids: list[list[int]], starts: list[int]) -> list[int]:
    """The tokens before each sequence's own part (``seq[:start]``) if identical for all, else []."""
    first = ids[0][: starts[0]]
    if all(seq[:s] == first for seq, s in zip(ids, starts, strict=True)):
        return first
    return []


class SharedPrefix:
    """The key/value cache of one token prefix, reusable for any number of batches of continuations.

    ``keep_layers``: how many layers' keys/values later batches need (fewer when a forward hook stops the
    pass at a shallow block; None: all).
    """

    def __init__(self, model, prefix: list[int], keep_layers: int | None = None):
        from transformers import DynamicCache

        self.model = model
        self.length = len(prefix)
        self.kwarg = cache_kwarg(model)
        self.device = next(model.parameters()).device
        cache = DynamicCache(config=model.config)
        ids = torch.tensor([prefix], device=self.device)
        extra = {"logits_to_keep": 1} if accepts_logits_to_keep(model) else {}
        inputs = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "position_ids": torch.arange(len(prefix), device=self.device).unsqueeze(0),
            self.kwarg: cache,
            "use_cache": True,
            **extra,
        }
        with torch.inference_mode():
            model(**inputs)
        self.kv = [(layer.keys, layer.values) for layer in cache.layers if layer.is_initialized]
        self.keep = len(self.kv) if keep_layers is None else min(keep_layers, len(self.kv))

    def cache(self, batch: int):
        """A fresh cache holding the prefix for every row of a batch (expanded views; the model copies them
        once when it appends the batch's own keys)."""
        from transformers import DynamicCache

        data = [
            (k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1)) if i < self.keep else (None, None)
            for i, (k, v) in enumerate(self.kv)
        ]
        return DynamicCache(ddp_cache_data=data, config=self.model.config)


@dataclass
class PaddedBatch:
    """One batch ready for the model: ``offsets[i]`` is where row i's tokens start in padded coordinates."""

    input_ids: torch.Tensor  # (B, T)
    attention_mask: torch.Tensor  # (B, prefix + T): the prefix columns first
    position_ids: torch.Tensor  # (B, T), continuing after the prefix
    offsets: list[int]


def pad_batch(seqs: list[list[int]], pad_id: int, side: str, prefix_len: int = 0) -> PaddedBatch:
    """Pad token sequences to the longest on ``side`` (left/right), behind ``prefix_len`` cached tokens."""
    width = max(len(s) for s in seqs)
    input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    offsets = []
    for row, seq in enumerate(seqs):
        offset = width - len(seq) if side == "left" else 0
        input_ids[row, offset : offset + len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, offset : offset + len(seq)] = 1
        offsets.append(offset)
    # padding gets position 0 (it is masked); real tokens count on from the end of the prefix
    positions = (mask.cumsum(1) - 1).clamp(min=0) + prefix_len
    if prefix_len:
        mask = torch.cat([torch.ones((len(seqs), prefix_len), dtype=torch.long), mask], dim=1)
    return PaddedBatch(input_ids=input_ids, attention_mask=mask, position_ids=positions, offsets=offsets)


@dataclass
class PackedBatch:
    """Sequences laid end to end in one row behind a prefix of ``prefix_len`` tokens."""

    input_ids: torch.Tensor  # (1, T)
    position_ids: torch.Tensor  # (1, T): each sequence counts on from the end of the prefix
    segment: torch.Tensor  # (T,): which sequence each token belongs to
    ends: torch.Tensor  # (n,): the index of each sequence's last token in the row
    prefix_len: int


def pack_sequences(seqs: list[list[int]], prefix_len: int = 0) -> PackedBatch:
    """One row holding every sequence of ``seqs`` in order, behind ``prefix_len`` cached tokens."""
    lengths = torch.tensor([len(s) for s in seqs])
    flat = torch.tensor([t for s in seqs for t in s], dtype=torch.long)
    segment = torch.repeat_interleave(torch.arange(len(seqs)), lengths)
    starts = torch.cumsum(lengths, 0) - lengths
    positions = torch.arange(len(flat)) - starts[segment] + prefix_len
    return PackedBatch(
        input_ids=flat.unsqueeze(0),
        position_ids=positions.unsqueeze(0),
        segment=segment,
        ends=torch.cumsum(lengths, 0) - 1,
        prefix_len=prefix_len,
    )


def packed_mask(batch: PackedBatch, prefix_keys: int, window: int | None, dtype: torch.dtype) -> torch.Tensor:
    """(1, 1, T, prefix_keys + T) additive mask of a packed row for a layer whose cache holds the last
    ``prefix_keys`` prefix tokens: a token sees those and its own sequence's tokens up to itself, and with a
    ``window`` only keys less than ``window`` positions back (transformers' sliding-window rule)."""
    q_pos = batch.position_ids[0]
    prefix_pos = torch.arange(batch.prefix_len - prefix_keys, batch.prefix_len)
    k_pos = torch.cat([prefix_pos, q_pos])
    k_seg = torch.cat([torch.full((prefix_keys,), -1), batch.segment])
    allowed = (k_seg[None] == -1) | (k_seg[None] == batch.segment[:, None])
    allowed &= k_pos[None] <= q_pos[:, None]
    if window is not None:
        allowed &= k_pos[None] > q_pos[:, None] - window
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[None, None]


def packed_masks(model, batch: PackedBatch, cached: SharedPrefix | None) -> torch.Tensor | dict:
    """The attention mask argument for a packed row: one mask, or one per layer type for hybrid models
    (each sized to the prefix keys that type's cache layers hold)."""
    dtype = next(model.parameters()).dtype
    windows = sliding_windows(model)
    held = [len_kv(cached, i) for i in range(len(windows))]
    if all(w is None for w in windows):
        return packed_mask(batch, held[0], None, dtype)
    by_type = {}
    for layer_type, window, keys in zip(_text_config(model).layer_types, windows, held, strict=True):
        by_type.setdefault(layer_type, packed_mask(batch, keys, window, dtype))
    return by_type


def len_kv(cached: SharedPrefix | None, layer: int) -> int:
    """How many prefix keys layer ``layer`` of the cache holds (0 without a prefix)."""
    if cached is None:
        return 0
    return int(cached.kv[layer][0].shape[-2])
