"""The committed JSON Schema of result.json is the one the code makes, and real results satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from truthstab.cli import main
from truthstab.results import SCHEMA_VERSION, dump_result, read_result, result_json_schema
from truthstab.results.migrate import migrate

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "docs" / "result.schema.json"


def test_the_committed_schema_is_in_sync_with_the_code():
    assert COMMITTED.read_text(encoding="utf-8") == result_json_schema(), (
        "docs/result.schema.json is stale: run `truthstab results schema > docs/result.schema.json`"
    )


def test_results_schema_prints_it():
    res = CliRunner().invoke(main, ["results", "schema"])
    assert res.exit_code == 0 and json.loads(res.output)["title"].endswith(SCHEMA_VERSION)


@pytest.mark.parametrize(
    "path", sorted((REPO / "submissions").rglob("result.json")), ids=lambda p: p.parent.name
)
def test_published_results_satisfy_the_schema(path):
    """Committed results load (schema 2 through the migration) and satisfy the schema-3 JSON Schema."""
    data = json.loads(path.read_text(encoding="utf-8"))
    result = read_result(path)  # migrated, then the model validates it
    migrated = migrate(data)
    jsonschema.validate(migrated, json.loads(COMMITTED.read_text(encoding="utf-8")))
    assert migrated["schema_version"] == SCHEMA_VERSION == result.schema_version
    if data["schema_version"].startswith("3."):  # written by this truthstab: read back as it was written
        assert json.loads(dump_result(result)) == data
        return
    # the migration renames and drops, never changes a number the board shows
    assert result.headline.model_dump(mode="json") == {**data["headline"], **_reasons(data["headline"])}
    if data.get("behavioural"):
        assert (
            result.behavioural.headline.truth_stability.value
            == (data["behavioural"]["headline"]["truth_stability"]["estimate"])
        )
    if data["metrics"]:
        old_task = data["metrics"]["results"][0]["tasks"][1]["flips"]["retraction_rate_base"]
        new_task = result.metrics.results[0].tasks[1].flips.retraction_rate_base
        assert (new_task.value, new_task.ci_low, new_task.ci_high) == (
            old_task["estimate"],
            old_task["low"],
            old_task["high"],
        )


def _reasons(node):
    """``node`` with ``reason: None`` added to every headline estimate (schema 3's one new field there)."""
    if isinstance(node, dict):
        if {"value", "ci_low", "ci_high"} <= set(node):
            return {**node, "reason": None}
        return {k: _reasons(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_reasons(x) for x in node]
    return node


def test_a_schema_2_file_migrates_to_schema_3():
    old = {
        "schema_version": "2.1",
        "protocol": {"sweep_curves": {"cities": [0.5]}, "seeds": {"protocol": 0}, "seed": 0},
        "model": {"chat_template_sha256": None, "quantization_note": None},
        "metrics": {
            "mode": "fixed",
            "seed": 0,
            "layers": {"cities": 3},
            "results": [{"x": {"estimate": 0.2, "low": 0.1, "high": 0.3}}],
        },
        "behavioural": {
            "y": [{"estimate": None, "low": None, "high": None, "reason": "why"}],
            "seed": 0,
            "n_bootstrap": 10,
            "answers": [{"ids": ["a"]}],
            "timings": {"cities/baseline": 1.5},
        },
        "timings": {"total": 9.0},
    }
    new = migrate(old)
    assert new["schema_version"] == "3.0" and old["schema_version"] == "2.1"  # a copy, not in place
    assert new["protocol"] == {"seed": 0}
    assert new["model"] == {"chat_template_sha256": "", "quantization_note": "", "alias": None}
    assert new["metrics"] == {"results": [{"x": {"value": 0.2, "ci_low": 0.1, "ci_high": 0.3}}]}
    assert new["behavioural"] == {"y": [{"value": None, "ci_low": None, "ci_high": None, "reason": "why"}]}
    assert new["timings"] == {"total": 9.0, "behaviour.cities/baseline": 1.5}
    assert migrate({**old, "metrics": {}})["metrics"] is None
    assert migrate(new) is new  # schema 3 comes back as it is
