"""The queue with the real scorer: submit a tiny random model, run the queue, read the result, rank it."""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat

import pytest
from click.testing import CliRunner

from release_helpers import write_tiny
from truthstab.cli import main
from truthstab.errors import SubmissionError
from truthstab.results import read_result
from truthstab.submissions.executors import run_queue
from truthstab.submissions.queue import Queue
from truthstab.submissions.requests import Status
from truthstab.submissions.scorer import default_score_request
from truthstab.submissions.submit import submit


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    """A small release (the score tests' own), so the full protocol runs in seconds."""
    return write_tiny(tmp_path_factory.mktemp("rel"), name="tiny", version="0.0.1", per=8)


@pytest.fixture
def subs(tmp_path):
    return tmp_path / "subs"


@pytest.fixture
def scorer(release_dir, tmp_path):
    """The default scorer with an evaluator's settings: CPU, the small release, a private cache."""
    small = {"device": "cpu", "dataset": str(release_dir), "cache_dir": tmp_path / "cache", "n_bootstrap": 40}
    return functools.partial(default_score_request, batch_size="8", **small)


def test_submitted_tiny_model_is_scored_by_the_real_pipeline_and_ranked(
    tmp_path, subs, scorer, tiny_llama_dir, release_dir, monkeypatch
):
    # The board ranks only known releases: make the small one known, as a user's own release would be.
    monkeypatch.setenv("TRUTHSTAB_DATASETS", str(release_dir.parent))
    model = tmp_path / "tiny-llama"
    shutil.copytree(tiny_llama_dir, model)
    (model / "README.md").write_text("---\nlicense: mit\n---\n# tiny random Llama for tests\n")
    old_umask = os.umask(0o022)
    try:
        request, request_file = submit(str(model), dtype="float32", submissions=subs)
        lines: list[str] = []
        report = run_queue(subs, score_request=scorer, echo=lines.append)
    finally:
        os.umask(old_umask)
    (final,) = report.processed
    assert final.status == Status.FINISHED, (subs / final.log_path).read_text()
    result_file = subs / final.result_path
    # Progress: started with its log, each stage of the real pipeline, then where the result is.
    assert lines[0] == f"{request.id}: started (attempt 1); log {subs / final.log_path}"
    assert f"{request.id}: [2/7] model ..." in lines and f"{request.id}: [7/7] result ..." in lines
    assert lines[-1] == f"{request.id}: FINISHED; result {result_file}"
    # Another user may read what the queue wrote: the umask's modes, not mkstemp's 0600 / mkdtemp's 0700.
    for path in [request_file, result_file.parent, *result_file.parent.rglob("*")]:
        want = 0o755 if path.is_dir() else 0o644
        assert stat.S_IMODE(path.stat().st_mode) == want, path
    assert result_file.parent.parent.parent == request_file.parent, "the result lands beside the request"
    assert result_file.parent.parent.name == request.sha
    result = read_result(result_file)
    assert result.model.revision_sha == request.sha and result.model.dtype == "float32"

    built = CliRunner().invoke(
        main, ["leaderboard", "build", "--results", str(subs), "--out", str(tmp_path / "board"), "--json"]
    )
    assert built.exit_code == 0, built.output
    summary = json.loads(built.output)
    assert sum(board["models"] for board in summary["boards"]) == 1
    assert summary["skipped"] == [], "request files and logs beside the results must not disturb the board"


def test_cli_queue_run_fails_a_model_that_cannot_load_with_the_error_and_a_log(
    tmp_path, subs, monkeypatch, tiny_llama_dir
):
    # The CLI scorer uses the default release and the user cache: point both into the test's folder.
    release = write_tiny(tmp_path / "releases", name="truthstab", version="0.0.1", per=2)
    monkeypatch.setenv("TRUTHSTAB_DATASETS", str(release.parent))
    monkeypatch.setenv("TRUTHSTAB_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "no-tokenizer"  # a valid tiny model whose tokenizer is missing
    shutil.copytree(tiny_llama_dir, model)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (model / name).unlink()
    (model / "README.md").write_text("---\nlicense: mit\n---\n")
    request, _ = submit(str(model), dtype="float32", submissions=subs)
    run = CliRunner().invoke(main, ["queue", "run", "--submissions", str(subs), "--json"])
    assert run.exit_code == 0, run.output
    (final,) = json.loads(run.stdout)["processed"]
    assert final["id"] == request.id and final["status"] == "FAILED"
    progress = run.stderr.splitlines()  # on stderr, so that --json stays parseable
    assert progress[0] == f"{request.id}: started (attempt 1); log {subs / final['log_path']}"
    assert f"{request.id}: [2/7] model ..." in progress
    assert progress[-1] == f"{request.id}: FAILED: {final['error']}; log {subs / final['log_path']}"
    assert final["error"].startswith("ModelError: "), final["error"]
    log = (subs / final["log_path"]).read_text()
    assert "Traceback" in log and final["error"].split(": ", 1)[1] in log


def test_a_model_changed_after_the_queues_check_is_caught_by_the_sha_it_loaded_as(
    tmp_path, subs, scorer, tiny_llama_dir
):
    # The queue re-hashes a local folder before scoring; a swap after that check and before the load is
    # caught by the sha the loader itself computed and recorded in the result.
    model = tmp_path / "tiny-llama"
    shutil.copytree(tiny_llama_dir, model)
    (model / "README.md").write_text("---\nlicense: mit\n---\n")
    request, _ = submit(str(model), dtype="float32", submissions=subs)
    (model / "notes.json").write_text("{}")  # part of the folder's identity, harmless to the load
    with pytest.raises(SubmissionError, match="changed while it was being scored") as info:
        scorer(request, subs)
    assert "submit it again" in str(info.value)


def test_cli_queue_run_scores_on_the_release_the_evaluator_names(tmp_path, subs, monkeypatch, tiny_llama_dir):
    monkeypatch.setenv("TRUTHSTAB_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "tiny-llama"
    shutil.copytree(tiny_llama_dir, model)
    (model / "README.md").write_text("---\nlicense: mit\n---\n")
    request, _ = submit(str(model), dtype="float32", submissions=subs)
    unknown = CliRunner().invoke(main, ["queue", "run", "--submissions", str(subs), "--dataset", "nosuch"])
    assert unknown.exit_code != 0 and "unknown release 'nosuch'" in unknown.output
    assert len(unknown.output.strip().splitlines()) == 1 and "Traceback" not in unknown.output
    assert Queue(subs).find(request.id)[1].status == Status.PENDING  # nothing was claimed
    release = write_tiny(tmp_path / "releases", name="evalset", version="0.0.3", per=2)
    run = CliRunner().invoke(
        main, ["queue", "run", "--submissions", str(subs), "--dataset", str(release), "--json", "--quiet"]
    )
    assert run.exit_code == 0, run.output
    (final,) = json.loads(run.stdout)["processed"]
    assert final["status"] == "FINISHED", final
    result = read_result(subs / final["result_path"])
    assert (result.dataset.name, result.dataset.version) == ("evalset", "0.0.3")
