"""`truthstab probe run` end to end: tiny random model, tiny release, real store, real CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from release_helpers import write_tiny
from truthstab.cli import main
from truthstab.results.probe import ProtocolReport


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    return write_tiny(tmp_path_factory.mktemp("rel"), name="tiny", version="0.0.1", per=8)


def _run(*args):
    return CliRunner().invoke(main, ["probe", "run", *args], catch_exceptions=False)


def test_probe_run_prints_the_table_and_writes_the_report(tiny_llama_dir, release_dir, tmp_path):
    common = [
        str(tiny_llama_dir),
        "--dataset",
        str(release_dir),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--bootstrap",
        "30",
        "--batch-size",
        "8",
        "--quiet",
    ]
    out = tmp_path / "report.json"
    res = _run(*common, "--domain", "cities", "--probes", "mean-diff,sawmil", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "true+synthetic" in res.output and "retract" in res.output
    report = ProtocolReport.model_validate_json(out.read_text())
    # The sweep chose the layers, so the report says auto (it said "given" before: a recorded bug).
    assert report.probes == ["mean-diff", "sawmil"] and report.layer_choice == "auto"
    assert [s.domain for s in report.sweeps] == list(report.layers) == ["cities"]  # auto sweep kept
    as_json = _run(*common, "--probes", "mean-diff", "--layers", "1", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["layers"] == {"cities": 1, "definitions": 1, "medicine": 1}
    assert data["layer_choice"] == "given"
    assert len(data["results"]) == 3 and all(len(r["tasks"]) == 5 for r in data["results"])


def test_probe_run_bad_inputs_are_one_line_errors(tiny_llama_dir, release_dir, tmp_path):
    common = [str(tiny_llama_dir), "--dataset", str(release_dir), "--cache-dir", str(tmp_path), "--quiet"]
    for extra, msg in [
        (["--probes", "bogus"], "unknown probe 'bogus'"),
        (["--layers", "paper"], "--layers paper needs"),
        (["--batch-size", "-3"], "--batch-size must be"),
    ]:
        res = CliRunner().invoke(main, ["probe", "run", *common, *extra])
        assert res.exit_code != 0 and msg in res.output, res.output
