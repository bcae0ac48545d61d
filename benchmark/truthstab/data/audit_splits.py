"""What the splits share and how they differ: subject and pairing leakage, per-split distributions,
and the size of the calibration cells.

Leakage is measured per kind against the train rows of the same *family* (true and false statements are
one family: they are built from the same pairings), so "opposite label" can see a pairing that is true
in train and false in test. Entities are compared by ``entity_key`` (case and spacing ignored), as the
builder does.
"""

from __future__ import annotations

from itertools import combinations

import pandas as pd
from pydantic import BaseModel, ConfigDict

from truthstab.data.audit_categories import category
from truthstab.data.audit_cues import rounded
from truthstab.data.build.facts import entity_key
from truthstab.data.release import KIND_ORDER, SPLIT_ORDER

_FAMILY = {"true": "real", "false": "real", "synthetic": "synthetic", "fictional": "fictional"}


class Leakage(BaseModel):
    """Shares of one kind's held-out subjects and pairings that train (or calibration) already holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    test_subjects: int
    test_subjects_in_train: float | None
    calibration_subjects_in_train: float | None
    test_subjects_in_calibration: float | None
    #: The largest of the three subject overlaps: what the leak check reads.
    subjects_shared: float | None
    test_pairs_in_train: float | None  # distinct (subject, object) pairings
    test_rows_opposite_polarity_in_train: float | None  # the pairing is in train, negated the other way
    test_rows_opposite_label_in_train: float | None  # ... with the other truth (None: synthetic)


class ShareGap(BaseModel):
    """The largest difference, over values and pairs of splits, of one kind's share of a value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    dimension: str  # relation, polarity, category or fiction_truth
    gap: float
    value: str
    high_split: str
    high_share: float
    low_split: str
    low_share: float


class Cell(BaseModel):
    """The number of calibration statements of one kind and relation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    relation: str
    rows: int


def _share(part: set, whole: set) -> float | None:
    return rounded(len(part & whole) / len(part)) if part else None


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with entity keys ``s`` and ``o`` and the ``label`` a probe is asked about: the truth as
    written for real rows, the truth inside the story for fiction."""
    return df.assign(
        s=df["subject"].map(entity_key),
        o=df["object"].map(entity_key),
        label=df["fiction_truth"].where(df["kind"] == "fictional", df["truth"]),
    )


def _opposite(test: pd.DataFrame, train: pd.DataFrame, column: str) -> float | None:
    """Share of test rows whose pairing occurs in train with another value of ``column``."""
    if not len(test):
        return None
    seen = set(zip(train["s"], train["o"], train[column], strict=True))
    values = set(train[column]) | set(test[column])
    hits = [
        any((s, o, v) in seen for v in values if v != own)
        for s, o, own in zip(test["s"], test["o"], test[column], strict=True)
    ]
    return rounded(sum(hits) / len(hits))


def leakage(domain_rows: pd.DataFrame) -> list[Leakage]:
    """Per kind, the subject and pairing overlap of the held-out splits with train."""
    rows = _keyed(domain_rows)
    out = []
    for kind in KIND_ORDER:
        mine = rows[rows["kind"] == kind]
        family = rows[rows["kind"].map(_FAMILY) == _FAMILY[kind]]
        by_split = {s: mine[mine["split"] == s] for s in SPLIT_ORDER}
        train = family[family["split"] == "train"]
        calibration = family[family["split"] == "calibration"]
        subjects = {s: set(by_split[s]["s"]) for s in SPLIT_ORDER}
        test = by_split["test"]
        pairs = set(zip(test["s"], test["o"], strict=True))
        overlaps = {
            "test_subjects_in_train": _share(subjects["test"], set(train["s"])),
            "calibration_subjects_in_train": _share(subjects["calibration"], set(train["s"])),
            "test_subjects_in_calibration": _share(subjects["test"], set(calibration["s"])),
        }
        measured = [v for v in overlaps.values() if v is not None]
        out.append(
            Leakage(
                kind=kind,
                test_subjects=len(subjects["test"]),
                **overlaps,
                subjects_shared=max(measured) if measured else None,
                test_pairs_in_train=_share(pairs, set(zip(train["s"], train["o"], strict=True))),
                test_rows_opposite_polarity_in_train=_opposite(test, train, "negated"),
                test_rows_opposite_label_in_train=None
                if kind == "synthetic"
                else _opposite(test, train, "label"),
            )
        )
    return out


def _dimensions(kind: str) -> tuple[str, ...]:
    """What is compared across splits for a kind (why real rows alone get a category: see
    ``audit_categories``)."""
    if kind in ("true", "false"):
        return ("relation", "polarity", "category")
    if kind == "fictional":
        return ("relation", "polarity", "fiction_truth")
    return ("relation", "polarity")


def _gap(kind: str, dimension: str, values: pd.Series, splits: pd.Series) -> ShareGap | None:
    """The largest share difference of any value between any two splits (None: a split is empty)."""
    shares = pd.crosstab(values, splits, normalize="columns")
    if any(s not in shares.columns for s in SPLIT_ORDER):
        return None
    best: ShareGap | None = None
    for a, b in combinations(SPLIT_ORDER, 2):
        for value in sorted(shares.index):
            high, low = (a, b) if shares.at[value, a] >= shares.at[value, b] else (b, a)
            gap = rounded(shares.at[value, high] - shares.at[value, low])
            if best is None or gap > best.gap:  # ties: the first pair of splits, then value order
                best = ShareGap(
                    kind=kind,
                    dimension=dimension,
                    gap=gap,
                    value=str(value),
                    high_split=high,
                    high_share=rounded(shares.at[value, high]),
                    low_split=low,
                    low_share=rounded(shares.at[value, low]),
                )
    return best


def _column(rows: pd.DataFrame, dimension: str) -> pd.Series:
    """The value of ``dimension`` for each row."""
    if dimension == "polarity":
        return rows["negated"].map({True: "negated", False: "affirmative"})
    if dimension == "category":
        triples = zip(rows["domain"], rows["object"], rows["correct_objects"], strict=True)
        return pd.Series([category(*t) for t in triples], index=rows.index, dtype=object)
    return rows[dimension]  # relation, fiction_truth


def share_gaps(domain_rows: pd.DataFrame) -> list[ShareGap]:
    """Per kind and dimension, the largest difference between the splits' shares of one value."""
    out = []
    for kind in KIND_ORDER:
        mine = domain_rows[domain_rows["kind"] == kind]
        for dimension in _dimensions(kind) if len(mine) else ():
            gap = _gap(kind, dimension, _column(mine, dimension), mine["split"])
            if gap is not None:
                out.append(gap)
    return out


def calibration_cells(domain_rows: pd.DataFrame) -> list[Cell]:
    """Calibration rows per kind x relation, for every (kind, relation) that occurs in any split (so a
    cell that calibration lacks counts as 0)."""
    calibration = domain_rows[domain_rows["split"] == "calibration"]
    counts = calibration.groupby(["kind", "relation"]).size()
    present = set(zip(domain_rows["kind"], domain_rows["relation"], strict=True))
    cells = sorted(present, key=lambda kr: (KIND_ORDER.index(kr[0]), kr[1]))
    return [Cell(kind=k, relation=r, rows=int(counts.get((k, r), 0))) for k, r in cells]
