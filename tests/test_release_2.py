"""Releases truthstab-2.0.0 and 2.1.0 (issue 11): what their datasheets promise, checked on the
committed files of both (2.1.0 is 2.0.0 with more medicine fiction; both stay verifiable).

The audit passes on both and fails on 1.0.0; fictional works and subjects never cross splits;
polarity is balanced within in-fiction truth; relation, category and polarity shares agree across
splits; the hand-checked sample is the build's; the name filter rejects the issue's examples; a
failed audit stops the build in one line; and (slow) the build reproduces the release bit for bit.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from release_helpers import clean_rows, skip_unless_rebuildable
from truthstab.cli import main
from truthstab.data.audit import AuditReport, audit_release, audit_summary
from truthstab.data.build import judgements
from truthstab.data.build.pipeline import DEFAULT_SEED, stage_seed
from truthstab.data.build.pipeline2 import audited
from truthstab.data.build.recipes import SIZES_1_0_0, SIZES_2_0_0, SIZES_2_1_0, recipe_for
from truthstab.data.registry import get_release, load_frame
from truthstab.errors import DatasetError
from truthstab.fileio import sha256_file

REPO = Path(__file__).resolve().parents[1]
VERSIONS = ("2.0.0", "2.1.0")
SIZES = {"2.0.0": SIZES_2_0_0, "2.1.0": SIZES_2_1_0}


@pytest.fixture(scope="module", params=VERSIONS)
def version_(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def release_dir(version_: str) -> Path:
    return REPO / "datasets" / f"truthstab-{version_}"


@pytest.fixture(scope="module")
def frame(version_: str) -> pd.DataFrame:
    return load_frame(f"truthstab@{version_}")


@pytest.fixture(scope="module")
def report(version_: str) -> AuditReport:
    return audit_release(f"truthstab@{version_}")


def _manifest(release_dir: Path) -> dict:
    return json.loads((release_dir / "MANIFEST.json").read_text(encoding="utf-8"))


def test_2_1_0_is_the_default_release() -> None:
    assert get_release("truthstab").version == "2.1.0"
    assert get_release("truthstab@1.0.0").sha256.startswith("815907fb90ea0f82")


def test_2_1_0_is_2_0_0_with_more_medicine_fiction() -> None:
    old, new = load_frame("truthstab@2.0.0"), load_frame("truthstab@2.1.0")
    changed = (old["domain"] == "medicine") & (old["kind"] == "fictional")
    same_old = old[~changed].sort_values("id").reset_index(drop=True)
    same_new = new[~((new["domain"] == "medicine") & (new["kind"] == "fictional"))]
    same_new = same_new.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(same_old, same_new)
    fiction = new[(new["domain"] == "medicine") & (new["kind"] == "fictional")]
    assert len(fiction) >= SIZES_1_0_0["medicine"]["fictional"] > int(changed.sum())
    facts = old[changed & (old["fiction_truth"] == "true") & ~old["negated"]]  # one per curated fact
    assert set(facts["id"]) < set(fiction["id"])  # every 2.0.0 fact is kept (false pairings are redrawn)


@pytest.mark.parametrize("version_", VERSIONS)
def test_cli_audit_passes_2_x_and_fails_1_0_0(version_: str) -> None:
    runner = CliRunner()
    passed = runner.invoke(main, ["datasets", "audit", f"truthstab@{version_}"])
    assert passed.exit_code == 0, passed.output
    assert "verdict: PASS, all 81 checks" in passed.output
    failed = runner.invoke(main, ["datasets", "audit", "truthstab@1.0.0"])
    assert failed.exit_code == 1
    assert "verdict: FAIL, 25 of 81 checks" in failed.output


def test_manifest_records_the_audit_that_the_command_measures(report: AuditReport, release_dir: Path) -> None:
    assert report.passed
    assert _manifest(release_dir)["creation"]["audit"] == audit_summary(report)
    card = (release_dir / "README.md").read_text(encoding="utf-8")
    assert "`truthstab datasets audit` on these rows: **PASS**, 81 of 81 checks passed" in card


def test_sizes_at_least_the_recipe_minimums(frame: pd.DataFrame, version_: str) -> None:
    counts = Counter(zip(frame["domain"], frame["kind"], strict=True))
    assert recipe_for(version_).minimums == SIZES[version_]
    for domain, kinds in SIZES[version_].items():
        for kind, least in kinds.items():
            assert counts[(domain, kind)] >= least, (domain, kind)


def test_fictional_works_and_subjects_never_cross_splits(frame: pd.DataFrame) -> None:
    fiction = frame[frame["kind"] == "fictional"]
    for column in ("source", "subject"):
        splits = fiction.groupby(["domain", column])["split"].nunique()
        assert (splits == 1).all(), splits[splits > 1].head()


def test_polarity_is_balanced_within_in_fiction_truth(frame: pd.DataFrame) -> None:
    fiction = frame[frame["kind"] == "fictional"]
    for key, group in fiction.groupby(["domain", "split", "fiction_truth"]):
        polarity = Counter(group["negated"])
        assert polarity[True] == polarity[False] > 0, (key, polarity)


def test_real_and_synthetic_polarity_is_the_same_in_every_split(frame: pd.DataFrame) -> None:
    for (domain, kind), group in frame[frame["kind"] != "fictional"].groupby(["domain", "kind"]):
        shares = group.groupby("split")["negated"].mean()
        assert shares.max() - shares.min() <= 0.01, (domain, kind, dict(shares))


def test_splits_are_stratified(report: AuditReport) -> None:
    gaps = [g for d in report.domains for g in d.share_gaps]
    assert {g.dimension for g in gaps} == {"relation", "polarity", "category", "fiction_truth"}
    assert max(g.gap for g in gaps) <= 0.05
    assert min(c.rows for d in report.domains for c in d.calibration_cells) >= 30


def test_judgements_are_the_builds_sample_and_the_cards_table(
    frame: pd.DataFrame, version_: str, release_dir: Path
) -> None:
    shipped = release_dir / judgements.RELEASE_FILE
    source = recipe_for(version_).judgements_path
    assert shipped.read_bytes() == source.read_bytes()
    rows = judgements.read(shipped)
    picked = judgements.sample(frame, stage_seed(DEFAULT_SEED, "judgements"))
    judgements.check_matches(rows, picked, shipped)  # raises if the sample changed
    assert Counter((r["domain"], r["kind"]) for r in rows) == Counter(
        {k: 10 for k in set(zip(picked.domain, picked.kind, strict=True))}
    )
    assert judgements.error_table(rows) in (release_dir / "README.md").read_text(encoding="utf-8")


def test_failed_audit_stops_the_build_in_one_line() -> None:
    rows = pd.DataFrame([r.model_dump(mode="json") for r in clean_rows()])
    fiction = rows.index[(rows["kind"] == "fictional") & (rows["split"] == "test")][0]
    leaked = rows[(rows["kind"] == "fictional") & (rows["split"] == "train")].iloc[0]
    rows.loc[fiction, "subject"] = leaked["subject"]
    with pytest.raises(DatasetError) as info:
        audited(rows, "cleanset", "0.0.1")
    message = str(info.value)
    assert "\n" not in message and "fails the audit on 1 of" in message and "nothing was written" in message
    assert "subject-leak" in message


def test_disputed_cities_are_kept_as_the_card_says(frame: pd.DataFrame, release_dir: Path) -> None:
    card = (release_dir / "README.md").read_text(encoding="utf-8")
    assert "**are kept**" in card
    true = frame[(frame["kind"] == "true") & ~frame["negated"]]
    where = dict(zip(true["subject"], true["object"], strict=True))
    kept = {"Simferopol": "Ukraine", "Sevastopol": "Ukraine", "Kerch": "Ukraine", "Luhansk": "Ukraine"}
    kept |= {"Horlivka": "Ukraine", "Mariupol": "Ukraine", "Melitopol": "Ukraine", "Tiraspol": "Moldova"}
    kept |= {"Bender": "Moldova", "Srinagar": "India"}
    assert {city: where.get(city) for city in kept} == kept
    assert all(city in card for city in kept)


def test_card_states_the_medicine_rule_and_the_licences(release_dir: Path) -> None:
    card = (release_dir / "README.md").read_text(encoding="utf-8")
    assert (
        "approved for the\n  drug by the US FDA, the EU (EMA or a member state's SmPC) or the UK MHRA" in card
    )
    assert "hepatocellular carcinoma" in card and "WordNet 3.0 Copyright 2006 by Princeton University" in card
    assert "contains data from GeoNames" in card and "CC BY 4.0" in card


@pytest.mark.slow
def test_build_reproduces_the_committed_release(tmp_path: Path, version_: str, release_dir: Path) -> None:
    manifest = _manifest(release_dir)
    skip_unless_rebuildable(manifest)
    result = CliRunner().invoke(
        main,
        ["datasets", "build", "--version", version_, "--out", str(tmp_path)],
        env={"TRUTHSTAB_CACHE": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    built = tmp_path / f"truthstab-{version_}"
    for entry in manifest["files"]:
        assert sha256_file(built / entry["path"]) == entry["sha256"], entry["path"]
    for name in ("README.md", "MANIFEST.json", judgements.RELEASE_FILE):
        assert (built / name).read_bytes() == (release_dir / name).read_bytes(), name


def test_hand_checked_file_has_a_verdict_and_a_note_for_every_statement(release_dir: Path) -> None:
    with (release_dir / judgements.RELEASE_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 120 and all(r["verdict"] in judgements.VERDICTS and r["note"] for r in rows)


def test_definitions_rest_on_dominant_senses(frame: pd.DataFrame, release_dir: Path) -> None:
    # WordNet's first sense of Alexandria is a town in Louisiana, tied at 0 SemCor counts with the
    # Egyptian port: an ambiguous subject, left out (1.0.0 stated "Alexandria is a town.").
    assert not (frame["subject"] == "Alexandria").any()
    assert _manifest(release_dir)["creation"]["domains"]["definitions"]["dominant_sense_only"] is True
