"""The queue in one process: claims, leases, stale reclaim, finish/fail/retry/release, re-verified models, the CLI."""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import time

import numpy as np
import pytest
from click.testing import CliRunner
from safetensors.numpy import save_file

from submission_helpers import make_model_dir, make_request, write_result
from truthstab.cli import main
from truthstab.errors import SubmissionError
from truthstab.submissions.executors import run_queue
from truthstab.submissions.queue import STAGE_LOGGER, Queue
from truthstab.submissions.requests import Status, read_request, write_request
from truthstab.submissions.submit import submit


def test_claims_take_the_oldest_pending_request_once(tmp_path):
    old = make_request(tmp_path, "old", seed=1, age_s=60)
    new = make_request(tmp_path, "new", seed=2)
    queue = Queue(tmp_path)
    first, second = queue.claim("w1").claim, queue.claim("w2").claim
    assert (first.request.id, second.request.id) == (old.id, new.id)
    assert queue.claim("w3").claim is None
    on_disk = read_request(first.path)
    assert (on_disk.status, on_disk.worker_id, on_disk.attempts) == (Status.RUNNING, "w1", 1)
    assert on_disk.claim == first.token and on_disk.log_path.endswith(".attempt-1.log")


def test_finish_fail_and_retry(tmp_path):
    a, b = make_request(tmp_path, "a", seed=1, age_s=1), make_request(tmp_path, "b", seed=2)
    queue = Queue(tmp_path)
    ca, cb = queue.claim("w").claim, queue.claim("w").claim
    done = queue.finish(ca, f"{a.folder}/{a.sha}/result.json")
    assert done.status == Status.FINISHED and done.result_path.endswith("result.json") and done.claim is None
    failed = queue.fail(cb, "ValueError: boom")
    assert failed.status == Status.FAILED and failed.error == "ValueError: boom" and failed.log_path
    with pytest.raises(SubmissionError, match="only FAILED requests can be retried"):
        queue.retry(a.id)
    with pytest.raises(SubmissionError, match="no request with id"):
        queue.retry("nope")
    again = queue.retry(b.id)
    assert again.status == Status.PENDING and queue.claim("w").claim.request.id == b.id


def test_stale_claim_is_reclaimed_and_the_old_worker_cannot_finish(tmp_path):
    request = make_request(tmp_path, "m")
    queue = Queue(tmp_path, heartbeat_timeout=0.2)
    dead = queue.claim("dead").claim
    assert queue.claim("other").claim is None  # fresh RUNNING is not reclaimable
    time.sleep(0.3)
    assert queue.is_stale(read_request(dead.path))
    alive = queue.claim("alive").claim
    assert alive.request.id == request.id and alive.request.attempts == 2
    assert alive.request.log_path.endswith(".attempt-2.log")
    assert queue.heartbeat(dead) is False and queue.finish(dead, "x/result.json") is None
    assert queue.fail(dead, "late") is None
    assert queue.finish(alive, "y/result.json").status == Status.FINISHED
    assert read_request(dead.path).worker_id == "alive"


def test_stale_claim_with_exhausted_attempts_fails(tmp_path):
    make_request(tmp_path, "crasher")
    queue = Queue(tmp_path, heartbeat_timeout=0.05, max_attempts=2)
    queue.claim("w1")
    time.sleep(0.1)
    claim = queue.claim("w2").claim
    time.sleep(0.1)
    assert queue.claim("w3").claim is None
    final = read_request(claim.path)
    assert final.status == Status.FAILED and "attempts exhausted" in final.error


def test_local_run_scores_with_heartbeats_and_captures_the_log(tmp_path):
    request = make_request(tmp_path, "m")
    beats = []

    def scorer(req, out_root):
        print("hello from the scorer")
        for _ in range(4):
            time.sleep(0.1)
            beats.append(read_request(tmp_path / req.relpath).heartbeat_at)
        return write_result(req, out_root)

    report = run_queue(tmp_path, score_request=scorer, heartbeat_timeout=0.25)
    (final,) = report.processed
    assert final.status == Status.FINISHED and final.result_path == f"local__m/{request.sha}/result.json"
    assert json.loads((tmp_path / final.result_path).read_text())["sha"] == request.sha
    assert len(set(beats)) >= 2, "the heartbeat thread did not update the request while scoring"
    assert "hello from the scorer" in (tmp_path / final.log_path).read_text()


def test_failing_model_is_failed_with_error_and_log(tmp_path):
    make_request(tmp_path, "broken")

    def scorer(req, out_root):
        raise RuntimeError("the model has no hidden states\nsecond line")

    (final,) = run_queue(tmp_path, score_request=scorer).processed
    assert final.status == Status.FAILED
    assert final.error == "RuntimeError: the model has no hidden states"
    log = (tmp_path / final.log_path).read_text()
    assert "Traceback" in log and "second line" in log


def test_result_outside_the_root_fails(tmp_path):
    make_request(tmp_path, "m")
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    (final,) = run_queue(tmp_path, score_request=lambda r, _: write_result(r, outside)).processed
    assert final.status == Status.FAILED and "outside the submissions root" in final.error


def test_interrupt_gives_the_request_back(tmp_path):
    request = make_request(tmp_path, "m")

    def scorer(req, out_root):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_queue(tmp_path, score_request=scorer)
    back = read_request(tmp_path / request.relpath)
    assert back.status == Status.PENDING and back.attempts == 0 and back.claim is None


def test_custom_code_requests_wait_for_an_evaluator_who_allows_them(tmp_path):
    custom = make_request(tmp_path, "custom", custom_code=True)
    report = run_queue(tmp_path, score_request=write_result)
    assert report.processed == [] and report.skipped == [custom.id]
    report = run_queue(tmp_path, score_request=write_result, allow_custom_code=True)
    assert [r.status for r in report.processed] == [Status.FINISHED]


def test_max_requests_stops_early(tmp_path):
    for i in range(3):
        make_request(tmp_path, f"m{i}", seed=i, age_s=10 - i)
    report = run_queue(tmp_path, score_request=write_result, max_requests=2)
    assert [r.name for r in report.processed] == ["m0", "m1"]


def test_tampered_request_files_are_reported_not_run(tmp_path):
    good = make_request(tmp_path, "good", seed=1)
    bad_json = tmp_path / "local__x" / f"request-{'2' * 40}-float32.json"
    bad_json.parent.mkdir()
    bad_json.write_text("{not json")
    moved = make_request(tmp_path, "moved", seed=3)
    (tmp_path / moved.relpath).rename(tmp_path / "local__good" / f"request-{'3' * 40}-float32.json")
    evil = make_request(tmp_path, "evil", seed=4)
    data = json.loads((tmp_path / evil.relpath).read_text())
    data["log_path"] = "../../etc/cron.d/x"
    (tmp_path / evil.relpath).write_text(json.dumps(data))
    found, problems = Queue(tmp_path).scan()
    assert [r.id for _, r in found] == [good.id]
    assert len(problems) == 3 and any("should be at" in p for p in problems)
    assert all("\n" not in p for p in problems)


def test_cli_list_status_retry(tmp_path):
    request = make_request(tmp_path, "m")
    queue = Queue(tmp_path)
    queue.fail(queue.claim("w").claim, "OSError: disk full")
    runner = CliRunner()
    listed = runner.invoke(main, ["queue", "list", "--submissions", str(tmp_path), "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)["requests"][0]["status"] == "FAILED"
    table = runner.invoke(main, ["queue", "list", "--submissions", str(tmp_path)])
    assert request.id in table.output and "FAILED" in table.output
    status = runner.invoke(main, ["queue", "status", request.id, "--submissions", str(tmp_path)])
    assert "OSError: disk full" in status.output and "attempt-1.log" in status.output
    retried = runner.invoke(main, ["queue", "retry", request.id, "--submissions", str(tmp_path)])
    assert retried.exit_code == 0 and "PENDING" in retried.output
    missing = runner.invoke(main, ["queue", "status", "nope", "--submissions", str(tmp_path)])
    assert missing.exit_code != 0 and "no request with id 'nope'" in missing.output


def test_write_request_never_leaves_a_partial_file(tmp_path):
    request = make_request(tmp_path, "m")
    path = tmp_path / request.relpath
    write_request(path, request.model_copy(update={"attempts": 5}))
    assert read_request(path).attempts == 5
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def _rewrite_weights(model):
    save_file(
        {"w": np.full((3, 4), 7.0, dtype=np.float32), "b": np.ones(5, dtype=np.float32)},
        str(model / "model.safetensors"),
    )


@pytest.mark.parametrize(
    "swap",
    [
        _rewrite_weights,
        lambda model: (model / "modeling_custom.py").write_text("SCALE = 2.0\n"),
        lambda model: (model / "chat_template.jinja").write_text("{{ messages[0]['content'] }}"),
        lambda model: (model / "tokenizer.json").write_text('{"version": "swapped"}'),
    ],
    ids=["weights", "code", "chat-template", "tokenizer"],
)
def test_a_local_model_changed_after_submission_is_failed_not_scored(tmp_path, swap):
    model = make_model_dir(tmp_path / "m")
    subs = tmp_path / "subs"
    request, _ = submit(str(model), dtype="float32", submissions=subs)
    swap(model)
    scored = []

    def scorer(req, out_root):
        scored.append(req.id)
        return write_result(req, out_root)

    (final,) = run_queue(subs, score_request=scorer).processed
    assert final.status == Status.FAILED and final.result_path is None
    assert scored == [], "a model that changed since submission must not reach the scorer"
    assert "changed since it was submitted" in final.error and "submit it again" in final.error
    assert f"truthstab submit {request.model}" in final.error


def test_an_unchanged_local_model_is_scored_and_a_deleted_one_fails(tmp_path):
    model = make_model_dir(tmp_path / "m")
    subs = tmp_path / "subs"
    submit(str(model), dtype="float32", submissions=subs)
    submit(str(model), dtype="float16", submissions=subs)
    (first,) = run_queue(subs, score_request=write_result, max_requests=1).processed
    assert first.status == Status.FINISHED
    shutil.rmtree(model)
    (second,) = run_queue(subs, score_request=write_result).processed
    assert second.status == Status.FAILED and "no longer exists" in second.error


def test_release_frees_a_dead_workers_request_and_refuses_a_live_one(tmp_path):
    request = make_request(tmp_path, "m")
    path = tmp_path / request.relpath
    dead = Queue(tmp_path, heartbeat_timeout=0.3).claim("dead").claim  # claims, then never beats again
    runner = CliRunner()
    args = ["queue", "release", request.id, "--submissions", str(tmp_path)]
    live = runner.invoke(main, args)
    assert live.exit_code == 2 and live.output.count("\n") == 1 and "--force" in live.output
    assert read_request(path).status == Status.RUNNING
    retried = runner.invoke(main, ["queue", "retry", request.id, "--submissions", str(tmp_path)])
    assert retried.exit_code == 2 and f"truthstab queue release {request.id}" in retried.output
    time.sleep(0.4)  # the dead worker's 0.3 s lease runs out
    freed = runner.invoke(main, args)
    assert freed.exit_code == 0 and f"{request.id} is PENDING again" in freed.output
    back = read_request(path)
    assert (back.status, back.claim, back.worker_id) == (Status.PENDING, None, None)
    assert Queue(tmp_path).finish(dead, "x/result.json") is None, "the released claim must be void"
    again = runner.invoke(main, args)
    assert again.exit_code == 2 and "only RUNNING requests can be released" in again.output
    alive = Queue(tmp_path, heartbeat_timeout=600).claim("alive").claim
    forced = runner.invoke(main, [*args, "--force"])
    assert forced.exit_code == 0 and read_request(path).status == Status.PENDING
    assert Queue(tmp_path).heartbeat(alive) is False, "a forcibly released worker learns it lost the claim"
    (final,) = run_queue(tmp_path, score_request=write_result).processed
    assert final.status == Status.FINISHED and final.attempts == 3


def test_a_short_lease_worker_does_not_judge_a_long_lease_claim_stale(tmp_path):
    request = make_request(tmp_path, "m")
    long = Queue(tmp_path, heartbeat_timeout=30).claim("patient").claim
    assert read_request(long.path).lease_s == 30
    time.sleep(0.3)
    eager = Queue(tmp_path, heartbeat_timeout=0.1)
    assert not eager.is_stale(read_request(long.path)) and eager.claim("eager").claim is None
    assert read_request(tmp_path / request.relpath).worker_id == "patient"


def test_run_prints_progress_per_request_with_its_log_path(tmp_path):
    ok, broken = make_request(tmp_path, "ok", age_s=1), make_request(tmp_path, "broken", seed=1)

    def scorer(req, out_root):
        logging.getLogger(STAGE_LOGGER).info("[1/2] model ...")
        if req.name == "broken":
            raise RuntimeError("no hidden states")
        return write_result(req, out_root)

    lines: list[str] = []
    report = run_queue(tmp_path, score_request=scorer, echo=lines.append)
    final = {r.name: r for r in report.processed}
    assert lines == [
        f"{ok.id}: started (attempt 1); log {tmp_path / final['ok'].log_path}",
        f"{ok.id}: [1/2] model ...",
        f"{ok.id}: FINISHED; result {tmp_path / final['ok'].result_path}",
        f"{broken.id}: started (attempt 1); log {tmp_path / final['broken'].log_path}",
        f"{broken.id}: [1/2] model ...",
        f"{broken.id}: FAILED: RuntimeError: no hidden states; log {tmp_path / final['broken'].log_path}",
    ]
    assert "[1/2] model ..." in (tmp_path / final["ok"].log_path).read_text(), "stages go to the log too"


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_request_files_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        _, path = submit(str(make_model_dir(tmp_path / "m")), submissions=tmp_path / "subs")
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
        queue = Queue(tmp_path / "subs")
        queue.heartbeat(queue.claim("w").claim)  # a rewrite keeps the mode too
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    finally:
        os.umask(old)
