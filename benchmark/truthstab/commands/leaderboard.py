"""`truthstab leaderboard build | show | serve`: rank result files; browse them in a terminal or browser."""

from __future__ import annotations

import json
from collections import Counter

import click

from truthstab.leaderboard import LeaderboardError
from truthstab.leaderboard.build import Skipped, build_leaderboard, read_leaderboard
from truthstab.leaderboard.render import SORT_KEYS, sorted_rows, terminal_table, write_leaderboard
from truthstab.leaderboard.serve import make_server, url_of


@click.group("leaderboard")
def leaderboard() -> None:
    """Rank every scored model, with uncertainty; browse the boards."""


@leaderboard.command("build")
@click.option(
    "--results",
    "results_dir",
    default="submissions",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of result files (searched recursively).",
)
@click.option(
    "--out",
    "out_dir",
    default="leaderboard",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write index.html, leaderboard.json/.csv/.md and figures/ into.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option(
    "--strict",
    is_flag=True,
    help="Exit non-zero when any result file was skipped (the board is still written).",
)
def build_cmd(results_dir: str, out_dir: str, as_json: bool, strict: bool) -> None:
    """Read every result file and write the leaderboard, atomically; say how many files were skipped."""
    lb = build_leaderboard(results_dir)
    written = write_leaderboard(lb, out_dir)
    summary = {
        "boards": [{"id": b.id, "models": len(b.rows)} for b in lb.boards],
        "written": [str(p) for p in written],
        "skipped": [s.model_dump() for s in lb.skipped],
        "replaced": [r.model_dump() for r in lb.replaced],
    }
    if as_json:
        click.echo(json.dumps(summary, indent=1))
    else:
        for b in lb.boards:
            click.echo(f"board {b.id}: {len(b.rows)} model(s)")
        for s in lb.skipped:
            click.echo(f"skipped {s.path}: {s.reason}", err=True)
        for r in lb.replaced:
            click.echo(f"replaced {r.path} by newer {r.replaced_by}")
        click.echo(f"wrote {out_dir}/index.html, leaderboard.json, leaderboard.csv, leaderboard.md")
        # Last, so the count is the line a person reads, not lost above the board list.
        click.echo(skipped_summary(lb.skipped, sum(len(b.rows) for b in lb.boards)), err=bool(lb.skipped))
    if strict and lb.skipped:
        raise LeaderboardError(
            f"--strict: {len(lb.skipped)} result file(s) skipped (listed above); fix or remove them"
        )


def skipped_summary(skipped: list[Skipped], n_rows: int) -> str:
    """One line: how many result files were skipped, grouped by the kind of reason."""
    if not skipped:
        return f"{n_rows} ranked row(s); none skipped"
    kinds = Counter(_reason_kind(s.reason) for s in skipped)
    parts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"skipped {len(skipped)} result file(s): {parts}"


def _reason_kind(reason: str) -> str:
    if reason.startswith("not ranked:"):
        return "not on a known release"
    if reason.startswith("symbolic link"):
        return "symbolic link"
    return "unreadable or invalid"


@leaderboard.command("show")
@click.option(
    "--dir",
    "out_dir",
    default="leaderboard",
    show_default=True,
    type=click.Path(file_okay=False),
    help="A built leaderboard folder.",
)
@click.option(
    "--board", "board_id", default=None, help="Board id (dataset-version/protocol); default: first."
)
@click.option("--domain", default=None, help="Show one domain's scores and rank groups.")
@click.option("--sort", default="rank", show_default=True, type=click.Choice(SORT_KEYS))
@click.option("--json", "as_json", is_flag=True, help="Print the board's rows as JSON.")
def show_cmd(out_dir: str, board_id: str | None, domain: str | None, sort: str, as_json: bool) -> None:
    """Print a board in the terminal."""
    board = read_leaderboard(out_dir).board(board_id)
    if as_json:
        rows = sorted_rows(board, sort, domain)
        label = {"board": board.id, "smoke_test": board.smoke_test}  # a quick run is marked on every row
        dumped = [{**r.model_dump(mode="json", exclude={"report_card"}), **label} for r in rows]
        click.echo(json.dumps(dumped, indent=1))
        return
    click.echo(terminal_table(board, domain, sort))


@leaderboard.command("serve")
@click.option("--port", default=8000, show_default=True, type=int, help="Port on 127.0.0.1 (0: any free).")
@click.option(
    "--dir",
    "out_dir",
    default="leaderboard",
    show_default=True,
    type=click.Path(file_okay=False),
    help="A built leaderboard folder.",
)
def serve_cmd(port: int, out_dir: str) -> None:
    """Serve the leaderboard on localhost until interrupted."""
    server = make_server(out_dir, port)
    click.echo(f"serving {out_dir} at {url_of(server)} (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
