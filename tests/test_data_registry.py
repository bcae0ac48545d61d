"""Release discovery, references, loading with filters, and verification of tampered releases."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from release_helpers import make_rows, write_tiny
from truthstab.data import registry
from truthstab.data.release import release_sha256, write_release
from truthstab.data.schema import COLUMNS
from truthstab.errors import DatasetError


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A releases root on TRUTHSTAB_DATASETS holding tinyset 1.9.0 and 1.10.0 and truthstab 0.0.1."""
    out = tmp_path / "releases"
    write_tiny(out, "tinyset", "1.9.0")
    write_tiny(out, "tinyset", "1.10.0", per=2)
    write_tiny(out, "truthstab", "0.0.1")
    monkeypatch.setenv(registry.ENV_ROOTS, str(out))
    return out


def _rewrite_manifest(release: Path, edit) -> None:
    """Apply ``edit`` to the manifest dict and keep its own checksums consistent."""
    path = release / "MANIFEST.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    manifest["sha256"] = release_sha256(manifest["files"])
    path.write_text(json.dumps(manifest, indent=2))


def _reseal(release: Path, rel: str) -> None:
    """Update the manifest checksum and size of one data file after a deliberate edit."""
    data = (release / rel).read_bytes()

    def edit(manifest: dict) -> None:
        for entry in manifest["files"]:
            if entry["path"] == rel:
                entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)

    _rewrite_manifest(release, edit)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("truthstab", ("truthstab", None)),
        ("truthstab@1.0.0", ("truthstab", "1.0.0")),
        ("paper-2511.19166@1.0.0", ("paper-2511.19166", "1.0.0")),
        ("@2.0.1", ("truthstab", "2.0.1")),
        (" tinyset ", ("tinyset", None)),
    ],
)
def test_parse_ref(ref: str, expected: tuple) -> None:
    assert registry.parse_ref(ref) == expected


@pytest.mark.parametrize("ref", ["truthstab@1.0", "truthstab@v1.0.0", "../etc@1.0.0", "Upper", "a b"])
def test_parse_ref_refuses(ref: str) -> None:
    with pytest.raises(DatasetError, match="invalid release"):
        registry.parse_ref(ref)


def test_list_and_latest_by_semantic_version(root: Path) -> None:
    (root / ".tinyset-2.0.0.abc.tmp").mkdir()  # an interrupted write is ignored
    refs = [r.ref for r in registry.list_releases()]
    assert refs.index("tinyset@1.9.0") < refs.index("tinyset@1.10.0")
    assert "truthstab@0.0.1" in refs
    latest = registry.get_release("tinyset")
    assert (latest.version, latest.origin, latest.path) == ("1.10.0", "env", root / "tinyset-1.10.0")
    assert latest.domains == ["cities", "medicine", "definitions"]
    assert latest.sha256 == latest.manifest.sha256 and len(latest.sha256) == 64
    assert registry.get_release("tinyset@1.9.0").manifest.rows == 36


def test_unknown_release_lists_available(root: Path) -> None:
    with pytest.raises(DatasetError, match=r"unknown release 'tinyset@3.0.0'; available: .*tinyset@1.10.0"):
        registry.get_release("tinyset@3.0.0")
    with pytest.raises(DatasetError, match=r"unknown release 'nosuch'; available: .*truthstab@0.0.1"):
        registry.get_release("nosuch")


def test_release_by_path(tmp_path: Path) -> None:
    release = write_tiny(tmp_path)
    assert registry.get_release(str(release)).ref == "truthstab@0.0.1"
    with pytest.raises(DatasetError, match="not a release folder"):
        registry.get_release(str(tmp_path))


def test_folder_must_match_manifest(root: Path) -> None:
    shutil.move(root / "tinyset-1.9.0", root / "tinyset-1.9.1")
    # The misnamed folder is reported as broken; the other releases stay usable.
    releases, broken = registry.scan_releases()
    assert [b.path.name for b in broken] == ["tinyset-1.9.1"]
    assert re.search(r"folder must be named tinyset-1\.9\.0", broken[0].reason)
    assert [r.ref for r in registry.list_releases()] == [r.ref for r in releases]
    assert "tinyset@1.9.0" not in [r.ref for r in releases]


def test_load_statements_filters(root: Path) -> None:
    every = registry.load_statements("tinyset@1.10.0")
    assert len(every) == 72 and len({r.id for r in every}) == 72
    rows = registry.load_statements("tinyset", domains="medicine", kinds=["true", "fictional"], splits="test")
    assert len(rows) == 4
    assert {(r.domain, r.kind, r.split) for r in rows} == {
        ("medicine", "true", "test"),
        ("medicine", "fictional", "test"),
    }
    with pytest.raises(DatasetError, match=r"unknown domain \['weather'\]; choose from"):
        registry.load_statements("tinyset", domains="weather")
    with pytest.raises(DatasetError, match=r"unknown kind \['noise'\]"):
        registry.load_statements("tinyset", kinds="noise")


def test_load_frame(root: Path) -> None:
    frame = registry.load_frame("tinyset", domain="cities", split=["train", "test"])
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 16 and set(frame["split"]) == {"train", "test"}
    assert frame["negated"].dtype == bool
    assert isinstance(frame.loc[0, "correct_objects"], list)
    empty = registry.load_frame("tinyset", domain="cities", kind="true", split="train")
    assert len(empty) == 2


def test_same_rows_as_written(root: Path) -> None:
    written = {r.id: r for r in make_rows(per=2)}
    loaded = {r.id: r for r in registry.load_statements("tinyset@1.10.0")}
    assert loaded == written


def test_load_refuses_modified_file(root: Path) -> None:
    path = root / "tinyset-1.10.0/data/cities/test.jsonl"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text(path.read_text().replace("France", "Spain"))
    after = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(
        DatasetError,
        match=f"checksum mismatch in .*cities/test.jsonl: sha256 {after}, manifest says {before}",
    ):
        registry.load_statements("tinyset", domains="cities")
    assert len(registry.load_statements("tinyset", domains="medicine")) == 24  # other files still load


def test_verify_clean(root: Path) -> None:
    report = registry.verify_release("tinyset")
    assert report.ok, report.all_problems()
    assert report.ref == "tinyset@1.10.0" and len(report.files) == 9
    assert report.sha256_actual == report.sha256_expected
    assert all(f.rows_actual == f.rows_expected == 8 for f in report.files)


def test_verify_checksum_mismatch_names_file_and_both_hashes(root: Path) -> None:
    path = root / "tinyset-1.10.0/data/definitions/train.jsonl"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes(path.read_bytes().replace(b"large", b"Large"))
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    report = registry.verify_release("tinyset")
    assert not report.ok
    assert (
        f"data/definitions/train.jsonl: checksum mismatch: sha256 {actual}, manifest says {expected}"
        in report.all_problems()
    )
    assert any(p.startswith("release checksum mismatch") for p in report.problems)


def test_verify_malformed_row_names_file_line_and_column(root: Path) -> None:
    release = root / "tinyset-1.10.0"
    rel = "data/cities/calibration.jsonl"
    lines = (release / rel).read_text().splitlines()
    row = json.loads(lines[2])
    row["truth"] = "perhaps"
    lines[2] = json.dumps(row)
    lines[4] = "{not json"
    (release / rel).write_text("\n".join(lines) + "\n")
    _reseal(release, rel)  # checksums agree: only the row checks can catch it
    problems = registry.verify_release("tinyset").all_problems()
    assert any(p.startswith(f"{rel}:3: column truth:") for p in problems), problems
    assert any(p.startswith(f"{rel}:5: not valid JSON") for p in problems), problems
    with pytest.raises(DatasetError, match=rf"{rel}:3: column truth"):
        registry.load_statements("tinyset", domains="cities", splits="calibration")


def test_verify_wrong_split_duplicates_counts_and_unlisted(root: Path) -> None:
    release = root / "tinyset-1.10.0"
    test_rel, train_rel = "data/medicine/test.jsonl", "data/medicine/train.jsonl"
    train_lines = (release / train_rel).read_text().splitlines(keepends=True)
    (release / test_rel).write_text((release / test_rel).read_text() + train_lines[0])
    _reseal(release, test_rel)
    (release / "data/medicine/extra.jsonl").write_text("")
    problems = registry.verify_release("tinyset").all_problems()
    assert f"{test_rel}:9: row is medicine/train in the file of medicine/test" in problems
    assert any(p.startswith("duplicate statement ids: ") for p in problems)
    assert f"{test_rel}: 9 rows, manifest says 8" in problems
    assert "data/medicine/extra.jsonl: file is not listed in the manifest" in problems


def test_verify_missing_file_and_card(root: Path) -> None:
    release = root / "tinyset-1.9.0"
    os.remove(release / "data/cities/train.jsonl")
    (release / "README.md").write_text("changed")
    problems = registry.verify_release("tinyset@1.9.0").all_problems()
    assert "data/cities/train.jsonl: file is missing" in problems
    assert any(p.startswith("README.md: checksum mismatch") for p in problems)


def test_broken_manifest_is_named(tmp_path: Path) -> None:
    release = write_release(make_rows(), "truthstab", "0.0.2", tmp_path, {})
    (release / "MANIFEST.json").write_text("{")
    with pytest.raises(DatasetError, match=r"MANIFEST\.json is not valid JSON"):
        registry.get_release(str(release))
    (release / "MANIFEST.json").write_text(json.dumps({"format": 1, "name": "truthstab"}))
    with pytest.raises(DatasetError, match=r"MANIFEST\.json: field version: Field required"):
        registry.get_release(str(release))
    (release / "MANIFEST.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(DatasetError, match="format 99 is not supported"):
        registry.get_release(str(release))


def test_roots_precedence_env_then_source_then_packaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = tmp_path / "pkg"
    write_tiny(packaged / "_releases", "tinyset", "3.0.0")  # only in the wheel's copy
    write_tiny(packaged / "_releases", "tinyset", "1.0.0", per=2)  # in both: the env copy wins
    write_tiny(tmp_path / "env", "tinyset", "1.0.0")
    monkeypatch.setattr(registry, "_PACKAGE_DIR", packaged)
    monkeypatch.setenv(registry.ENV_ROOTS, os.pathsep.join([str(tmp_path / "env"), str(tmp_path / "void")]))
    origins = [origin for origin, _ in registry.release_roots()]
    assert origins[0] == "env" and origins[-1] == "packaged"
    assert registry.get_release("tinyset@1.0.0").origin == "env"
    assert registry.get_release("tinyset@1.0.0").manifest.rows == 36
    assert registry.get_release("tinyset").origin == "packaged"
    assert registry.verify_release("tinyset@3.0.0").ok


def test_verify_manifest_that_drops_a_file(root: Path) -> None:
    # A manifest edited to forget a file (with its release checksum recomputed) is still caught.
    release = root / "tinyset-1.9.0"
    _rewrite_manifest(
        release, lambda m: m.update(files=[f for f in m["files"] if f["path"] != "data/cities/test.jsonl"])
    )
    problems = registry.verify_release("tinyset@1.9.0").all_problems()
    assert "domain 'cities' has no file for split(s) ['test'] in the manifest" in problems
    assert "data/cities/test.jsonl: file is not listed in the manifest" in problems
