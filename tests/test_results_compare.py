"""`truthstab results compare` and the report card on constructed results: labels, warnings, digits, JSON."""

from __future__ import annotations

import json

from click.testing import CliRunner

from leaderboard_results import make_result, save
from truthstab.cli import main
from truthstab.results import read_result
from truthstab.results.card import report_card


def _quick(model: str, sha: str, fraction: float = 0.1):
    r = make_result(model, 50, sha=sha)
    return r.model_copy(
        update={
            "protocol": r.protocol.model_copy(
                update={"options": {**r.protocol.options, "sample_fraction": fraction}}
            )
        }
    )


def compare(tmp_path, a, b, *extra):
    pa, pb = save(tmp_path / "a", a), save(tmp_path / "b", b)
    res = CliRunner().invoke(main, ["results", "compare", str(pa), str(pb), *extra])
    assert res.exit_code == 0, res.output
    return res.output


def test_baseline_ap_has_three_decimals(tmp_path):
    out = compare(tmp_path, make_result("org/a", 50), make_result("org/b", 60, sha="b" * 40))
    line = next(x for x in out.splitlines() if x.startswith("baseline probe AP"))
    assert "0.900 [0.880, 0.920]" in line and "+0.0000" in line
    assert "!" not in out  # same release, protocol and sample: no warning


def test_compare_warns_on_other_samples_releases_and_protocols(tmp_path):
    out = compare(tmp_path, make_result("org/a", 50), _quick("org/b", "b" * 40))
    assert "! different samples of the release" in out
    assert "! B is a smoke test on a seeded 10 % sample" in out
    other = make_result("org/b", 60, sha="b" * 40, dataset_sha="e" * 64, mode="faithful")
    out = compare(tmp_path, make_result("org/a", 50), other)
    assert "! different releases" in out and "! different protocol modes (A fixed, B faithful)" in out


def test_compare_json(tmp_path):
    data = json.loads(compare(tmp_path, make_result("org/a", 50), _quick("org/b", "b" * 40), "--json"))
    assert [r["metric"] for r in data["rows"]] == [
        "truth_stability",
        "unfamiliar_stability",
        "familiar_stability",
        "familiarity_gap",
        "unfamiliar_excess",
        "familiar_excess",
        "refit_null",
        "noise_control",
        "baseline_ap",
        "truth_ap",
    ]
    assert data["rows"][0]["difference"] == 0 and data["rows"][0]["cis_overlap"] is True
    assert data["b"]["sample_fraction"] == 0.1 and data["a"]["sample_fraction"] is None
    assert any(w.startswith("different samples") for w in data["warnings"])


def test_report_card_labels_a_quick_run_as_a_smoke_test(tmp_path):
    full = save(tmp_path / "full", make_result("org/a", 50))
    quick = save(tmp_path / "quick", _quick("org/a", "a" * 40))
    assert "SMOKE TEST" not in report_card(read_result(full))
    card = report_card(read_result(quick))
    assert card.splitlines()[2].startswith("! SMOKE TEST: scored on a seeded 10 % sample")
    assert "intervals are wider" in card and "cannot estimate the full-release scores" in card
    assert "without --sample-fraction" in card
