"""The committed JSON Schema of result.json is the one the code makes, and real results satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from truthstab.cli import main
from truthstab.results import SCHEMA_VERSION, read_result, result_json_schema

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
    data = json.loads(path.read_text(encoding="utf-8"))
    read_result(path)  # the model validates it
    jsonschema.validate(data, json.loads(COMMITTED.read_text(encoding="utf-8")))
