"""`truthstab datasets ...` through click's CliRunner: tables, --json, exports, and every error path."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from release_helpers import write_tiny
from truthstab.cli import main
from truthstab.data import registry

FIXTURES = Path(__file__).parent / "fixtures" / "paper"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "releases"
    write_tiny(out, "tinyset", "1.9.0")
    write_tiny(out, "tinyset", "1.10.0", per=2)
    monkeypatch.setenv(registry.ENV_ROOTS, str(out))
    return out


def run(*args: str):
    return CliRunner().invoke(main, ["datasets", *args])


def test_list_table_and_json(root: Path) -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    sha = registry.get_release("tinyset@1.10.0").sha256
    line = next(x for x in result.stdout.splitlines() if "1.10.0" in x)
    assert line.split()[:5] == ["tinyset", "1.10.0", "cities,medicine,definitions", "72", sha[:12]]
    data = json.loads(run("list", "--json").stdout)
    mine = {(d["name"], d["version"]): d for d in data}
    assert mine[("tinyset", "1.9.0")]["rows"] == 36
    assert mine[("tinyset", "1.10.0")]["sha256"] == sha


def test_show(root: Path) -> None:
    result = run("show", "tinyset")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("tinyset@1.10.0")
    assert ["cities", "fictional", "2", "2", "2", "6"] in [x.split() for x in result.stdout.splitlines()]
    assert "test fixtures" in result.stdout and "cc-by-4.0" in result.stdout
    data = json.loads(run("show", "tinyset@1.9.0", "--json").stdout)
    assert data["manifest"]["rows"] == 36 and data["version"] == "1.9.0"


def test_verify_ok(root: Path) -> None:
    result = run("verify", "tinyset")
    assert result.exit_code == 0, result.output
    assert f"tinyset@1.10.0: OK, 9 files, sha256 {registry.get_release('tinyset').sha256}" in result.stdout
    assert json.loads(run("verify", "tinyset", "--json").stdout)["ok"] is True


def test_verify_checksum_mismatch_exits_non_zero(root: Path) -> None:
    path = root / "tinyset-1.10.0/data/medicine/test.jsonl"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes(path.read_bytes().replace(b"pain", b"gain"))
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    result = run("verify", "tinyset@1.10.0")
    assert result.exit_code == 2
    assert "data/medicine/test.jsonl                 8  FAIL" in result.stdout
    assert result.stderr.startswith("error: release tinyset@1.10.0 failed verification")
    assert (
        f"data/medicine/test.jsonl: checksum mismatch: sha256 {actual}, manifest says {expected}"
        in result.stderr
    )
    as_json = run("verify", "tinyset@1.10.0", "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["ok"] is False


def test_malformed_row_named_by_file_line_and_column(root: Path) -> None:
    path = root / "tinyset-1.9.0/data/cities/train.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"negated":false', '"negated":"sometimes"')
    path.write_text("\n".join(lines) + "\n")
    result = run("verify", "tinyset@1.9.0")
    assert result.exit_code == 2
    assert "data/cities/train.jsonl:2: column negated:" in result.stdout
    export = run("export", "tinyset@1.9.0", "--format", "csv", "--out", str(root.parent / "out"))
    assert export.exit_code == 2 and "checksum mismatch" in export.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "nosuch"), "error: unknown release 'nosuch'; available: "),
        (("verify", "tinyset@2.0.0"), "error: unknown release 'tinyset@2.0.0'; available: "),
        (("show", "tinyset@1.0"), "error: invalid release version '1.0'"),
        (("show", "../../etc"), "is not a release folder"),
    ],
)
def test_unknown_or_invalid_refs(root: Path, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    if "available" in message:
        assert "tinyset@1.9.0, tinyset@1.10.0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one clear line, no traceback


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export(root: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"export-{fmt}"
    result = run("export", "tinyset", "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "EXPORT.json").read_text())
    assert meta["ref"] == "tinyset@1.10.0" and len(meta["files"]) == 9
    path = out / f"cities/test.{fmt}"
    if fmt == "csv":
        frame = pd.read_csv(path)
        assert json.loads(frame.loc[0, "correct_objects"]) == ["France"]
    elif fmt == "parquet":
        frame = pd.read_parquet(path)
        assert list(frame.loc[0, "correct_objects"]) == ["France"]
    else:  # the same bytes as the release's own file
        assert path.read_bytes() == (root / "tinyset-1.10.0/data/cities/test.jsonl").read_bytes()
        frame = pd.read_json(path, lines=True)
    assert len(frame) == 8 and set(frame["split"]) == {"test"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_export_refusals(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run("export", "tinyset", "--format", "csv", "--out", str(out))
    assert result.exit_code == 2 and "is not empty" in result.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert run("export", "tinyset", "--format", "xlsx", "--out", str(out)).exit_code == 2
    replaced = run("export", "tinyset", "--format", "csv", "--out", str(out), "--overwrite", "--json")
    assert replaced.exit_code == 0 and json.loads(replaced.stdout)["format"] == "csv"
    assert not (out / "keep.txt").exists()


def test_download_shipped(root: Path, tmp_path: Path) -> None:
    result = run("download", "tinyset@1.9.0", "--to", str(tmp_path / "to"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["path"] == str(tmp_path / "to" / "tinyset-1.9.0")
    again = run("download", "tinyset@1.9.0", "--to", str(tmp_path / "to"))
    assert again.exit_code == 2 and "already exists" in again.stderr
    usage = run("download", "tinyset", "--to", str(tmp_path / "x"), "--revision", "main")
    assert usage.exit_code == 2 and "--revision needs --from-hub" in usage.output


def test_import_paper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(registry.ENV_ROOTS, str(tmp_path / "out"))
    result = run("import-paper", "--from", str(FIXTURES), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "9 rows left out:" in result.stdout
    assert "cities_loc_true_false.csv      10  no split" in result.stdout
    assert "missing files: med_indications_noise_10.csv" in result.stdout
    assert "wrote paper-2511.19166@1.0.0 (34 statements, 3 noise rows skipped)" in result.stdout
    assert run("verify", "paper-2511.19166").exit_code == 0
    again = run("import-paper", "--from", str(FIXTURES), "--out", str(tmp_path / "out"), "--json")
    assert again.exit_code == 2 and "already exists" in again.stderr
    missing = run("import-paper", "--from", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out2"))
    assert missing.exit_code == 2 and "is not a folder" in missing.stderr


def test_list_survives_a_broken_release_folder(root: Path) -> None:
    # A folder whose manifest is not valid JSON must not hide the good releases beside it.
    broken = root / "tinyset-3.0.0"
    broken.mkdir()
    (broken / "MANIFEST.json").write_text("{not json")
    result = run("list")
    assert result.exit_code == 0, result.output
    assert "1.9.0" in result.stdout and "1.10.0" in result.stdout
    assert f"broken release folder {broken}" in result.stderr
    data = json.loads(run("list", "--json").stdout)
    assert sorted(d["version"] for d in data if d["name"] == "tinyset") == ["1.10.0", "1.9.0"]
    # Asking for a good release still works; asking for the broken one names it.
    assert registry.get_release("tinyset@1.9.0").version == "1.9.0"
    unknown = run("show", "tinyset@3.0.0")
    assert unknown.exit_code != 0 and str(broken) in unknown.output
