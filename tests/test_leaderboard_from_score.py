"""The leaderboard built from real `truthstab score` output (a tiny random model on a tiny release)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from release_helpers import write_tiny
from truthstab.cli import main
from truthstab.data import registry
from truthstab.results import read_result

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(tiny_llama_dir, tmp_path_factory):
    """Two runs of one model: protocol fixed and faithful (the second reuses the cached activations)."""
    root = tmp_path_factory.mktemp("lbscore")
    release = write_tiny(root / "rel", name="tiny", version="0.0.1", per=8)
    subs = root / "submissions"
    for protocol in ("fixed", "faithful"):
        args = ["score", str(tiny_llama_dir), "--dataset", str(release), "--out", str(subs)]
        args += ["--cache-dir", str(root / "cache"), "--bootstrap", "40", "--batch-size", "8", "--quiet"]
        args += ["--probes", "mean-diff", "--layers", "1", "--protocol", protocol]
        res = CliRunner().invoke(main, args, catch_exceptions=False)
        assert res.exit_code == 0, res.output
    out = root / "leaderboard"
    # The build ranks only results on a known release: make the tiny release one, as a user would.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(registry.ENV_ROOTS, str(release.parent))
        res = CliRunner().invoke(main, ["leaderboard", "build", "--results", str(subs), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return subs, out, res.output


def test_one_board_per_protocol_from_real_results(scored):
    subs, out, output = scored
    assert "board tiny-0.0.1/fixed: 1 model(s)" in output
    assert "board tiny-0.0.1/faithful: 1 model(s)" in output
    assert output.rstrip().endswith("none skipped")
    lb = json.loads((out / "leaderboard.json").read_text())
    row = lb["boards"][0]["rows"][0]
    result = read_result(subs / row["source"])
    assert row["model_id"] == result.model.id and row["revision_sha"] == result.model.revision_sha
    # A tiny random network is not measurable: the board shows no score rather than a good-looking one.
    assert result.headline.truth_stability is None and row["rank_group"] is None
    assert row["scores"]["truth_stability"]["value"] is None and row["measurable_domains"] == []
    assert row["scores"]["baseline_ap"]["value"] == pytest.approx(result.headline.baseline_ap.value)
    assert row["layers"] == {"cities": 1, "definitions": 1, "medicine": 1}
    assert row["model_kind"] == "instruct" and row["primary_probe"] == "mean-diff"


def test_real_figures_and_report_card_reach_the_board(scored):
    subs, out, _ = scored
    lb = json.loads((out / "leaderboard.json").read_text())
    row = lb["boards"][0]["rows"][0]
    result = read_result(subs / row["source"])
    pngs = sorted(f.split("/")[-1] for f in result.figures if f.endswith(".png"))
    assert sorted(f.split("/")[-1] for f in row["figures"]) == pngs and pngs
    for rel in row["figures"]:
        assert (out / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert row["report_card"].startswith("truthstab report card")
    shown = CliRunner().invoke(
        main, ["leaderboard", "show", "--dir", str(out), "--board", "tiny-0.0.1/faithful"]
    )
    assert shown.exit_code == 0 and "tiny 0.0.1, protocol faithful" in shown.output
