"""The evaluation queue: request files on disk, claimed atomically, kept alive by heartbeats.

Every status change is a read-check-write of one request file under one queue-wide lock
(``<root>/.queue.lock``, a ``filelock.FileLock``), and the write itself is an atomic os.replace, so readers
never see half a file and two workers never claim the same request. A claim carries a random token; the
heartbeat, ``finish`` and ``fail`` only write while the file still holds that token. A claim also records its
lease: the seconds it stays valid without a heartbeat, chosen by the worker that took it, which beats every
third of it. A RUNNING request whose last heartbeat is older than *its own* lease (its worker died) is
reclaimable, whatever lease the observing worker uses for its own claims; the old worker, should it wake
up, finds its token gone and cannot mark the request FINISHED: nothing runs twice to completion.
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
from truthstab.fileio import utcnow
from truthstab.submissions.requests import Request, Status, read_request, write_request

#: The scorer a queue runs: score one request, write under ``out_root``, return the result JSON's path.
ScoreRequest = Callable[[Request, Path], Path]

LOCK_NAME = ".queue.lock"
DEFAULT_HEARTBEAT_TIMEOUT = 600.0
DEFAULT_MAX_ATTEMPTS = 3
#: The longest pause between heartbeats, whatever the lease: a claim released by hand is noticed soon.
MAX_HEARTBEAT_INTERVAL = 30.0
#: The scorer reports its stages on this logger; `execute` copies them to the log and to the progress display.
STAGE_LOGGER = "truthstab.queue.stage"


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
        # The lease this worker records in its own claims; other claims are judged by theirs.
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
        """A RUNNING request whose worker has not beaten its heart within the lease recorded in its claim.

        The lease is the claiming worker's, never this queue's own: a worker started with a short
        ``--heartbeat-timeout`` must not take over a live claim whose worker beats less often. A claim
        written before leases were recorded gets the default lease.
        """
        if request.status != Status.RUNNING:
            return False
        return (now or utcnow()) - _last_beat(request) > timedelta(seconds=lease_of(request))

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
                        "lease_s": self.heartbeat_timeout,
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
                    "lease_s": None,
                    "attempts": r.attempts - 1,
                }
            ),
        )

    def release_stuck(self, request_id: str, force: bool = False) -> Request:
        """Put a RUNNING request back to PENDING when its worker is gone (``queue release ID``).

        Refused while the claim's lease is live, unless ``force``: the worker may still be scoring, and its
        claim token is dropped, so it can no longer record a result. The attempt stays counted.
        """
        with self._lock():
            path, request = self.find(request_id)
            if request.status != Status.RUNNING:
                hint = (
                    "; use `truthstab queue retry` for a FAILED one"
                    if request.status == Status.FAILED
                    else ""
                )
                raise SubmissionError(
                    f"request {request_id} is {request.status.value}; only RUNNING requests can be released{hint}"
                )
            if not force and not self.is_stale(request):
                age = (utcnow() - _last_beat(request)).total_seconds()
                raise SubmissionError(
                    f"request {request_id} is held by worker {request.worker_id}, which beat its heart "
                    f"{age:.0f} s ago (its lease is {lease_of(request):.0f} s); wait for the lease to run "
                    "out, or pass --force if that worker is dead"
                )
            updated = request.model_copy(
                update={"status": Status.PENDING, "claim": None, "worker_id": None, "lease_s": None}
            )
            write_request(path, updated)
            return updated

    def retry(self, request_id: str) -> Request:
        """Put a FAILED request back to PENDING (its last error and log stay until it runs again)."""
        with self._lock():
            path, request = self.find(request_id)
            if request.status != Status.FAILED:
                hint = (
                    f" (if its worker died: truthstab queue release {request_id})"
                    if request.status == Status.RUNNING
                    else ""
                )
                raise SubmissionError(
                    f"request {request_id} is {request.status.value}; only FAILED requests can be retried{hint}"
                )
            updated = request.model_copy(update={"status": Status.PENDING, "attempts": 0, "claim": None})
            write_request(path, updated)
            return updated


def lease_of(request: Request) -> float:
    """Seconds the request's current claim stays valid without a heartbeat (the claiming worker's lease)."""
    return request.lease_s or DEFAULT_HEARTBEAT_TIMEOUT


def heartbeat_interval(lease: float) -> float:
    """How often a worker holding claims of this lease beats: a third of it, so one late beat is harmless."""
    return max(0.05, min(MAX_HEARTBEAT_INTERVAL, lease / 3))


def _last_beat(request: Request) -> datetime:
    return request.heartbeat_at or request.started_at or request.submitted_at


def _failed(request: Request, error: str, now: datetime) -> Request:
    return request.model_copy(
        update={"status": Status.FAILED, "error": error, "finished_at": now, "claim": None}
    )


class Heartbeat:
    """A daemon thread that beats the heart of every claim it holds, every ``interval`` seconds."""

    def __init__(self, queue: Queue, interval: float | None = None) -> None:
        self.queue = queue
        self.interval = interval or heartbeat_interval(queue.heartbeat_timeout)
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


class _StageRelay(logging.Handler):
    """Hands each stage line the scorer logs on STAGE_LOGGER to a progress callback."""

    def __init__(self, on_stage: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.on_stage = on_stage

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.on_stage(record.getMessage())
        except Exception:  # a broken display must not fail the scoring
            self.handleError(record)


def execute(
    request: Request,
    out_root: Path,
    score_request: ScoreRequest,
    log_file: Path,
    on_stage: Callable[[str], None] | None = None,
) -> Outcome:
    """Run the scorer on one request with its output, logging and traceback captured in ``log_file``.

    The model is checked first against the sha it was submitted with (a local folder can be rewritten
    after submission); ``on_stage`` receives the stage lines the scorer logs on STAGE_LOGGER.
    """
    from truthstab.submissions.submit import check_unchanged

    log_file.parent.mkdir(parents=True, exist_ok=True)
    root_logger, stage_logger = logging.getLogger(), logging.getLogger(STAGE_LOGGER)
    stage_logger.setLevel(logging.INFO)  # the root logger's WARNING would drop the stage lines
    relay = _StageRelay(on_stage) if on_stage is not None else None
    with log_file.open("a", encoding="utf-8") as log:
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root_logger.addHandler(handler)
        if relay is not None:
            stage_logger.addHandler(relay)
        log.write(f"{utcnow().isoformat()} scoring {request.id} ({request.model} @ {request.sha})\n")
        log.flush()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                check_unchanged(request)
                result = Path(score_request(request, out_root))
            log.write(f"{utcnow().isoformat()} finished: {result}\n")
            return Outcome(result=result)
        except Exception as exc:  # any scorer failure becomes FAILED with the traceback in the log
            log.write(traceback.format_exc())
            log.write(f"{utcnow().isoformat()} failed: {one_line(exc)}\n")
            return Outcome(error=one_line(exc))
        finally:
            root_logger.removeHandler(handler)
            if relay is not None:
                stage_logger.removeHandler(relay)


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
