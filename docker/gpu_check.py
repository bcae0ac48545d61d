"""Extraction throughput on a GPU, for docker/gpu-check.sh: a randomly initialised model with the
architecture of Llama-3-8B (its config built here, nothing downloaded) over every statement of the default
release, through truthstab's real extraction (all layers, last-token and mean vectors, the chat template's
shared prefix run once), against a bare forward pass of the same model over the same batches.

Prints one JSON object: statements/s of each, and their ratio (extraction / bare; the target is >= 0.85).
The bare pass runs every block on the padded batches of prefix + statement tokens, without hooks, pooling
or copies to the host, so it is the cost of the model alone.

The tokenizer is a byte-level BPE trained here on the release's statements (Llama-3's own cannot be
fetched offline); with a vocabulary of 16,000 it splits English statements into about as many tokens.
``--small`` swaps in a 4-layer model of width 64 and a sample of the release: a smoke run for the CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch


def llama3_8b_config(**token_ids):
    """The published Llama-3-8B architecture (32 blocks of width 4096, grouped-query attention 32/8)."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=128256,
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
        max_position_embeddings=8192,
        rms_norm_eps=1e-5,
        rope_theta=500000.0,
        tie_word_embeddings=False,
        **token_ids,
    )


def small_config(**token_ids):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=16384,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        **token_ids,
    )


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE with a BOS and the tiny Llama's dated chat template (a shared prefix to cache)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from tinymodels import LLAMA_CHAT_TEMPLATE

    special = ["<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = LLAMA_CHAT_TEMPLATE
    return fast


def random_model(config, tokenizer, device: str, dtype: torch.dtype):
    """The model with random weights made on ``device`` directly, wrapped as truthstab loads a model."""
    from transformers import LlamaForCausalLM

    from truthstab.models import templates
    from truthstab.models.loading import LoadedModel, ModelSpec

    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlamaForCausalLM(config).eval()
    finally:
        torch.set_default_dtype(previous)
    template = templates.template_text(tokenizer)
    spec = ModelSpec(
        id=f"random-llama-{config.num_hidden_layers}x{config.hidden_size}",
        alias=None,
        revision_sha="0" * 64,
        dtype=str(dtype).removeprefix("torch."),
        device=device,
        architecture=type(model).__name__,
        model_type="llama",
        is_encoder=False,
        is_instruct=True,
        uses_chat_template=True,
        chat_template_sha256=templates.template_sha256(template),
        n_layers=config.num_hidden_layers,
        hidden_size=config.hidden_size,
        n_parameters=sum(p.numel() for p in model.parameters()),
        quantization_note="",
        source="local",
    )
    return LoadedModel(model=model, tokenizer=tokenizer, spec=spec)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bare_forward(loaded, texts: list[str], batch_size: int) -> float:
    """Seconds for the model alone over the batches extraction ran: same order, sizes and padding."""
    from truthstab.activations.extract import encode_statements

    encoded = encode_statements(loaded, texts)
    prefix = encoded.shared_prefix
    order = sorted(range(len(texts)), key=lambda i: -len(encoded.ids[i]))
    pad = loaded.tokenizer.pad_token_id or 0
    device = next(loaded.model.parameters()).device
    _sync(str(device))
    start = time.perf_counter()
    for lo in range(0, len(order), batch_size):
        batch = [prefix + encoded.ids[i] for i in order[lo : lo + batch_size]]
        width = max(len(seq) for seq in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        with torch.inference_mode():
            loaded.model.model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False)
    _sync(str(device))
    return time.perf_counter() - start


def throughput(small: bool, device: str, dataset: str, batch_size: str) -> dict:
    from truthstab.activations.extract import extract_activations
    from truthstab.data.registry import get_release, load_statements

    release = get_release(dataset)
    texts = [row.statement for row in load_statements(release)]
    if small:
        texts = texts[::50]
    tokenizer = train_tokenizer(texts, vocab_size=16000)
    ids = {"bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 2}  # the special tokens' order above
    config = (small_config if small else llama3_8b_config)(**ids)
    dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    start = time.perf_counter()
    loaded = random_model(config, tokenizer, device, dtype)
    build_s = time.perf_counter() - start
    size = batch_size if batch_size == "auto" else int(batch_size)
    extract_activations(loaded, texts[:64], batch_size=size)  # warm-up: kernels, allocator, prefix cache
    _sync(device)
    start = time.perf_counter()
    extraction = extract_activations(loaded, texts, batch_size=size)
    _sync(device)
    extract_s = time.perf_counter() - start
    used_batch = extraction.meta["batch_size"]
    bare_s = bare_forward(loaded, texts, used_batch)
    tokens = int(extraction.n_tokens.sum())
    return {
        "model": loaded.spec.id,
        "parameters": loaded.spec.n_parameters,
        "dtype": loaded.spec.dtype,
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "release": release.ref,
        "statements": len(texts),
        "statement_tokens": tokens,
        "shared_prefix_tokens": extraction.meta["shared_prefix_tokens"],
        "layers": len(extraction.layers),
        "batch_size": used_batch,
        "build_s": round(build_s, 2),
        "extraction_s": round(extract_s, 2),
        "bare_forward_s": round(bare_s, 2),
        "extraction_statements_per_s": round(len(texts) / extract_s, 1),
        "bare_statements_per_s": round(len(texts) / bare_s, 1),
        "ratio": round(bare_s / extract_s, 3),
        "target_ratio": 0.85,
        "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 1) if device != "cpu" else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a small model and a sample (CPU smoke run)")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--dataset", default="truthstab", help="release NAME[@VERSION] (default: truthstab)")
    parser.add_argument("--batch-size", default="auto")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            "error: no CUDA GPU is visible to torch: run on a GPU machine, or pass --device cpu --small",
            file=sys.stderr,
        )
        return 2
    report = throughput(args.small, args.device, args.dataset, args.batch_size)
    print(json.dumps(report, indent=2))
    return 0 if args.small or report["ratio"] >= report["target_ratio"] else 1


if __name__ == "__main__":
    sys.exit(main())
