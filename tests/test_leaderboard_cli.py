"""`truthstab leaderboard build | show | serve` through the real command line."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from leaderboard_results import make_result, save
from truthstab.cli import main
from truthstab.leaderboard import LeaderboardError
from truthstab.leaderboard.serve import make_server, url_of


@pytest.fixture
def built(tmp_path):
    results = tmp_path / "results"
    save(results, make_result("org/strong", 90, n_parameters=2_000_000_000, is_instruct=False))
    save(
        results,
        make_result(
            "org/weak", 50, sha="b" * 40, domain_truth={"cities": 20, "definitions": 50, "medicine": 80}
        ),
    )
    bad = results / "org__bad" / "x"
    bad.mkdir(parents=True)
    (bad / "result.json").write_text("{oops")
    out = tmp_path / "lb"
    res = CliRunner().invoke(main, ["leaderboard", "build", "--results", str(results), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res


def test_build_reports_boards_and_skipped_files(built):
    out, res = built
    assert "board truthstab-1.0.0/fixed: 2 model(s)" in res.output
    assert "skipped" in res.output and "org__bad/x/result.json" in res.output
    assert (out / "index.html").is_file() and (out / "leaderboard.md").is_file()


def test_build_json_summary(tmp_path):
    save(tmp_path / "r", make_result("org/a", 70))
    res = CliRunner().invoke(
        main,
        ["leaderboard", "build", "--results", str(tmp_path / "r"), "--out", str(tmp_path / "o"), "--json"],
    )
    summary = json.loads(res.output)
    assert summary["boards"] == [{"id": "truthstab-1.0.0/fixed", "models": 1}]
    assert summary["skipped"] == []


def test_show_ranks_and_switches_domain(built):
    out, _ = built
    runner = CliRunner()
    res = runner.invoke(main, ["leaderboard", "show", "--dir", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.index("org/strong") < res.output.index("org/weak")
    assert "90.0 [88.0, 92.0]" in res.output
    res = runner.invoke(main, ["leaderboard", "show", "--dir", str(out), "--domain", "cities", "--json"])
    rows = json.loads(res.output)
    assert [r["model_id"] for r in rows] == ["org/strong", "org/weak"]
    assert rows[1]["domains"]["cities"]["rank_group"] == 2
    # Each domain's view shows that domain's scores (the weak model: 80 on medicine).
    res = runner.invoke(main, ["leaderboard", "show", "--dir", str(out), "--domain", "medicine", "--json"])
    rows = json.loads(res.output)
    assert [r["model_id"] for r in rows] == ["org/strong", "org/weak"]
    assert rows[1]["domains"]["medicine"]["scores"]["truth_stability"]["value"] == 80
    res = runner.invoke(main, ["leaderboard", "show", "--dir", str(out), "--domain", "cities"])
    assert "cities 12" in res.output and "20.0 [18.0, 22.0]" in res.output


def test_show_sort_keys(built):
    out, _ = built

    def order(key: str) -> list[str]:
        res = CliRunner().invoke(main, ["leaderboard", "show", "--dir", str(out), "--sort", key, "--json"])
        assert res.exit_code == 0, res.output
        assert "report_card" not in res.output
        return [r["model_id"] for r in json.loads(res.output)]

    assert order("params") == ["org/strong", "org/weak"]
    assert order("truth_stability") == order("truth") == ["org/strong", "org/weak"]
    assert order("model") == ["org/strong", "org/weak"]
    res = CliRunner().invoke(main, ["leaderboard", "show", "--dir", str(out), "--sort", "bogus"])
    assert res.exit_code == 2 and "Invalid value for '--sort'" in res.output


def test_show_errors_are_one_line(built, tmp_path):
    out, _ = built
    runner = CliRunner()
    res = runner.invoke(main, ["leaderboard", "show", "--dir", str(out), "--board", "nope/fixed"])
    assert res.exit_code == 2
    assert res.output.strip() == "error: no board 'nope/fixed'; choose one of: truthstab-1.0.0/fixed"
    res = runner.invoke(main, ["leaderboard", "show", "--dir", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "run `truthstab leaderboard build" in res.output
    res = runner.invoke(main, ["leaderboard", "show", "--dir", str(out), "--domain", "mars"])
    assert res.exit_code == 2 and "no domain 'mars'" in res.output
    res = runner.invoke(main, ["leaderboard", "build", "--results", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_serve_serves_the_board_on_localhost_only(built):
    out, _ = built
    server = make_server(out, 0)
    assert server.server_address[0] == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = url_of(server)
        with urllib.request.urlopen(base, timeout=10) as resp:
            assert resp.status == 200 and b'id="lb-data"' in resp.read()
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        with urllib.request.urlopen(base + "leaderboard.json", timeout=10) as resp:
            assert json.loads(resp.read())["boards"][0]["rows"][0]["model_id"] == "org/strong"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "figures/", timeout=10)
        assert err.value.code == 404  # no directory listings
    finally:
        server.shutdown()
        server.server_close()


def test_serve_refuses_a_folder_without_a_board(tmp_path):
    with pytest.raises(LeaderboardError, match=r"holds no index\.html"):
        make_server(tmp_path, 0)
    (tmp_path / "index.html").write_text("<!doctype html>")
    with pytest.raises(LeaderboardError, match="out of range"):
        make_server(tmp_path, 70000)
    res = CliRunner().invoke(main, ["leaderboard", "serve", "--dir", str(tmp_path / "none")])
    assert res.exit_code == 2 and "holds no index.html" in res.output


def test_build_ends_with_the_skipped_count_and_strict_fails(tmp_path):
    results = tmp_path / "results"
    save(results, make_result("org/ok", 70))
    save(results, make_result("org/forged", 99, sha="f" * 40, dataset_name="other"))
    (results / "junk").mkdir()
    (results / "junk" / "result.json").write_text("{oops")
    args = ["leaderboard", "build", "--results", str(results), "--out", str(tmp_path / "lb")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    last = res.stderr.strip().splitlines()[-1]
    assert last == "skipped 2 result file(s): 1 not on a known release, 1 unreadable or invalid"
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code != 0
    assert "--strict: 2 result file(s) skipped" in strict.stderr and "Traceback" not in strict.output
    assert (tmp_path / "lb" / "index.html").is_file()  # the board is written either way
    clean = tmp_path / "clean"
    save(clean, make_result("org/ok", 70))
    ok = CliRunner().invoke(
        main, ["leaderboard", "build", "--results", str(clean), "--out", str(tmp_path / "o"), "--strict"]
    )
    assert ok.exit_code == 0 and ok.output.rstrip().endswith("1 ranked row(s); none skipped")


def test_show_labels_a_smoke_test_board(tmp_path):
    results = tmp_path / "results"
    save(results, make_result("org/quick", 70, max_per_kind=60))
    out = tmp_path / "lb"
    CliRunner().invoke(main, ["leaderboard", "build", "--results", str(results), "--out", str(out)])
    shown = CliRunner().invoke(main, ["leaderboard", "show", "--dir", str(out)])
    assert "SMOKE TEST, wider intervals" in shown.output.splitlines()[0]
    rows = json.loads(CliRunner().invoke(main, ["leaderboard", "show", "--dir", str(out), "--json"]).output)
    assert rows[0]["smoke_test"] is True and rows[0]["board"] == "truthstab-1.0.0/fixed/max60"
