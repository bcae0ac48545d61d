"""Leaderboard files: JSON round trip, CSV, Markdown, the page's embedded data, atomic writes."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from leaderboard_results import make_result, save, tiny_png
from truthstab.leaderboard import LeaderboardError
from truthstab.leaderboard.build import build_leaderboard, read_leaderboard
from truthstab.leaderboard.render import (
    COLUMNS,
    fmt_params,
    html_page,
    markdown,
    script_safe_json,
    sorted_rows,
    terminal_table,
    to_csv,
    to_json,
    write_leaderboard,
)

EVIL = "<img src=x onerror=alert(1)>"
BREAKOUT = "x</script><script>alert(2)</script><!--|=cmd"


@pytest.fixture
def board_dir(tmp_path):
    results = tmp_path / "results"
    save(results, make_result("HuggingFaceTB/SmolLM2-135M-Instruct", 80, n_parameters=134_515_008, noise=5))
    save(results, make_result(EVIL, 60, sha="b" * 40, is_instruct=False, noise=1))
    save(results, make_result(BREAKOUT, 40, sha="c" * 40, is_encoder=True, n_parameters=22_713_216))
    path = save(results, make_result("org/figs", 20, sha="e" * 40, figures=["bars.png"], noise=9))
    (path.parent / "bars.png").write_bytes(tiny_png())
    (path.parent / "report.md").write_text("# Report card\n\nTruth stability **20.0**.\n")
    return results


def test_write_leaderboard_files_and_json_round_trip(board_dir, tmp_path):
    out = tmp_path / "lb"
    lb = build_leaderboard(board_dir)
    written = write_leaderboard(lb, out)
    assert sorted(p.name for p in written) == [
        "index.html",
        "leaderboard.csv",
        "leaderboard.json",
        "leaderboard.md",
    ]
    back = read_leaderboard(out)
    assert back.model_dump() == lb.model_dump()
    assert back.boards[0].rows[0].model_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    # Bootstrap draws and source paths of figures stay out of the published JSON.
    text = (out / "leaderboard.json").read_text()
    assert "draws" not in text and "figure_sources" not in text
    # The figure was copied where the row points, and nothing temporary is left behind.
    fig_row = next(r for r in back.boards[0].rows if r.model_id == "org/figs")
    assert (out / fig_row.figures[0]).read_bytes() == tiny_png()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_rebuild_replaces_figures_and_is_deterministic(board_dir, tmp_path):
    out = tmp_path / "lb"
    write_leaderboard(build_leaderboard(board_dir), out)
    first = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    stale = out / "figures" / "stale.png"
    stale.write_bytes(b"old")
    write_leaderboard(build_leaderboard(board_dir), out)
    second = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert first == second  # same inputs, same bytes (no wall-clock time in any file)
    assert not stale.exists()


def test_failed_write_leaves_previous_board_intact(board_dir, tmp_path, monkeypatch):
    out = tmp_path / "lb"
    write_leaderboard(build_leaderboard(board_dir), out)
    before = (out / "leaderboard.json").read_bytes()
    import truthstab.leaderboard.render as render

    def boom(lb):
        raise RuntimeError("disk full")

    monkeypatch.setattr(render, "html_page", boom)
    with pytest.raises(RuntimeError):
        write_leaderboard(build_leaderboard(board_dir), out)
    assert (out / "leaderboard.json").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".build-")]


def test_csv_one_line_per_row_and_no_formulas(board_dir):
    text = to_csv(build_leaderboard(board_dir))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    by_id = {r["model_id"]: r for r in rows}
    assert by_id[BREAKOUT]["model_kind"] == "encoder"  # quotes, '<' and '|' survive CSV quoting
    top = by_id["HuggingFaceTB/SmolLM2-135M-Instruct"]
    assert float(top["truth_stability"]) == 80.0
    assert float(top["truth_stability_ci_low"]) == 78.0 and float(top["truth_stability_ci_high"]) == 82.0
    assert top["rank_group"] == "1" and top["board"] == "truthstab-1.0.0/fixed"
    assert float(top["cities_truth_stability"]) == 80.0 and top["cities_layer"] == "12"


def test_csv_neutralises_formula_cells(tmp_path):
    save(tmp_path, make_result("=HYPERLINK(1)", 50))
    rows = list(csv.DictReader(io.StringIO(to_csv(build_leaderboard(tmp_path)))))
    assert rows[0]["model_id"] == "'=HYPERLINK(1)"


def test_markdown_table_escapes_names(board_dir):
    md = markdown(build_leaderboard(board_dir))
    assert "## truthstab 1.0.0, protocol fixed" in md
    assert (
        "[HuggingFaceTB/SmolLM2-135M-Instruct](https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct)"
        in md
    )
    assert "<img" not in md and "</script>" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "80.0 [78.0, 82.0]" in md
    # Every table line has exactly the column count: a '|' in a name did not split a cell.
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert all(len(re.findall(r"(?<!\\)\|", line)) == len(COLUMNS) + 1 for line in table)


def test_script_safe_json_cannot_break_out():
    data = {"name": BREAKOUT, "sep": "\u2028", "amp": "a&b"}
    text = script_safe_json(data)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == data


def test_html_page_embeds_data_safely(board_dir):
    page = html_page(build_leaderboard(board_dir))
    assert page.count("</script>") == 2  # the data element and the app script, nothing from the data
    assert "<!--" not in page
    assert EVIL not in page
    assert "http://" not in page and "https://cdn" not in page and "<link" not in page
    data = re.search(r'<script type="application/json" id="lb-data">(.*?)</script>', page, re.S).group(1)
    names = [r["model_id"] for r in json.loads(data)["boards"][0]["rows"]]
    assert EVIL in names and BREAKOUT in names
    # Only the page's own script may run (hash-pinned CSP): an injected handler would be blocked too.
    script_src = re.search(r"script-src ([^;]+);", page).group(1)
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", script_src)


def test_terminal_table_domain_and_sort(board_dir):
    board = build_leaderboard(board_dir).boards[0]
    text = terminal_table(board)
    lines = text.splitlines()
    assert lines[0].startswith("truthstab 1.0.0, protocol fixed, all domains (4 models")
    assert text.index("SmolLM2") < text.index(EVIL) < text.index("x</script>") < text.index("org/figs")
    # The refit null sorts lowest (best) first: 1, 3, 5, 9.
    assert [r.model_id for r in sorted_rows(board, "null")] == [
        EVIL,
        BREAKOUT,
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "org/figs",
    ]
    assert sorted_rows(board, "truth_stability")[0].model_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert sorted_rows(board, "params")[0].model_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert sorted_rows(board, "model")[0].model_id == "<img src=x onerror=alert(1)>"
    assert "cities 12" in terminal_table(board, domain="cities")
    with pytest.raises(LeaderboardError, match="no domain 'bogus'; choose one of: cities"):
        terminal_table(board, domain="bogus")
    with pytest.raises(LeaderboardError, match="unknown sort key"):
        sorted_rows(board, "nope")


def test_fmt_params():
    assert [fmt_params(n) for n in (134_515_008, 22_713_216, 1_711_376_384, 999, 0)] == [
        "135M",
        "22.7M",
        "1.7B",
        "1k",
        "—",
    ]


def test_read_leaderboard_errors(tmp_path):
    with pytest.raises(LeaderboardError, match="run `truthstab leaderboard build"):
        read_leaderboard(tmp_path)
    (tmp_path / "leaderboard.json").write_text("{}")
    with pytest.raises(LeaderboardError, match="rebuild it"):
        read_leaderboard(tmp_path)


def test_unwritable_output_is_a_clear_error(board_dir, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(LeaderboardError, match="pass --out DIR"):
        write_leaderboard(build_leaderboard(board_dir), blocker)


def test_board_title_names_a_partial_run(tmp_path):
    save(tmp_path, make_result("org/quick", 90, max_per_kind=60))
    board = build_leaderboard(tmp_path).boards[0]
    assert board.id == "truthstab-1.0.0/fixed/max60"
    title = "truthstab 1.0.0, protocol fixed (max 60 per kind) - SMOKE TEST, wider intervals"
    assert terminal_table(board).startswith(title + ", all domains")
    md = markdown(build_leaderboard(tmp_path))
    assert f"## {title}" in md and "Note: Smoke test, scored on part of the release" in md


def test_smoke_test_runs_are_labelled_in_csv_and_json(tmp_path):
    save(tmp_path, make_result("org/full", 70))
    save(tmp_path, make_result("org/quick", 90, sha="b" * 40, max_per_kind=60))
    lb = build_leaderboard(tmp_path)
    rows = list(csv.DictReader(io.StringIO(to_csv(lb))))
    assert {r["model_id"]: r["run"] for r in rows} == {
        "org/full": "full",
        "org/quick": "smoke test (sample of the release)",
    }
    boards = json.loads(to_json(lb))["boards"]
    assert [(b["id"], b["smoke_test"]) for b in boards] == [
        ("truthstab-1.0.0/fixed", False),
        ("truthstab-1.0.0/fixed/max60", True),
    ]
