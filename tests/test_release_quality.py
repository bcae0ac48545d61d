"""Quality of the committed release truthstab-1.0.0: each test checks one promise of the datasheet.

Set TRUTHSTAB_QUALITY_RELEASE to a release folder to run the same checks on another build.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from truthstab.data.build.facts import entity_key
from truthstab.data.build.pipeline import MINIMUMS
from truthstab.data.build.synthetic import NoveltyChecker, real_places
from truthstab.data.build.templates import glitches, render
from truthstab.data.registry import load_frame

REPO = Path(__file__).resolve().parents[1]
RELEASE = Path(os.environ.get("TRUTHSTAB_QUALITY_RELEASE", REPO / "datasets" / "truthstab-1.0.0"))


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    if not (RELEASE / "MANIFEST.json").is_file():
        pytest.fail(f"release {RELEASE} is missing: build it with `truthstab datasets build --version 1.0.0`")
    return load_frame(str(RELEASE))


def _family(kind: str) -> str:
    return {"true": "real", "false": "real"}.get(kind, kind)


def test_each_domain_has_the_promised_sizes(frame: pd.DataFrame) -> None:
    counts = Counter(zip(frame["domain"], frame["kind"].map(_family), strict=True))
    for domain in ("cities", "medicine", "definitions"):
        for family, least in MINIMUMS.items():
            assert counts[(domain, family)] >= least, (domain, family, counts[(domain, family)])


@pytest.mark.parametrize("family", ["real", "synthetic"])
def test_splits_are_entity_exclusive(frame: pd.DataFrame, family: str) -> None:
    rows = frame[frame["kind"].map(_family) == family]
    for domain, group in rows.groupby("domain"):
        splits_of: dict[str, set[str]] = {}
        for subject, obj, split in zip(group["subject"], group["object"], group["split"], strict=True):
            for entity in (subject, obj):
                splits_of.setdefault(entity_key(entity), set()).add(split)
        shared = sorted(e for e, s in splits_of.items() if len(s) > 1)
        assert not shared, f"{domain}: entities in several splits: {shared[:10]}"


def test_affirmative_and_negated_forms_have_opposite_truth(frame: pd.DataFrame) -> None:
    value = frame["fiction_truth"].where(frame["kind"] == "fictional", frame["truth"])
    for key, group in frame.assign(value=value).groupby(["domain", "relation", "subject", "object"]):
        assert sorted(group["negated"]) == [False, True], key
        values = set(group["value"])
        if (group["kind"] == "synthetic").all():
            assert values == {"neither"}, key
        else:
            assert values == {"true", "false"}, key


def test_truth_follows_correct_objects_and_negation(frame: pd.DataFrame) -> None:
    """A pairing is true iff its object is a correct object, so no false pairing uses a correct object."""
    for row in frame.itertuples(index=False):
        pairing_true = row.object in row.correct_objects
        holds = pairing_true != row.negated
        if row.kind in ("true", "false"):
            assert row.truth == ("true" if holds else "false"), row.statement
            assert row.kind == row.truth
        elif row.kind == "fictional":
            assert row.fiction_truth == ("true" if holds else "false"), row.statement
        folded = {entity_key(o) for o in row.correct_objects}
        assert pairing_true == (entity_key(row.object) in folded), row.statement


def test_no_synthetic_entity_is_a_real_word_or_place(frame: pd.DataFrame) -> None:
    checker = NoveltyChecker(real_places())
    synthetic = frame[frame["kind"] == "synthetic"]
    names = sorted(set(synthetic["subject"]) | set(synthetic["object"]))
    assert len(names) > 300
    bad = [(n, r) for n in names if (r := checker.reason(n.casefold(), {}))]
    assert not bad, bad[:10]


def test_no_template_glitches(frame: pd.DataFrame) -> None:
    bad = [(s, g) for s in frame["statement"] if (g := glitches(s))]
    assert not bad, bad[:10]
    for row in frame.itertuples(index=False):
        assert row.statement == render(row.relation, row.subject, row.object, row.negated)


def test_no_duplicate_statements(frame: pd.DataFrame) -> None:
    assert frame["id"].is_unique
    assert not frame.duplicated(["domain", "statement"]).any()
    assert not frame["statement"].str.casefold().duplicated().any()


def test_true_and_false_are_balanced_in_every_split(frame: pd.DataFrame) -> None:
    real = frame[frame["kind"].isin(["true", "false"])]
    for (domain, split), group in real.groupby(["domain", "split"]):
        counts = Counter(group["kind"])
        assert counts["true"] == counts["false"] > 0, (domain, split, counts)
        polarity = Counter(group["negated"])
        assert polarity[True] == polarity[False], (domain, split, polarity)
    fiction = frame[frame["kind"] == "fictional"]
    for (domain, split), group in fiction.groupby(["domain", "split"]):
        counts = Counter(group["fiction_truth"])
        assert abs(counts["true"] - counts["false"]) <= 1, (domain, split, counts)


def test_splits_are_near_50_25_25(frame: pd.DataFrame) -> None:
    for (domain, family), group in frame.groupby(["domain", frame["kind"].map(_family)]):
        shares = group["split"].value_counts(normalize=True)
        assert abs(shares["train"] - 0.5) < 0.05, (domain, family, dict(shares))
        for split in ("calibration", "test"):
            assert abs(shares[split] - 0.25) < 0.05, (domain, family, dict(shares))
