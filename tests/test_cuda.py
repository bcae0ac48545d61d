"""The CUDA path: device choice, bf16 auto dtype, device_map="auto", OOM back-off, GPU = CPU extraction.

Skipped without a CUDA GPU (every development and CI machine of this project); docker/gpu-check.sh runs
them on a machine with one. The models are tiny random ones from tests/tinymodels.py, except the OOM test,
which widens one so that a batch of 512 does not fit under a memory cap while a smaller one does.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from tinymodels import statements
from truthstab.activations.extract import AUTO_GPU_START, extract_activations
from truthstab.models import loading
from truthstab.models.loading import load_model

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU (docker/gpu-check.sh)"
)


def _devices(model) -> set[str]:
    return {str(p.device) for p in model.parameters()}


def test_auto_picks_the_gpu_and_bf16_where_it_is_supported(tiny_llama_dir):
    want = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    assert loading.resolve_device_dtype("auto", "auto") == (want, "auto", "cuda")
    loaded = load_model(str(tiny_llama_dir))
    assert loaded.spec.device == "cuda" and loaded.spec.dtype == str(want).removeprefix("torch.")
    assert {p.dtype for p in loaded.model.parameters()} == {want}
    assert all(device.startswith("cuda") for device in _devices(loaded.model))


def test_plain_cuda_uses_device_map_auto_and_an_index_pins_one_gpu(tiny_llama_dir):
    spread = load_model(str(tiny_llama_dir), device="cuda", dtype="float32")
    # accelerate records the placement it chose when from_pretrained gets device_map="auto"
    assert getattr(spread.model, "hf_device_map", None), "device_map='auto' was not used"
    assert all(device.startswith("cuda") for device in _devices(spread.model))
    pinned = load_model(str(tiny_llama_dir), device="cuda:0", dtype="float32")
    assert _devices(pinned.model) == {"cuda:0"}


def _close(gpu, cpu, rtol: float, atol: float) -> None:
    for layer in cpu.layers:
        np.testing.assert_allclose(gpu.last[layer], cpu.last[layer], rtol=rtol, atol=atol)
        np.testing.assert_allclose(gpu.mean[layer], cpu.mean[layer], rtol=rtol, atol=atol)


def test_gpu_extraction_equals_cpu_within_tolerance(tiny_llama_dir):
    texts = statements(64)
    cpu = extract_activations(load_model(str(tiny_llama_dir), device="cpu", dtype="float32"), texts)
    gpu32 = extract_activations(load_model(str(tiny_llama_dir), device="cuda:0", dtype="float32"), texts)
    # TF32 matmuls are off by default in PyTorch, so float32 on the GPU differs only by summation order
    _close(gpu32, cpu, rtol=1e-4, atol=1e-5)
    if torch.cuda.is_bf16_supported():
        gpu16 = extract_activations(load_model(str(tiny_llama_dir), device="cuda:0", dtype="bfloat16"), texts)
        for layer in cpu.layers:
            a, b = gpu16.last[layer], cpu.last[layer]
            cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
            assert cosine.min() > 0.99, (layer, cosine.min())


def test_auto_batch_size_halves_on_out_of_memory_and_keeps_the_numbers(tiny_llama_dir, tmp_path):
    from transformers import LlamaConfig, LlamaForCausalLM

    # A wide 2-layer Llama with the tiny tokenizer: its hidden states at batch 512 need gigabytes.
    folder = shutil.copytree(tiny_llama_dir, tmp_path / "wide")
    config = LlamaConfig.from_pretrained(folder)
    config.hidden_size, config.intermediate_size = 2048, 8192
    config.num_attention_heads, config.num_key_value_heads = 16, 8
    config.max_position_embeddings = 1024
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    loaded = load_model(str(folder), device="cuda:0", dtype="float32")
    texts = [" ".join([text] * 12) for text in statements(AUTO_GPU_START)]  # ~200 tokens each
    reference = extract_activations(loaded, texts[:16], batch_size=4)
    torch.cuda.synchronize()
    weights = torch.cuda.memory_allocated(0)
    total = torch.cuda.get_device_properties(0).total_memory
    # Room for the weights and about 1.5 GB: a batch of 512 (about 3 GB of MLP activations) cannot fit.
    torch.cuda.set_per_process_memory_fraction(min(1.0, (weights + 1.5e9) / total), 0)
    try:
        torch.cuda.empty_cache()
        backed_off = extract_activations(loaded, texts, batch_size="auto")
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, 0)
    assert backed_off.meta["batch_size"] < AUTO_GPU_START, "no out-of-memory happened: the cap is too loose"
    for layer in reference.layers:
        np.testing.assert_allclose(backed_off.last[layer][:16], reference.last[layer], rtol=1e-4, atol=1e-5)
    with pytest.raises(torch.cuda.OutOfMemoryError):  # a fixed batch size is the user's choice: no back-off
        torch.cuda.set_per_process_memory_fraction(min(1.0, (weights + 1.5e9) / total), 0)
        try:
            torch.cuda.empty_cache()
            extract_activations(loaded, texts, batch_size=AUTO_GPU_START)
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0, 0)
