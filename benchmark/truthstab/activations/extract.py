"""Hidden-state extraction: per-layer last-token and mean vectors, and token bags, fast and exact.

What is pooled (a decision, docs/method.md §4): the statement's OWN tokens. Special tokens the tokenizer adds
(BOS, [CLS], [SEP]) and a chat template's text before and after the statement are context, not pooled:
"last" is the statement's last token, "mean" and "bags" cover exactly its tokens. Causal models
therefore never need the tokens after the statement (they cannot influence earlier positions) and do
not get them.

Layer ``l`` is the residual output of decoder block ``l`` (0-based; ``hidden_states[l + 1]`` in
transformers, except that we take the last block's output before the final norm, as for every block).
It is captured with forward hooks on the model's own blocks; a hook on the deepest requested block ends
the forward pass, so no work is done past it.

Speed without changing the numbers:
- statements are sorted by length and batched, padded only to the batch's longest, order restored;
- the token prefix shared by every statement (a chat template's system prompt and user header, or a
  BOS) is run once; its key/value cache is expanded over each batch, and the statement tokens run with
  position ids continuing after it and an attention mask covering prefix + statement (the shared
  machinery is in :mod:`truthstab.activations.prefix`, which the behavioural track uses too);
- position ids are given explicitly from the attention mask, so left and right padding give the same
  vectors (tested at batch sizes 1 and 32).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from truthstab.activations.prefix import (
    SharedPrefix,
    cache_kwarg,
    pad_batch,
    shared_prefix,
    sliding_windows,
)
from truthstab.activations.types import TokenBags
from truthstab.errors import ActivationError
from truthstab.models.loading import LoadedModel
from truthstab.models.templates import split_template

#: Batch size of ``batch_size="auto"`` on the CPU (large batches amortise per-operation overhead, which
#: dominates short statements on a busy CPU); on a GPU auto starts at AUTO_GPU_START and halves on OOM.
AUTO_CPU_BATCH = 128
AUTO_GPU_START = 512


@dataclass
class Encoded:
    """Token ids of the statements, ready to batch: ``shared_prefix`` + ``ids[i]`` is statement i's input.

    The statement's own tokens are ``ids[i][starts[i]:ends[i]]``.
    """

    shared_prefix: list[int]
    ids: list[list[int]]
    starts: list[int]
    ends: list[int]


@dataclass
class Extraction:
    """Activations of N statements, in input order: float32 arrays per 0-based layer."""

    layers: tuple[int, ...]
    last: dict[int, np.ndarray]  # (N, D)
    mean: dict[int, np.ndarray]  # (N, D)
    bags: dict[int, TokenBags] = field(default_factory=dict)
    n_tokens: np.ndarray | None = None  # (N,) statement token counts
    meta: dict = field(default_factory=dict)


class _StopForward(Exception):
    """Raised by the hook on the deepest wanted block: nothing past it needs computing."""


def extract_activations(
    loaded: LoadedModel,
    texts: list[str],
    layers: Sequence[int] | None = None,
    bag_layers: Sequence[int] = (),
    batch_size: int | str = "auto",
    progress: bool = False,
    padding_side: str = "right",
    prefix_cache: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> Extraction:
    """Extract last-token and mean vectors for ``layers`` (None: all) and token bags for ``bag_layers``.

    ``on_progress(n)`` is called after each batch with the number of statements it finished.
    Raises ActivationError on non-finite values or bad layer numbers.
    """
    n_layers = loaded.spec.n_layers
    pooled = tuple(range(n_layers)) if layers is None else tuple(sorted(set(layers)))
    bag_set = tuple(sorted(set(bag_layers)))
    for layer in pooled + bag_set:
        if not 0 <= layer < n_layers:
            raise ActivationError(f"layer {layer} does not exist: the model has layers 0..{n_layers - 1}")
    if not texts:
        raise ActivationError("no statements to extract")
    if padding_side not in ("left", "right"):
        raise ActivationError(f"padding_side must be left or right, not {padding_side!r}")
    wanted = sorted(set(pooled) | set(bag_set))
    if not wanted:
        raise ActivationError("no layers asked for: give layers, bag layers, or both")
    encoded = encode_statements(loaded, texts, use_shared_prefix=prefix_cache)
    runner = _Runner(loaded, wanted, encoded.shared_prefix, padding_side)
    order = sorted(range(len(texts)), key=lambda i: -len(encoded.ids[i]))
    dim = loaded.spec.hidden_size
    last = {layer: np.empty((len(texts), dim), np.float32) for layer in pooled}
    mean = {layer: np.empty((len(texts), dim), np.float32) for layer in pooled}
    bag_parts: dict[int, list[np.ndarray | None]] = {layer: [None] * len(texts) for layer in bag_set}
    bar = _progress_bar(len(texts), progress)
    size = _initial_batch_size(batch_size, runner.device)
    start = 0
    while start < len(order):
        batch = order[start : start + size]
        try:
            states, spans = runner.run(
                [encoded.ids[i] for i in batch],
                [encoded.starts[i] for i in batch],
                [encoded.ends[i] for i in batch],
            )
        except torch.cuda.OutOfMemoryError:
            if size == 1 or batch_size != "auto":
                raise
            size //= 2
            torch.cuda.empty_cache()
            continue
        _pool(states, spans, batch, pooled, bag_set, last, mean, bag_parts)
        start += len(batch)
        bar.update(len(batch))
        if on_progress:
            on_progress(len(batch))
    bar.close()
    bags = {layer: _to_bags(parts) for layer, parts in bag_parts.items()}
    n_tokens = np.array([e - s for s, e in zip(encoded.starts, encoded.ends, strict=True)], np.int64)
    meta = {
        "batch_size": size,
        "padding_side": padding_side,
        "shared_prefix_tokens": len(encoded.shared_prefix),
        "prefix_cache": bool(encoded.shared_prefix),
        "pooling": "statement tokens only (template and special tokens excluded)",
        "layer_capture": "hooks" if runner.blocks is not None else "output_hidden_states",
    }
    return Extraction(layers=pooled, last=last, mean=mean, bags=bags, n_tokens=n_tokens, meta=meta)


def encode_statements(loaded: LoadedModel, texts: list[str], use_shared_prefix: bool = True) -> Encoded:
    """Tokenize statements (through the chat template if the spec says so) and locate their own tokens.

    Chat-templated text is tokenized without adding special tokens: templates carry their own BOS, and a
    second one would shift every position (reference defect 4, docs/method.md §12).
    """
    chat = loaded.spec.uses_chat_template
    before, after = split_template(loaded.tokenizer) if chat else ("", "")
    return encode_around(
        loaded,
        texts,
        before,
        after,
        add_special_tokens=not chat,
        # causal models never need what follows the statement; encoders attend both ways and keep it
        keep_after=loaded.spec.is_encoder,
        use_shared_prefix=use_shared_prefix,
    )


def encode_around(
    loaded: LoadedModel,
    texts: list[str],
    before: str,
    after: str,
    add_special_tokens: bool,
    keep_after: bool,
    use_shared_prefix: bool = True,
) -> Encoded:
    """Tokenize ``before + text + after`` for each text as one string, and locate each text's own tokens.

    ``keep_after``: keep the tokens after the text (a prompt's question suffix) or cut the input at the
    text's last token. The whole string is tokenized at once, so token boundaries are exactly those of a
    plain pass; the tokens before the text become ``shared_prefix`` when they are the same for every text
    (and the model is causal: an encoder's prefix tokens attend to the text).
    """
    tok = loaded.tokenizer
    full = [before + t + after for t in texts]
    try:
        enc = tok(full, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
    except NotImplementedError as exc:  # only "fast" (Rust) tokenizers report character offsets
        raise ActivationError(
            f"{type(tok).__name__} cannot map tokens to characters, so the statement's own tokens cannot be "
            "found: the model needs a fast tokenizer (tokenizer.json)"
        ) from exc
    ids, starts, ends = [], [], []
    for i, text in enumerate(texts):
        lo, hi = len(before), len(before) + len(text)
        inside = [k for k, (a, b) in enumerate(enc["offset_mapping"][i]) if b > a and a < hi and b > lo]
        if not inside:
            raise ActivationError(f"statement {i} ({text[:40]!r}) has no tokens of its own: is it empty?")
        seq = list(enc["input_ids"][i])
        ids.append(seq if keep_after else seq[: inside[-1] + 1])
        starts.append(inside[0])
        ends.append(inside[-1] + 1)
    shared = shared_prefix(ids, starts) if use_shared_prefix and not loaded.spec.is_encoder else []
    if shared:
        cut = len(shared)
        ids = [seq[cut:] for seq in ids]
        starts = [s - cut for s in starts]
        ends = [e - cut for e in ends]
    return Encoded(shared_prefix=shared, ids=ids, starts=starts, ends=ends)


def decoder_blocks(model) -> list | None:
    """The model's list of transformer blocks (one per layer), or None if it cannot be found."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    n = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None)
    candidates = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.ModuleList) and len(module) == n
    ]
    # multimodal models also hold vision blocks: prefer the language model's list
    candidates.sort(key=lambda c: (not any(k in c[0] for k in ("language", "text", "decoder")), len(c[0])))
    return list(candidates[0][1]) if candidates else None


class _Runner:
    """Runs padded batches through the model and returns the wanted layers' hidden states."""

    def __init__(self, loaded: LoadedModel, wanted: list[int], prefix: list[int], padding_side: str):
        self.model = loaded.model
        self.wanted = wanted
        self.padding_side = padding_side
        self.pad_id = loaded.tokenizer.pad_token_id or 0
        self.device = next(self.model.parameters()).device
        self.blocks = decoder_blocks(self.model)
        self.captured: dict[int, torch.Tensor] = {}
        self.cache_kwarg = cache_kwarg(self.model)
        self.prefix = SharedPrefix(self.model, prefix, self._keep_layers(wanted[-1])) if prefix else None
        self.prefix_len = len(prefix)

    def run(self, ids: list[list[int]], starts: list[int], ends: list[int]):
        """Hidden states {layer: (B, T, D)} of one batch and the statement spans in padded coordinates."""
        batch = pad_batch(ids, self.pad_id, self.padding_side, self.prefix_len)
        spans = [(o + s, o + e) for o, s, e in zip(batch.offsets, starts, ends, strict=True)]
        kwargs = {}
        if self.prefix is not None:
            kwargs = {self.cache_kwarg: self.prefix.cache(len(ids)), "use_cache": True}
        states = self._forward(batch.input_ids, batch.attention_mask, batch.position_ids, kwargs, stop=True)
        return states, spans

    def _expanded_cache(self, batch: int):
        """The shared prefix's cache for a batch of ``batch`` rows (kept for the benchmarks' bare forward)."""
        assert self.prefix is not None
        return self.prefix.cache(batch)

    def _keep_layers(self, deepest: int) -> int | None:
        """How many layers' prefix keys/values a batch needs: up to the deepest wanted block, unless some
        layer uses a sliding window (its attention mask is sized from its own cache, so all keep it)."""
        if self.blocks is None or any(w is not None for w in sliding_windows(self.model)):
            return None
        return deepest + 1

    def _forward(self, input_ids, mask, positions, kwargs: dict, stop: bool) -> dict[int, torch.Tensor]:
        inputs = {"input_ids": input_ids, "attention_mask": mask, "position_ids": positions, **kwargs}
        inputs = {k: v.to(self.device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
        self.captured = {}
        if self.blocks is None:  # unknown family: ask for every hidden state
            with torch.inference_mode():
                out = self.model(**inputs, output_hidden_states=True)
            if getattr(out, "hidden_states", None) is None:
                raise ActivationError(
                    f"{type(self.model).__name__} returns no hidden states: it cannot be probed"
                )
            return {layer: out.hidden_states[layer + 1] for layer in self.wanted}
        deepest = self.wanted[-1]
        handles = [
            self.blocks[layer].register_forward_hook(self._hook(layer, stop and layer == deepest))
            for layer in self.wanted
        ]
        try:
            with torch.inference_mode():
                self.model(**inputs)
        except _StopForward:
            pass
        finally:
            for handle in handles:
                handle.remove()
        return self.captured

    def _hook(self, layer: int, stop: bool):
        def hook(_module, _args, output):
            self.captured[layer] = output[0] if isinstance(output, tuple) else output
            if stop:
                raise _StopForward

        return hook


def _pool(states, spans, batch, pooled, bag_set, last, mean, bag_parts) -> None:
    """Write the statement-token last/mean vectors and bags of one batch at their original rows."""
    width = next(iter(states.values())).shape[1]
    pos = torch.arange(width)
    lo = torch.tensor([s for s, _ in spans]).unsqueeze(1)
    hi = torch.tensor([e for _, e in spans]).unsqueeze(1)
    select = (pos >= lo) & (pos < hi)  # (B, T) the statement's own tokens
    counts = select.sum(1, keepdim=True)
    rows = torch.tensor(batch)
    for layer in sorted(set(pooled) | set(bag_set)):
        h = states[layer].float().cpu()
        real = h[select]
        if not torch.isfinite(real).all():
            raise ActivationError(
                f"non-finite activations (NaN or inf) at layer {layer}: try --dtype float32, or check the model"
            )
        if layer in pooled:
            last[layer][rows.numpy()] = h[torch.arange(len(batch)), hi.squeeze(1) - 1].numpy()
            mean[layer][rows.numpy()] = ((h * select.unsqueeze(-1)).sum(1) / counts).numpy()
        if layer in bag_set:
            for k, part in enumerate(torch.split(real, counts.squeeze(1).tolist())):
                bag_parts[layer][batch[k]] = part.numpy()


def _to_bags(parts: list) -> TokenBags:
    lengths = np.array([len(p) for p in parts], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return TokenBags(vectors=np.concatenate(parts).astype(np.float32), offsets=offsets)


def _initial_batch_size(batch_size: int | str, device: torch.device) -> int:
    if batch_size == "auto":
        return AUTO_GPU_START if device.type == "cuda" else AUTO_CPU_BATCH
    if isinstance(batch_size, int) and batch_size > 0:
        return batch_size
    raise ActivationError(f"batch size must be a positive integer or 'auto', not {batch_size!r}")


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="stmt", desc="activations", smoothing=0.1)
