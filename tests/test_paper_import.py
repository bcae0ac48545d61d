"""The paper's CSV files -> release paper-2511.19166: flag mapping, splits, reported defects."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from truthstab.data import registry
from truthstab.data.paper_import import PAPER_NAME, REPORT_NAME, import_paper
from truthstab.errors import DatasetError

FIXTURES = Path(__file__).parent / "fixtures" / "paper"


@pytest.fixture
def imported(tmp_path: Path):
    report = import_paper(FIXTURES, tmp_path)
    rows = {r.statement: r for r in registry.load_statements(str(report.path))}
    return report, rows


def test_every_defective_row_is_reported_with_file_and_line(imported) -> None:
    report, _ = imported
    problems = {(p.file, p.line): p.reason for p in report.problems}
    expected = {
        ("cities_loc_true_false.csv", 9): "several splits: train, test",
        ("cities_loc_true_false.csv", 10): "no split",
        ("cities_loc_true_false.csv", 11): "contradictory flags: real_object=1 and fake_object=1",
        ("cities_loc_true_false.csv", 12): "no kind flag",
        ("cities_loc_true_false.csv", 13): "duplicate of the statement at cities_loc_true_false.csv:2",
        ("cities_loc_true_false.csv", 15): "column correct is 'yes', expected 0 or 1",
        ("cities_loc_synthetic.csv", 6): "column category is 'towns'",
        ("cities_loc_synthetic.csv", 7): "flags say kind 'true', which does not belong in this file",
        ("cities_loc_fictional.csv", 5): "no split",
    }
    assert set(problems) == set(expected)
    for key, start in expected.items():
        assert problems[key].startswith(start), (key, problems[key])
    # Nothing silently dropped: every non-noise row read is either kept or reported.
    read = sum(f.rows_read for f in report.files if "noise" not in f.file)
    kept = sum(f.rows_kept for f in report.files)
    assert read == kept + len(report.problems) == report.rows + len(report.problems)


def test_counts_noise_and_missing_files(imported) -> None:
    report, rows = imported
    assert report.ref == f"{PAPER_NAME}@1.0.0"
    assert report.noise_rows_skipped == 3
    assert report.missing_files == ["med_indications_noise_10.csv"]
    assert report.rows == len(rows) == 34
    assert report.by_domain == {"cities": 15, "definitions": 9, "medicine": 10}
    assert not [r for r in rows if "noise" in r]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        # A negated false pairing is a true statement.
        ("The city of Lyon is not located in Peru.", {"kind": "true", "truth": "true", "negated": True}),
        (
            "The city of Lyon is located in Peru.",
            {"kind": "false", "truth": "false", "correct_objects": ["France"]},
        ),
        ("The city of Osaka is not located in Japan.", {"kind": "false", "split": "test", "negated": True}),
        # fictional_object=1 wins over fake_object=1.
        (
            "The city of Minas Tirith is located in Gondor.",
            {"kind": "fictional", "truth": "neither", "fiction_truth": "true", "familiarity": "familiar"},
        ),
        (
            "The city of Minas Tirith is located in Mordor.",
            {"fiction_truth": "false", "split": "calibration"},
        ),
        (
            "The city of Brovantu is not located in Quelmaria.",
            {"kind": "synthetic", "familiarity": "unfamiliar", "fiction_truth": "", "correct_objects": []},
        ),
        ("The city of Rome, the capital, is located in Italy.", {"subject": "Rome", "object": "Italy"}),
        (
            "Lisinopril is indicated for hypertension.",
            {
                "domain": "medicine",
                "relation": "indicated_for",
                "correct_objects": ["hypertension", "heart failure"],
            },
        ),
        # defs_fictional.csv has its columns in another order.
        (
            "A hobbit is a type of dwarf.",
            {"domain": "definitions", "relation": "type_of", "kind": "fictional", "fiction_truth": "false"},
        ),
        ("Big is a synonym of large.", {"relation": "synonym_of", "split": "calibration"}),
        (
            "Mars is an instance of a star.",
            {"relation": "instance_of", "kind": "false", "correct_objects": ["planet"]},
        ),
    ],
)
def test_mapping(imported, statement: str, expected: dict) -> None:
    _, rows = imported
    row = rows[statement].model_dump()
    assert {k: row[k] for k in expected} == expected
    assert row["source"].startswith(f"{PAPER_NAME}:")


def test_report_is_written_into_the_release_and_verified(imported) -> None:
    report, _ = imported
    on_disk = json.loads((report.path / REPORT_NAME).read_text())
    assert len(on_disk["problems"]) == len(report.problems) == 9
    release = registry.get_release(str(report.path))
    assert [e.path for e in release.manifest.extras] == [REPORT_NAME]
    assert release.manifest.license == "mit"
    assert set(release.manifest.creation["files_sha256"]) == {f.file for f in report.files}
    assert "9 rows could not be mapped" in (report.path / "README.md").read_text()
    assert registry.verify_release(release).ok
    (report.path / REPORT_NAME).write_text("{}")
    problems = registry.verify_release(release).all_problems()
    assert any(p.startswith(f"{REPORT_NAME}: checksum mismatch") for p in problems)


def test_existing_release_refused_then_overwritten(tmp_path: Path) -> None:
    import_paper(FIXTURES, tmp_path)
    with pytest.raises(DatasetError, match="already exists"):
        import_paper(FIXTURES, tmp_path)
    assert import_paper(FIXTURES, tmp_path, overwrite=True).rows == 34


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a folder"):
        import_paper(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no statements found"):
        import_paper(tmp_path / "empty", tmp_path / "out")
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURES, broken)
    text = (broken / "defs_synthetic.csv").read_text().replace("in_cal", "in_calibration", 1)
    (broken / "defs_synthetic.csv").write_text(text)
    with pytest.raises(DatasetError, match=r"defs_synthetic.csv: missing columns \['in_cal'\]"):
        import_paper(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
