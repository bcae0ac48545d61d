"""`truthstab activations extract` and `truthstab cache list|clear` end to end on a tiny model and release."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from release_helpers import write_tiny
from truthstab.cli import main


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_tiny(tmp_path_factory.mktemp("release"))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_extract_then_list_then_clear(tiny_llama_dir, release, tmp_path):
    cache = str(tmp_path / "cache")
    res = run(
        "activations",
        "extract",
        str(tiny_llama_dir),
        "--dataset",
        str(release),
        "--domain",
        "cities",
        "--layers",
        "0-1",
        "--bag-layers",
        "1",
        "--batch-size",
        "4",
        "--cache-dir",
        cache,
        "--json",
    )
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.stdout)
    assert row["domain"] == "cities" and row["statements"] == 12 and row["layers"] == 2
    assert row["bag_layers"] == [1] and row["dataset"] == "truthstab@0.0.1" and len(row["store_entries"]) == 1
    listed = run("cache", "list", "--cache-dir", cache, "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["domain"] == "cities" and entry["rows"] == "12/12" and entry["complete"]
    table = run("cache", "list", "--cache-dir", cache)
    assert "cities" in table.output and "12/12" in table.output
    assert run("cache", "clear", "--cache-dir", cache).exit_code != 0  # says what to clear
    cleared = run("cache", "clear", "--all", "--cache-dir", cache)
    assert cleared.exit_code == 0 and "removed 1 cache entry" in cleared.output
    assert "empty" in run("cache", "list", "--cache-dir", cache).output


def test_table_output_names_model_and_release(tiny_gpt2_dir, release, tmp_path):
    res = run(
        "activations",
        "extract",
        str(tiny_gpt2_dir),
        "--dataset",
        str(release),
        "--layers",
        "1",
        "--cache-dir",
        str(tmp_path),
    )
    assert res.exit_code == 0, res.output
    assert all(d in res.output for d in ("cities", "medicine", "definitions"))
    assert "truthstab@0.0.1" in res.output and "statements_per_s" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-model"], "error: unknown model 'no-such-model'"),
        (["{model}", "--layers", "7"], "error: layer(s) [7] do not exist: the model has layers 0-1"),
        (["{model}", "--layers", "x-y"], "error: bad layer list 'x-y'"),
        (["{model}", "--batch-size", "0"], "error: --batch-size must be auto or a positive integer"),
        (["{model}", "--domain", "astronomy"], "error: release truthstab@0.0.1 has no domain 'astronomy'"),
        (["{model}", "--device", "tpu"], "error: unknown device 'tpu'"),
    ],
)
def test_errors_are_one_line(tiny_gpt2_dir, release, tmp_path, args, message):
    args = [a.replace("{model}", str(tiny_gpt2_dir)) for a in args]
    res = run("activations", "extract", *args, "--dataset", str(release), "--cache-dir", str(tmp_path))
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1].startswith(message), res.output
    assert not list(tmp_path.glob("*/*/*")), "an error left files in the store"
