"""Tiny random Hugging Face models for tests, built in memory and saved with ``save_pretrained``.

Each builder writes a complete model folder (safetensors weights, config, tokenizer) that the real
loading path (``truthstab.models.loading.load_model``) reads back, so tests exercise exactly what a user
runs, only smaller. Tokenizers are trained in memory with ``tokenizers`` on a small corpus of the kind of
statements the benchmark uses. Seeds are fixed: the same call writes the same weights.

Builders:
- ``build_tiny_llama(path)``: a 2-layer Llama chat model whose template inserts a BOS, a system prompt and
  today's date (``strftime_now``), to test chat templating, double-BOS avoidance and date pinning.
- ``build_tiny_gpt2(path)``: a 2-layer GPT-2-style base model (no BOS, no chat template).
- ``build_tiny_bert(path)``: a 2-layer BERT-style encoder ([CLS] statement [SEP]).
- ``build_tiny_gemma3(path, sliding_window)``: a 4-layer Gemma-3 text model, three sliding-window layers
  and one full-attention layer (Gemma-3's hybrid pattern), base (no chat template).
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertModel,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

#: Words the tokenizers learn from; statements in tests should mostly use them.
CITIES = ["Lyon", "Paris", "Berlin", "Madrid", "Lima", "Cairo", "Oslo", "Quito", "Tokyo", "Rome"]
COUNTRIES = ["France", "Germany", "Spain", "Peru", "Egypt", "Norway", "Ecuador", "Japan", "Italy"]

#: The tiny Llama's chat template: BOS, a system prompt with today's date, then the turns.
LLAMA_CHAT_TEMPLATE = (
    "{{ bos_token }}<|system|>\nYou are a careful assistant. Today is {{ strftime_now('%d %B %Y') }}.<|end|>\n"
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def corpus(extra: tuple[str, ...] = ()) -> list[str]:
    """Statements (true, false, negated), template words and ``extra`` lines the tiny tokenizers learn."""
    lines = []
    for i, city in enumerate(CITIES):
        for j, country in enumerate(COUNTRIES):
            if (i + j) % 3 == 0:
                lines.append(f"The city of {city} is located in {country}.")
                lines.append(f"The city of {city} is not located in {country}.")
    lines += ["You are a careful assistant. Today is 26 July 2024.", "January March November December"]
    return lines + list(extra)


def statements(n: int) -> list[str]:
    """``n`` statements of varied token length, deterministic."""
    out = []
    for k in range(n):
        city, country = CITIES[k % len(CITIES)], COUNTRIES[(k * 7) % len(COUNTRIES)]
        neg = " not" if k % 3 == 1 else ""
        extra = " , in fact" * (k % 4)
        out.append(f"The city of {city} is{neg} located in {country}{extra}.")
    return out


def _bpe_tokenizer(special: list[str], vocab_size: int = 400, extra: tuple[str, ...] = ()) -> Tokenizer:
    """A byte-level BPE tokenizer trained in memory on :func:`corpus`."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus(extra), trainer=trainer)
    return tok


def build_tiny_llama(
    path: Path,
    chat_template: bool = True,
    seed: int = 0,
    max_positions: int = 256,
    extra_corpus: tuple[str, ...] = (),
) -> Path:
    """A 2-layer Llama with a BPE tokenizer that adds BOS, and (by default) a dated chat template.

    ``extra_corpus``: more lines for the tokenizer to learn (prompt words, so prompts stay short).
    """
    special = ["<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    tok = _bpe_tokenizer(special, vocab_size=400 + 200 * bool(extra_corpus), extra=extra_corpus)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", add_bos_token=True
    )
    if chat_template:
        fast.chat_template = LLAMA_CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        bos_token_id=bos,
        eos_token_id=tok.token_to_id("</s>"),
        pad_token_id=tok.token_to_id("<pad>"),
    )
    model = LlamaForCausalLM(config).eval()
    return _save(model, fast, path)


def build_tiny_gpt2(
    path: Path, seed: int = 0, max_positions: int = 256, extra_corpus: tuple[str, ...] = ()
) -> Path:
    """A 2-layer GPT-2-style base model: byte-level BPE, no BOS added, no chat template."""
    tok = _bpe_tokenizer(["<|endoftext|>"], vocab_size=400 + 200 * bool(extra_corpus), extra=extra_corpus)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>"
    )
    torch.manual_seed(seed)
    eot = tok.token_to_id("<|endoftext|>")
    config = GPT2Config(
        vocab_size=tok.get_vocab_size(),
        n_positions=max_positions,
        n_embd=32,
        n_layer=2,
        n_head=4,
        bos_token_id=eot,
        eos_token_id=eot,
    )
    model = GPT2LMHeadModel(config).eval()
    return _save(model, fast, path)


def build_tiny_gemma3(
    path: Path, sliding_window: int = 16, seed: int = 0, extra_corpus: tuple[str, ...] = ()
) -> Path:
    """A 4-layer Gemma-3 text model (3 sliding-window layers, then 1 full) with a BOS-adding BPE tokenizer."""
    tok = _bpe_tokenizer(
        ["<bos>", "<eos>", "<pad>"], vocab_size=400 + 200 * bool(extra_corpus), extra=extra_corpus
    )
    bos = tok.token_to_id("<bos>")
    tok.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", bos)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>"
    )
    torch.manual_seed(seed)
    config = Gemma3TextConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=1024,
        sliding_window=sliding_window,
        layer_types=["sliding_attention"] * 3 + ["full_attention"],
        bos_token_id=bos,
        eos_token_id=tok.token_to_id("<eos>"),
        pad_token_id=tok.token_to_id("<pad>"),
    )
    return _save(Gemma3ForCausalLM(config).eval(), fast, path)


def build_tiny_bert(path: Path, seed: int = 0) -> Path:
    """A 2-layer BERT-style encoder with a WordPiece tokenizer that wraps text in [CLS] ... [SEP]."""
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(
        corpus(), trainer=trainers.WordPieceTrainer(vocab_size=300, special_tokens=special)
    )
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=tok.token_to_id("[PAD]"),
    )
    model = BertModel(config).eval()
    return _save(model, fast, path)


def _save(model: torch.nn.Module, tokenizer: PreTrainedTokenizerFast, path: Path) -> Path:
    """Write model and tokenizer with ``save_pretrained`` (safetensors) and return the folder."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
