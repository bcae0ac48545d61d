"""write_release: layout, manifest, card, byte determinism, atomicity and refusals."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pandas as pd
import pytest
import yaml

from release_helpers import TEST_CARD, make_rows, write_tiny
from truthstab.data.release import Source, coerce_rows, release_sha256, write_release
from truthstab.data.schema import COLUMNS
from truthstab.errors import DatasetError


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout_manifest_and_checksums(tmp_path: Path) -> None:
    release = write_tiny(tmp_path, per=2)
    assert release == tmp_path / "truthstab-0.0.1"
    manifest = json.loads((release / "MANIFEST.json").read_text())
    assert (manifest["name"], manifest["version"]) == ("truthstab", "0.0.1")
    assert manifest["creation"] == {"per": 2, "seed": 0}
    assert manifest["created_by"]["harness"] == "truthstab"
    assert manifest["domains"] == ["cities", "medicine", "definitions"]
    assert manifest["rows"] == 72
    assert manifest["by_split"] == {"train": 24, "calibration": 24, "test": 24}
    assert len(manifest["files"]) == 9
    for entry in manifest["files"]:
        data = (release / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        lines = data.decode().splitlines()
        assert entry["rows"] == len(lines) == 8
        assert entry["by_kind"] == {"true": 2, "false": 2, "synthetic": 2, "fictional": 2}
        assert entry["by_split"] == {entry["split"]: 8}
        first = json.loads(lines[0])
        assert list(first) == list(COLUMNS)
        assert first["split"] == entry["split"] and first["domain"] == entry["domain"]
        assert first["kind"] == "true"  # sorted by kind order, then id
    expected = hashlib.sha256(
        "".join(sorted(f"{f['path']} {f['sha256']}\n" for f in manifest["files"])).encode()
    ).hexdigest()
    assert manifest["sha256"] == expected == release_sha256(manifest["files"])
    card = (release / "README.md").read_bytes()
    assert manifest["card"]["sha256"] == hashlib.sha256(card).hexdigest()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_rows_sorted_kind_then_id(tmp_path: Path) -> None:
    release = write_tiny(tmp_path, per=3)
    rows = [json.loads(line) for line in (release / "data/cities/test.jsonl").read_text().splitlines()]
    order = ["true", "false", "synthetic", "fictional"]
    keys = [(order.index(r["kind"]), r["id"]) for r in rows]
    assert keys == sorted(keys)


def test_card_front_matter_is_a_valid_hf_card(tmp_path: Path) -> None:
    text = (write_tiny(tmp_path) / "README.md").read_text()
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["license"] == "cc-by-4.0" and meta["language"] == ["en"]
    assert meta["pretty_name"] == "Tiny test release"
    assert meta["task_categories"] == ["text-classification"]
    configs = {c["config_name"]: c["data_files"] for c in meta["configs"]}
    assert list(configs) == ["cities", "medicine", "definitions"]
    assert configs["medicine"] == [
        {"split": s, "path": f"data/medicine/{s}.jsonl"} for s in ("train", "calibration", "test")
    ]
    assert "| cities | true | 1 | 1 | 1 | 3 |" in text
    assert "## Limitations\n\nNot a benchmark." in text
    assert "| test fixtures | - | cc0-1.0 |" in text


def test_byte_deterministic_whatever_the_input_order(tmp_path: Path) -> None:
    rows = make_rows(per=3)
    shuffled = list(rows)
    random.Random(7).shuffle(shuffled)
    a = write_release(rows, "truthstab", "1.0.0", tmp_path / "a", {"seed": 1}, TEST_CARD)
    b = write_release(shuffled, "truthstab", "1.0.0", tmp_path / "b", {"seed": 1}, TEST_CARD)
    frame = pd.DataFrame([r.model_dump() for r in shuffled])
    c = write_release(frame, "truthstab", "1.0.0", tmp_path / "c", {"seed": 1}, TEST_CARD)
    assert _all_bytes(a) == _all_bytes(b) == _all_bytes(c)


def test_dataframe_round_trip_through_parquet(tmp_path: Path) -> None:
    # Parquet hands correct_objects back as numpy arrays and negated as numpy bools.
    frame = pd.DataFrame([r.model_dump() for r in make_rows()])
    frame.to_parquet(tmp_path / "rows.parquet")
    back = pd.read_parquet(tmp_path / "rows.parquet")
    assert coerce_rows(back) == make_rows()


def test_existing_release_refused_unless_overwrite(tmp_path: Path) -> None:
    release = write_tiny(tmp_path)
    with pytest.raises(DatasetError, match="already exists"):
        write_tiny(tmp_path)
    write_tiny(tmp_path, per=2, overwrite=True)
    assert json.loads((release / "MANIFEST.json").read_text())["rows"] == 72
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truthstab-0.0.1"]


def test_malformed_row_names_row_and_column_and_writes_nothing(tmp_path: Path) -> None:
    frame = pd.DataFrame([r.model_dump() for r in make_rows()])
    frame.loc[5, "kind"] = "maybe"
    with pytest.raises(DatasetError, match=r"row 5: column kind"):
        write_release(frame, "truthstab", "1.0.0", tmp_path, {}, TEST_CARD)
    with pytest.raises(DatasetError, match=r"lack columns \['source'\]"):
        write_release(frame.drop(columns="source"), "truthstab", "1.0.0", tmp_path, {}, TEST_CARD)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("rows", "name", "version", "creation", "message"),
    [
        (make_rows() + make_rows()[:1], "truthstab", "1.0.0", {}, "duplicate statement id"),
        ([r for r in make_rows() if r.split != "test"], "truthstab", "1.0.0", {}, r"split\(s\) \['test'\]"),
        ([], "truthstab", "1.0.0", {}, "no rows"),
        (make_rows(), "../evil", "1.0.0", {}, "invalid release name"),
        (make_rows(), "Truth Stab", "1.0.0", {}, "invalid release name"),
        (make_rows(), "truthstab", "1.0", {}, "invalid release version"),
        (make_rows(), "truthstab", "1.0.0", {"when": object()}, "not plain JSON"),
    ],
)
def test_refusals(tmp_path: Path, rows, name, version, creation, message) -> None:
    with pytest.raises(DatasetError, match=message):
        write_release(rows, name, version, tmp_path, creation, TEST_CARD)
    assert list(tmp_path.iterdir()) == []


def test_hf_load_dataset_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is a declared dependency")
    release = write_tiny(tmp_path / "rel", per=2)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ds = datasets.load_dataset(str(release), "cities", cache_dir=str(tmp_path / "hf-cache"))
    assert {s: ds[s].num_rows for s in ds} == {"train": 8, "calibration": 8, "test": 8}
    assert ds["test"].features["correct_objects"].feature.dtype == "string"
    assert set(ds["train"]["split"]) == {"train"}
    assert set(ds["train"]["domain"]) == {"cities"}


def test_extra_files_are_checksummed(tmp_path: Path) -> None:
    extra = {"NOTES.json": b'{"a": 1}\n'}
    release = write_release(make_rows(), "truthstab", "1.0.0", tmp_path, {}, TEST_CARD, extra_files=extra)
    manifest = json.loads((release / "MANIFEST.json").read_text())
    assert manifest["extras"] == [
        {"path": "NOTES.json", "sha256": hashlib.sha256(extra["NOTES.json"]).hexdigest(), "size": 9}
    ]
    assert (release / "NOTES.json").read_bytes() == extra["NOTES.json"]
    for bad in ("../x.json", "README.md", "data.bin"):
        with pytest.raises(DatasetError, match="invalid extra file name"):
            write_release(make_rows(), "truthstab", "1.0.1", tmp_path, {}, TEST_CARD, extra_files={bad: b""})


def test_free_text_cannot_break_the_card_table(tmp_path: Path) -> None:
    card = TEST_CARD.model_copy(update={"sources": [Source(name="a|b", license="MIT\nor BSD")]})
    text = (write_release(make_rows(), "truthstab", "1.0.0", tmp_path, {}, card) / "README.md").read_text()
    assert "| a\\|b | - | MIT or BSD | - | - |" in text
