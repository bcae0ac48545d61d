"""Executors drain the queue: locally, one request after another, or fanned out as Ray tasks.

Both claim requests through :class:`~truthstab.submissions.queue.Queue` (so any mix of local workers and
Ray drivers can share one queue), keep their claims alive with one heartbeat thread, and record each
outcome as FINISHED or FAILED. The Ray executor ships the scorer's output back to the driver as bytes, so
the cluster's machines need no shared file system: only the driver writes the submissions folder.
"""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from truthstab.errors import SubmissionError
from truthstab.fileio import atomic_write_bytes
from truthstab.submissions.queue import (
    DEFAULT_HEARTBEAT_TIMEOUT,
    Claim,
    Heartbeat,
    Outcome,
    Queue,
    ScoreRequest,
    execute,
    new_worker_id,
    one_line,
    settle,
)
from truthstab.submissions.requests import Request, Status, check_relative

#: The most bytes one Ray task may send back (results, side files and figures of one request).
MAX_RESULT_BYTES = 1 << 30
#: Seconds `queue run --executor ray --address HOST:PORT` waits for the cluster to answer.
DEFAULT_CONNECT_TIMEOUT = 30.0


@dataclass
class RunReport:
    """What one `queue run` did."""

    worker_id: str
    processed: list[Request] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # claims another worker took over (stale heartbeat)
    skipped: list[str] = field(default_factory=list)  # requests needing custom code, not allowed here

    def note_skipped(self, ids: list[str]) -> None:
        self.skipped.extend(i for i in ids if i not in self.skipped)


class Progress:
    """One line per event of a queue run (started, stage, finished or failed) for the operator's terminal.

    ``echo`` None keeps the run silent (the library default; the command line passes a stderr writer).
    """

    def __init__(self, root: Path, echo: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.echo = echo

    def _say(self, request_id: str, text: str) -> None:
        if self.echo is not None:
            self.echo(f"{request_id}: {text}")

    def started(self, claim: Claim, where: str = "") -> None:
        """A request was claimed and handed to the scorer; names its log file."""
        request = claim.request
        self._say(
            request.id,
            f"started{where} (attempt {request.attempts}); log {self.root / str(request.log_path)}",
        )

    def stage_of(self, request: Request) -> Callable[[str], None] | None:
        """A callback for the scorer's stage lines of ``request`` (None when silent)."""
        if self.echo is None:
            return None
        return lambda line: self._say(request.id, line)

    def settled(self, request_id: str, final: Request | None) -> None:
        """A request ended FINISHED or FAILED, or its claim was lost to another worker."""
        if final is None:
            self._say(request_id, "another worker reclaimed it meanwhile; its result is theirs")
        elif final.status == Status.FINISHED:
            self._say(request_id, f"FINISHED; result {self.root / str(final.result_path)}")
        else:
            self._say(request_id, f"FAILED: {final.error}; log {self.root / str(final.log_path)}")


class LocalExecutor:
    """Scores one claimed request at a time in this process."""

    name = "local"

    def run(
        self,
        queue: Queue,
        score_request: ScoreRequest,
        report: RunReport,
        max_requests: int | None,
        eligible: Callable[[Request], bool],
        progress: Progress,
    ) -> None:
        claimed = 0
        with Heartbeat(queue) as beat:
            while max_requests is None or claimed < max_requests:
                found = queue.claim(report.worker_id, eligible)
                report.note_skipped(found.skipped)
                if found.claim is None:
                    return
                claim, claimed = found.claim, claimed + 1
                beat.add(claim)
                progress.started(claim)
                try:
                    outcome = execute(
                        claim.request,
                        queue.root,
                        score_request,
                        queue.root / claim.request.log_path,
                        on_stage=progress.stage_of(claim.request),
                    )
                except BaseException:  # interrupted (Ctrl-C): give the request back rather than lose it
                    beat.remove(claim)
                    queue.release(claim)
                    raise
                beat.remove(claim)
                _record(queue, claim, outcome, report, progress)


def _record(queue: Queue, claim: Claim, outcome: Outcome, report: RunReport, progress: Progress) -> None:
    final = settle(queue, claim, outcome)
    if final is None:
        report.lost.append(claim.request.id)
    else:
        report.processed.append(final)
    progress.settled(claim.request.id, final)


def _remote_score(request: Request, score_request: ScoreRequest) -> dict:
    """Body of a Ray task: score into a private folder and return the files, the log and the outcome."""
    with tempfile.TemporaryDirectory(prefix="truthstab-ray-") as tmp:
        out_root, log_file = Path(tmp) / "out", Path(tmp) / "score.log"
        out_root.mkdir()
        outcome = execute(request, out_root, score_request, log_file)
        files: dict[str, bytes] = {}
        result = None
        if outcome.result is not None:
            try:
                result = outcome.result.resolve().relative_to(out_root.resolve()).as_posix()
            except ValueError:
                outcome = Outcome(
                    error=f"the scorer wrote its result outside its output folder: {outcome.result}"
                )
            total = 0
            for path in sorted(out_root.rglob("*")):
                if path.is_file():
                    total += path.stat().st_size
                    if total > MAX_RESULT_BYTES:
                        outcome, result = (
                            Outcome(error="the result is larger than 1 GiB; not shipped back"),
                            None,
                        )
                        break
                    files[path.relative_to(out_root).as_posix()] = path.read_bytes()
        return {
            "result": result,
            "error": outcome.error,
            "files": files if result else {},
            "log": log_file.read_text(encoding="utf-8", errors="replace"),
            "node": socket.gethostname(),
        }


def _land(queue: Queue, claim: Claim, payload: dict) -> Outcome:
    """Write a Ray task's files and log under the submissions root; return its outcome there."""
    log_file = queue.root / claim.request.log_path
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as log:
        log.write(f"[ray task on {payload.get('node')}]\n{payload.get('log', '')}")
    if payload.get("result") is None:
        return Outcome(error=payload.get("error") or "the Ray task returned no result")
    for rel, data in payload["files"].items():
        check_relative(rel)  # names come from the scorer on another machine: keep them inside the root
        atomic_write_bytes(queue.root / rel, data)
    return Outcome(result=queue.root / payload["result"])


class RayExecutor:
    """Each claimed request becomes a Ray task asking for ``num_gpus`` GPUs (0 on CPU-only clusters)."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_gpus: float = 1.0,
        num_cpus: float = 1.0,
        max_in_flight: int = 0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        if num_gpus < 0 or num_cpus < 0:
            raise SubmissionError("--gpus-per-task must be zero or more")
        if connect_timeout <= 0:
            raise SubmissionError("--connect-timeout must be a positive number of seconds")
        self.address = address
        self.num_gpus = num_gpus
        self.num_cpus = num_cpus
        self.max_in_flight = max_in_flight  # 0: as many as the cluster's GPUs (or CPUs) allow
        self.connect_timeout = connect_timeout

    def _connect(self):
        try:
            import ray
        except ImportError as exc:
            raise SubmissionError("the Ray executor needs ray: pip install 'truthstab[ray]'") from exc
        if not ray.is_initialized():
            # ray.init retries an unreachable address for many minutes without a word: probe it first.
            wait_for_address(self.address, self.connect_timeout)
            try:
                ray.init(address=self.address, log_to_driver=True)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise SubmissionError(
                    f"could not connect to Ray at {self.address or 'a new local instance'}: {exc}"
                ) from exc
        return ray

    def _slots(self, ray) -> int:
        """How many tasks the cluster can run at once: GPUs (or CPUs) over the per-task request."""
        if self.max_in_flight > 0:
            return self.max_in_flight
        resources = ray.cluster_resources()
        if self.num_gpus > 0:
            slots = int(resources.get("GPU", 0) // self.num_gpus)
            if slots == 0:
                raise SubmissionError(
                    f"the Ray cluster has no GPU for tasks asking {self.num_gpus}; "
                    "use --gpus-per-task 0 on CPUs"
                )
            return slots
        return max(1, int(resources.get("CPU", 1) // max(self.num_cpus, 1e-9)))

    def run(
        self,
        queue: Queue,
        score_request: ScoreRequest,
        report: RunReport,
        max_requests: int | None,
        eligible: Callable[[Request], bool],
        progress: Progress,
    ) -> None:
        ray = self._connect()
        task = ray.remote(_remote_score).options(
            num_gpus=self.num_gpus, num_cpus=self.num_cpus, max_retries=0
        )
        slots, claimed, drained = self._slots(ray), 0, False
        in_flight: dict = {}
        with Heartbeat(queue) as beat:
            try:
                while True:
                    while (
                        not drained
                        and len(in_flight) < slots
                        and (max_requests is None or claimed < max_requests)
                    ):
                        found = queue.claim(report.worker_id, eligible)
                        report.note_skipped(found.skipped)
                        if found.claim is None:
                            drained = True
                            break
                        claimed += 1
                        beat.add(found.claim)
                        in_flight[task.remote(found.claim.request, score_request)] = found.claim
                        progress.started(found.claim, " as a Ray task")
                    if not in_flight:
                        return
                    done, _ = ray.wait(list(in_flight), num_returns=1)
                    claim = in_flight.pop(done[0])
                    beat.remove(claim)
                    try:
                        outcome = _land(queue, claim, ray.get(done[0]))
                    except Exception as exc:  # the task or its node died, or it sent back bad names
                        outcome = Outcome(error=one_line(exc))
                    _record(queue, claim, outcome, report, progress)
            except BaseException:  # interrupted: cancel what runs and give the requests back
                for ref, claim in in_flight.items():
                    ray.cancel(ref, force=True)
                    beat.remove(claim)
                    queue.release(claim)
                raise


def wait_for_address(address: str | None, timeout: float) -> None:
    """Wait up to ``timeout`` seconds for a Ray head's ``host:port`` to accept a connection.

    Addresses that name no socket (None, ``auto``, ``local``: Ray finds or starts the cluster itself) are
    not probed. A port that answers but is not Ray's is not detected here; a closed or unreachable one is.
    """
    if address is None or address in ("auto", "local"):
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise SubmissionError(
            f"--address {address!r} is not of the form host:port (for example 10.0.0.5:6379); "
            "leave it out to start a local Ray instance"
        )
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=max(0.1, min(left, 5.0))):
                return
        except OSError as exc:
            if time.monotonic() + 0.5 >= deadline:
                reason = exc.strerror or type(exc).__name__
                raise SubmissionError(
                    f"no Ray cluster answers at {address} after {timeout:g} s ({reason}); check --address "
                    "(the head node's host:port, as `ray start --head` printed it) or raise --connect-timeout"
                ) from None
            time.sleep(0.5)


def make_executor(
    kind: str,
    address: str | None = None,
    gpus_per_task: float = 1.0,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> LocalExecutor | RayExecutor:
    """The executor named on the command line."""
    if kind == "local":
        return LocalExecutor()
    if kind == "ray":
        return RayExecutor(address=address, num_gpus=gpus_per_task, connect_timeout=connect_timeout)
    raise SubmissionError(f"unknown executor {kind!r}; choose local or ray")


def run_queue(
    root: Path,
    executor: LocalExecutor | RayExecutor | None = None,
    score_request: ScoreRequest | None = None,
    max_requests: int | None = None,
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
    allow_custom_code: bool = False,
    worker_id: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> RunReport:
    """Drain the queue under ``root`` until it is empty (or ``max_requests`` were claimed).

    ``score_request`` defaults to the real scorer (truthstab.pipeline.score). Requests that need custom code stay
    PENDING unless ``allow_custom_code``: the request file is untrusted, so the evaluator decides.
    ``heartbeat_timeout`` is this worker's lease, recorded in each of its claims. ``echo`` receives one
    progress line per event (started with its log path, each scoring stage, finished or failed).
    """
    if max_requests is not None and max_requests < 1:
        raise SubmissionError("--max-requests must be at least 1")
    if score_request is None:
        from truthstab.submissions.scorer import default_score_request

        score_request = default_score_request
    queue = Queue(root, heartbeat_timeout=heartbeat_timeout)
    report = RunReport(worker_id=worker_id or new_worker_id())
    (executor or LocalExecutor()).run(
        queue,
        score_request,
        report,
        max_requests,
        lambda r: allow_custom_code or not r.custom_code,
        Progress(root, echo),
    )
    return report
