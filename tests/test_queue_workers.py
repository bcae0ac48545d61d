"""Worker processes sharing one queue: no request runs twice, whatever leases they use; a killed worker's claim is reclaimed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

from submission_helpers import make_request, write_result
from truthstab.submissions.executors import run_queue
from truthstab.submissions.requests import Status, read_request

SPAWN = multiprocessing.get_context("spawn")  # no fork: the parent may hold threads and locks


def _logging_scorer(request, out_root: Path) -> Path:
    """Record who scored what (O_APPEND writes of one short line are atomic), then write a result."""
    with open(out_root / "runs.txt", "a") as runs:
        runs.write(f"{request.id} {os.getpid()}\n")
    time.sleep(0.3)
    return write_result(request, out_root)


def _hanging_scorer(request, out_root: Path) -> Path:
    (out_root / "started").write_text(str(os.getpid()))
    time.sleep(120)
    raise AssertionError("this worker should have been killed")


def _waiting_scorer(request, out_root: Path) -> Path:
    """Record the run, then hold the claim until the other worker has had its chance to steal it."""
    with open(out_root / "runs.txt", "a") as runs:
        runs.write(f"{request.id} {os.getpid()}\n")
    deadline = time.monotonic() + 60
    while not (out_root / "poller-done").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return write_result(request, out_root)


def _poller(root: str, heartbeat_timeout: float, seconds: float) -> None:
    """A worker with a short lease that keeps draining the queue for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_queue(Path(root), score_request=_logging_scorer, heartbeat_timeout=heartbeat_timeout)
        time.sleep(0.05)
    (Path(root) / "poller-done").touch()


def _worker(root: str, barrier, scorer_name: str, heartbeat_timeout: float) -> None:
    barrier.wait(timeout=60)
    run_queue(Path(root), score_request=globals()[scorer_name], heartbeat_timeout=heartbeat_timeout)


def test_two_worker_processes_never_run_the_same_request(tmp_path):
    requests = [make_request(tmp_path, f"m{i}", seed=i) for i in range(6)]
    barrier = SPAWN.Barrier(2)
    workers = [
        SPAWN.Process(target=_worker, args=(str(tmp_path), barrier, "_logging_scorer", 30)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    runs = (tmp_path / "runs.txt").read_text().split()
    ids, pids = runs[0::2], runs[1::2]
    assert sorted(ids) == sorted(r.id for r in requests), "a request ran twice or not at all"
    assert len(set(pids)) == 2, "both workers should have taken part"
    finals = [read_request(tmp_path / r.relpath) for r in requests]
    assert all(f.status == Status.FINISHED and f.attempts == 1 for f in finals)
    assert len({f.worker_id for f in finals}) == 2


def test_workers_with_different_leases_never_run_the_same_request_twice(tmp_path):
    # The case: a worker with a long lease beats rarely (every 10 s for 30 s); a worker started with
    # --heartbeat-timeout 0.5 must judge that claim by the 30 s it records, not by its own 0.5 s.
    request = make_request(tmp_path, "m")
    barrier = SPAWN.Barrier(1)  # held here: the child unpickles it after start() returns
    patient = SPAWN.Process(target=_worker, args=(str(tmp_path), barrier, "_waiting_scorer", 30.0))
    patient.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "runs.txt").exists():
        assert time.monotonic() < deadline and patient.is_alive(), "the first worker never started scoring"
        time.sleep(0.05)
    eager = SPAWN.Process(target=_poller, args=(str(tmp_path), 0.5, 2.5))  # 5 of its own leases
    eager.start()
    for worker in (eager, patient):
        worker.join(timeout=120)
        assert worker.exitcode == 0
    runs = (tmp_path / "runs.txt").read_text().split()
    assert runs == [request.id, str(patient.pid)], "the short-lease worker took over a live claim"
    final = read_request(tmp_path / request.relpath)
    assert final.status == Status.FINISHED and final.attempts == 1 and final.lease_s == 30.0


def test_killed_worker_claim_goes_stale_and_is_reclaimed(tmp_path):
    request = make_request(tmp_path, "m")
    barrier = SPAWN.Barrier(1)
    worker = SPAWN.Process(target=_worker, args=(str(tmp_path), barrier, "_hanging_scorer", 3.0))
    worker.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and worker.is_alive(), "the worker never started scoring"
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(timeout=30)
    abandoned = read_request(tmp_path / request.relpath)
    assert abandoned.status == Status.RUNNING and abandoned.attempts == 1
    # Within the dead worker's 3 s lease its claim still counts as alive, even to a worker with a shorter
    # one; once that lease has run out, any worker takes it over, even one with a far longer lease.
    assert run_queue(tmp_path, score_request=write_result, heartbeat_timeout=0.1).processed == []
    time.sleep(3.2)
    (final,) = run_queue(tmp_path, score_request=write_result, heartbeat_timeout=60).processed
    assert final.status == Status.FINISHED and final.attempts == 2 and final.worker_id != abandoned.worker_id
    assert (tmp_path / abandoned.log_path).exists() and final.log_path != abandoned.log_path
