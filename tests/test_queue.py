"""The queue in one process: claims, heartbeats, stale reclaim, finish/fail/retry, and the command line."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from submission_helpers import make_request, write_result
from truthstab.cli import main
from truthstab.errors import SubmissionError
from truthstab.submissions.executors import run_queue
from truthstab.submissions.queue import Queue
from truthstab.submissions.requests import Status, read_request, write_request


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
