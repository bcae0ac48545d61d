"""The evaluation queue: request files on disk, claimed atomically, kept alive by heartbeats.

Every status change is a read-check-write of one request file under one queue-wide lock
(``<root>/.queue.lock``, a ``filelock.FileLock``), and the write itself is an atomic os.replace, so readers
never see half a file and two workers never claim the same request. A claim carries a random token; the
heartbeat, ``finish`` and ``fail`` only write while the file still holds that token. A RUNNING request whose
heartbeat is older than the timeout (its worker died) is reclaimable; the old worker, should it wake up,
finds its token gone and cannot mark the request FINISHED: nothing runs twice to completion.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from filelock import FileLock

from truthstab.errors import SubmissionError
from truthstab.submissions.requests import Request, Status, read_request, utcnow, write_request

#: The scorer a queue runs: score one request, write under ``out_root``, return the result JSON's path.
ScoreRequest = Callable[[Request, Path], Path]

LOCK_NAME = ".queue.lock"
DEFAULT_HEARTBEAT_TIMEOUT = 600.0
DEFAULT_MAX_ATTEMPTS = 3


def new_worker_id() -> str:
    """A worker id that is unique across machines and processes: host, pid, random suffix."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def one_line(exc: BaseException) -> str:
    """An exception as one line for the request's ``error`` field (the log keeps the traceback)."""
    text = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return message[:500]


@dataclass
class Claim:
    """A request this worker holds: only the holder of ``token`` may update it."""

    path: Path
    request: Request
    token: str


@dataclass
class ClaimResult:
    """What `Queue.claim` found: a claim (or None) and requests skipped as not eligible here."""

    claim: Claim | None
    skipped: list[str] = field(default_factory=list)


class Queue:
    """The request files under one submissions root."""

    def __init__(
        self,
        root: Path,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        if heartbeat_timeout <= 0:
            raise SubmissionError("--heartbeat-timeout must be a positive number of seconds")
        self.root = Path(root)
        self.heartbeat_timeout = float(heartbeat_timeout)
        self.max_attempts = max_attempts

    # -- reading --------------------------------------------------------------------------------------
    def _lock(self) -> FileLock:
        if not self.root.is_dir():
            raise SubmissionError(f"submissions folder {self.root} does not exist; submit a model first")
        return FileLock(self.root / LOCK_NAME)

    def scan(self) -> tuple[list[tuple[Path, Request]], list[str]]:
        """All valid requests (oldest first) and one problem line per invalid request file."""
        if not self.root.is_dir():
            return [], []
        found, problems = [], []
        for path in sorted(self.root.glob("*/request-*.json")):
            try:
                found.append((path, read_request(path)))
            except SubmissionError as exc:
                problems.append(str(exc))
        found.sort(key=lambda item: (item[1].submitted_at, item[1].id))
        return found, problems

    def find(self, request_id: str) -> tuple[Path, Request]:
        """The request with this id (as `queue list` shows it)."""
        for path, request in self.scan()[0]:
            if request.id == request_id:
                return path, request
        raise SubmissionError(f"no request with id {request_id!r}; `truthstab queue list` shows the ids")

    def is_stale(self, request: Request, now: datetime | None = None) -> bool:
        """A RUNNING request whose worker has not beaten its heart within the timeout."""
        if request.status != Status.RUNNING:
            return False
        last = request.heartbeat_at or request.started_at or request.submitted_at
        return (now or utcnow()) - last > timedelta(seconds=self.heartbeat_timeout)

    # -- claiming -------------------------------------------------------------------------------------
    def claim(self, worker_id: str, eligible: Callable[[Request], bool] | None = None) -> ClaimResult:
        """Atomically take the oldest PENDING (or stale RUNNING) request that ``eligible`` accepts.

        A stale request that has used up its attempts is marked FAILED instead of reclaimed, so a model
        that kills its worker cannot take the queue down forever.
        """
        skipped: list[str] = []
        with self._lock():
            now = utcnow()
            for path, request in self.scan()[0]:
                stale = self.is_stale(request, now)
                if request.status != Status.PENDING and not stale:
                    continue
                if eligible is not None and not eligible(request):
                    skipped.append(request.id)
                    continue
                if stale and request.attempts >= self.max_attempts:
                    died = f"worker {request.worker_id} stopped beating its heart; attempts exhausted"
                    write_request(path, _failed(request, died, now))
                    continue
                token = uuid.uuid4().hex
                attempt = request.attempts + 1
                claimed = request.model_copy(
                    update={
                        "status": Status.RUNNING,
                        "worker_id": worker_id,
                        "claim": token,
                        "attempts": attempt,
                        "started_at": now,
                        "heartbeat_at": now,
                        "finished_at": None,
                        "error": None,
                        "log_path": f"{request.folder}/{Path(request.relpath).stem}.attempt-{attempt}.log",
                    }
                )
                write_request(path, claimed)
                return ClaimResult(Claim(path=path, request=claimed, token=token), skipped)
        return ClaimResult(None, skipped)

    def _update(self, claim: Claim, change: Callable[[Request], Request]) -> Request | None:
        """Apply ``change`` if the file still holds this claim; None when the claim was lost."""
        with self._lock():
            try:
                current = read_request(claim.path)
            except SubmissionError:
                return None
            if current.claim != claim.token or current.status != Status.RUNNING:
                return None
            updated = change(current)
            write_request(claim.path, updated)
            claim.request = updated
            return updated

    def heartbeat(self, claim: Claim) -> bool:
        """Record that the claim's worker is alive; False when the claim was lost (reclaimed)."""
        return self._update(claim, lambda r: r.model_copy(update={"heartbeat_at": utcnow()})) is not None

    def finish(self, claim: Claim, result_path: str) -> Request | None:
        """Mark FINISHED with the result's path (relative to the root); None when the claim was lost."""
        now = utcnow()
        return self._update(
            claim,
            lambda r: r.model_copy(
                update={
                    "status": Status.FINISHED,
                    "result_path": result_path,
                    "finished_at": now,
                    "claim": None,
                }
            ),
        )

    def fail(self, claim: Claim, error: str) -> Request | None:
        """Mark FAILED with a one-line error (the log path stays); None when the claim was lost."""
        return self._update(claim, lambda r: _failed(r, error, utcnow()))

    def release(self, claim: Claim) -> Request | None:
        """Give a claim back (PENDING again, attempt not counted): the worker was interrupted."""
        return self._update(
            claim,
            lambda r: r.model_copy(
                update={
                    "status": Status.PENDING,
                    "claim": None,
                    "worker_id": None,
                    "attempts": r.attempts - 1,
                }
            ),
        )

    def retry(self, request_id: str) -> Request:
        """Put a FAILED request back to PENDING (its last error and log stay until it runs again)."""
        with self._lock():
            path, request = self.find(request_id)
            if request.status != Status.FAILED:
                raise SubmissionError(
                    f"request {request_id} is {request.status.value}; only FAILED requests can be retried"
                )
            updated = request.model_copy(update={"status": Status.PENDING, "attempts": 0, "claim": None})
            write_request(path, updated)
            return updated


def _failed(request: Request, error: str, now: datetime) -> Request:
    return request.model_copy(
        update={"status": Status.FAILED, "error": error, "finished_at": now, "claim": None}
    )


class Heartbeat:
    """A daemon thread that beats the heart of every claim it holds, every ``interval`` seconds."""

    def __init__(self, queue: Queue, interval: float | None = None) -> None:
        self.queue = queue
        self.interval = interval or max(0.05, min(30.0, queue.heartbeat_timeout / 5))
        self._claims: dict[str, Claim] = {}
        self.lost: set[str] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="truthstab-heartbeat", daemon=True)

    def add(self, claim: Claim) -> None:
        with self._guard:
            self._claims[claim.token] = claim

    def remove(self, claim: Claim) -> None:
        with self._guard:
            self._claims.pop(claim.token, None)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._guard:
                claims = list(self._claims.values())
            for claim in claims:
                try:
                    alive = self.queue.heartbeat(claim)
                except Exception:  # a transient I/O error must not kill the heartbeat thread
                    logging.getLogger(__name__).exception("heartbeat of %s failed", claim.request.id)
                    continue
                if not alive:
                    self.lost.add(claim.token)
                    self.remove(claim)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Outcome:
    """What scoring one request gave: a result JSON path, or a one-line error."""

    result: Path | None = None
    error: str | None = None


def execute(request: Request, out_root: Path, score_request: ScoreRequest, log_file: Path) -> Outcome:
    """Run the scorer on one request with its output, logging and traceback captured in ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root_logger = logging.getLogger()
    with log_file.open("a", encoding="utf-8") as log:
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root_logger.addHandler(handler)
        log.write(f"{utcnow().isoformat()} scoring {request.id} ({request.model} @ {request.sha})\n")
        log.flush()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                result = Path(score_request(request, out_root))
            log.write(f"{utcnow().isoformat()} finished: {result}\n")
            return Outcome(result=result)
        except Exception as exc:  # any scorer failure becomes FAILED with the traceback in the log
            log.write(traceback.format_exc())
            log.write(f"{utcnow().isoformat()} failed: {one_line(exc)}\n")
            return Outcome(error=one_line(exc))
        finally:
            root_logger.removeHandler(handler)


def relative_result(result: Path, root: Path) -> str:
    """The result's path relative to the submissions root; a scorer may not write outside it."""
    try:
        return result.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise SubmissionError(f"the scorer wrote its result outside the submissions root: {result}") from None


def settle(queue: Queue, claim: Claim, outcome: Outcome) -> Request | None:
    """Record an outcome as FINISHED or FAILED; None when the claim was lost meanwhile."""
    if outcome.result is not None:
        try:
            return queue.finish(claim, relative_result(outcome.result, queue.root))
        except SubmissionError as exc:
            return queue.fail(claim, str(exc))
    return queue.fail(claim, outcome.error or "scoring failed")
