"""`truthstab queue list | run | retry ID | release ID | status ID`: the evaluation queue of submitted models."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from tabulate import tabulate

from truthstab.commands.submit import SUBMISSIONS_OPTION
from truthstab.submissions.executors import DEFAULT_CONNECT_TIMEOUT
from truthstab.submissions.queue import DEFAULT_HEARTBEAT_TIMEOUT, Queue


@click.group("queue")
def queue_group() -> None:
    """Evaluate submitted models: list the queue, run it, retry, release or inspect a request."""


def _row(request, queue: Queue) -> list:
    status = request.status.value + (" (stale)" if queue.is_stale(request) else "")
    return [request.id, status, request.model, request.dtype, f"{request.params:,}", request.attempts]


@queue_group.command("list")
@SUBMISSIONS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the requests as JSON.")
def list_command(submissions: Path, as_json: bool) -> None:
    """List every request and its status, oldest first."""
    queue = Queue(submissions)
    found, problems = queue.scan()
    if as_json:
        payload = {"requests": [r.model_dump(mode="json") for _, r in found], "problems": problems}
        click.echo(json.dumps(payload, indent=2))
        return
    headers = ["id", "status", "model", "dtype", "params", "attempts"]
    click.echo(
        tabulate([_row(r, queue) for _, r in found], headers=headers) if found else "the queue is empty"
    )
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


@queue_group.command("run")
@SUBMISSIONS_OPTION
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (default: start a local Ray instance).")
@click.option(
    "--gpus-per-task", type=float, default=1.0, show_default=True, help="GPUs each Ray task asks for."
)
@click.option("--max-requests", type=int, default=None, help="Stop after claiming this many requests.")
@click.option(
    "--heartbeat-timeout",
    type=float,
    default=DEFAULT_HEARTBEAT_TIMEOUT,
    show_default=True,
    help=(
        "This worker's lease: seconds its claims stay valid without a heartbeat (it beats every third of "
        "that, at most every 30 s). Recorded in each claim; other workers judge staleness by it."
    ),
)
@click.option(
    "--connect-timeout",
    type=float,
    default=DEFAULT_CONNECT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the Ray cluster at --address to answer.",
)
@click.option("--allow-custom-code", is_flag=True, help="Also run requests whose model ships its own code.")
@click.option(
    "--dataset",
    default="truthstab",
    show_default=True,
    help="Release NAME[@VERSION] every request is scored on: the evaluator's choice, as on the board.",
)
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def run_command(
    submissions: Path,
    executor: str,
    address: str | None,
    gpus_per_task: float,
    max_requests: int | None,
    heartbeat_timeout: float,
    connect_timeout: float,
    allow_custom_code: bool,
    dataset: str,
    quiet: bool,
    as_json: bool,
) -> None:
    """Claim and score PENDING requests until the queue is empty, one progress line per event on stderr."""
    from functools import partial

    from truthstab.data.registry import get_release
    from truthstab.submissions.executors import make_executor, run_queue
    from truthstab.submissions.scorer import default_score_request

    release = get_release(dataset)  # an unknown release fails here, before any request is claimed

    # Taken now: while a request is scored, sys.stderr is redirected into that request's log.
    terminal = sys.stderr
    report = run_queue(
        submissions,
        executor=make_executor(executor, address, gpus_per_task, connect_timeout),
        score_request=partial(default_score_request, dataset=_pinned(dataset, release)),
        max_requests=max_requests,
        heartbeat_timeout=heartbeat_timeout,
        allow_custom_code=allow_custom_code,
        echo=None if quiet else (lambda line: click.echo(line, file=terminal)),
    )
    if as_json:
        payload = {
            "worker_id": report.worker_id,
            "processed": [r.model_dump(mode="json") for r in report.processed],
            "lost": report.lost,
            "skipped": report.skipped,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    rows = [[r.id, r.status.value, r.result_path or r.error, r.log_path] for r in report.processed]
    click.echo(
        tabulate(rows, headers=["id", "status", "result or error", "log"]) if rows else "nothing to run"
    )
    for request_id in report.lost:
        click.echo(f"warning: {request_id} was reclaimed by another worker; its result is theirs", err=True)
    if report.skipped:
        click.echo(f"skipped (need --allow-custom-code): {', '.join(report.skipped)}", err=True)
    if report.processed:
        click.echo("next: truthstab leaderboard build")


@queue_group.command("retry")
@click.argument("request_id", metavar="ID")
@SUBMISSIONS_OPTION
def retry_command(request_id: str, submissions: Path) -> None:
    """Put a FAILED request back in the queue."""
    request = Queue(submissions).retry(request_id)
    click.echo(f"{request.id} is {request.status.value} again")


@queue_group.command("release")
@click.argument("request_id", metavar="ID")
@SUBMISSIONS_OPTION
@click.option("--force", is_flag=True, help="Release it even though its worker's lease has not run out yet.")
def release_command(request_id: str, submissions: Path, force: bool) -> None:
    """Put a RUNNING request whose worker died back in the queue (PENDING)."""
    request = Queue(submissions).release_stuck(request_id, force=force)
    click.echo(f"{request.id} is {request.status.value} again")
    click.echo(f"next: truthstab queue run --submissions {submissions}")


@queue_group.command("status")
@click.argument("request_id", metavar="ID")
@SUBMISSIONS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the request as JSON.")
def status_command(request_id: str, submissions: Path, as_json: bool) -> None:
    """Show one request: status, attempts, worker, error, log and result paths."""
    queue = Queue(submissions)
    path, request = queue.find(request_id)
    data = request.model_dump(mode="json")
    if as_json:
        click.echo(
            json.dumps({**data, "request_file": str(path), "stale": queue.is_stale(request)}, indent=2)
        )
        return
    data.pop("claim")
    data["stale"] = queue.is_stale(request)
    click.echo(tabulate([[k, "" if v is None else v] for k, v in data.items()], tablefmt="plain"))


def _pinned(ref: str, release) -> str:
    """The release a queue run scores on: its folder when given as a path, else NAME@VERSION (resolved
    once, so a release published while the queue runs cannot split its results)."""
    return ref if "/" in ref or os.sep in ref else f"{release.name}@{release.version}"
