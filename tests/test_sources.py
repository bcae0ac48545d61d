"""Validation of the curated source tables in benchmark/truthstab/data/sources/.

Each check is a small function that returns the problems it finds; the tests first show on a tiny bad
table that the check does find them (so it can fail), then run it on the committed table.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from importlib.resources import files

import pytest

SOURCES = files("truthstab.data") / "sources"

MEDICINE_HEADER = ["drug", "indication", "drug_class", "label_basis"]
FICTION_HEADER = ["subject", "object", "universe", "work", "medium"]
DEFINITIONS_HEADER = ["relation", "subject", "object", "universe", "work", "medium"]

LABEL_BASES = {
    "FDA label",
    "EMA SmPC",
    "UK SmPC",
    "EU national SmPC",
    "FDA label (fixed-dose combination)",
}
MEDIA = {"novel", "film", "tv", "game", "comic"}
RELATIONS = {"instance_of", "type_of", "synonym_of"}

Row = dict[str, str]


def read_table(name: str) -> tuple[list[str], list[Row]]:
    """Header and rows of one committed source table."""
    with (SOURCES / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


# --- checks: each returns a list of problems (empty when the table is fine) -----------------------


def cell_problems(rows: list[Row], header: list[str]) -> list[str]:
    """Empty cells, cells with stray whitespace or double spaces, text not in Unicode NFC."""
    problems = []
    for number, row in enumerate(rows, start=2):
        for column in header:
            value = row.get(column)
            if value is None or value == "":
                problems.append(f"line {number}: empty {column}")
            elif value != value.strip() or "  " in value:
                problems.append(f"line {number}: whitespace in {column}: {value!r}")
            elif unicodedata.normalize("NFC", value) != value:
                problems.append(f"line {number}: {column} not NFC: {value!r}")
    return problems


def duplicate_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    """Rows that occur more than once."""
    seen: set[tuple[str, ...]] = set()
    duplicates = []
    for row in rows:
        key = tuple(row.values())
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    return duplicates


def spelling_key(text: str) -> str:
    """What two spellings of one term share: case, hyphens, spaces, apostrophes and a plural s removed."""
    key = re.sub(r"[\s\-'’]", "", text.lower())
    return key[:-1] if key.endswith("s") else key


def near_duplicate_spellings(values: set[str]) -> list[set[str]]:
    """Groups of distinct spellings that differ only by case, a plural s, hyphen/space or apostrophe."""
    groups: dict[str, set[str]] = defaultdict(set)
    for value in values:
        groups[spelling_key(value)].add(value)
    return [group for group in groups.values() if len(group) > 1]


def thin_universes(rows: list[Row], min_objects: int, min_facts: int = 1) -> list[str]:
    """Universes (per relation, where there is one) too small to yield in-fiction false pairings."""
    objects: dict[tuple[str, str], set[str]] = defaultdict(set)
    facts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        key = (row["universe"], row.get("relation", ""))
        objects[key].add(row["object"])
        facts[key] += 1
    return [
        f"{universe} {relation}".strip() + f": {facts[key]} facts, {len(objects[key])} objects"
        for key in objects
        for universe, relation in [key]
        if len(objects[key]) < min_objects or facts[key] < min_facts
    ]


def subjects_with_several(rows: list[Row], column: str) -> dict[str, set[str]]:
    """Subjects that appear with more than one distinct value of ``column``."""
    values: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        values[row["subject"]].add(row[column])
    return {subject: found for subject, found in values.items() if len(found) > 1}


def unknown_values(rows: list[Row], column: str, allowed: set[str]) -> set[str]:
    """Values of ``column`` outside the allowed set."""
    return {row[column] for row in rows} - allowed


def drugs_with_several_classes(rows: list[Row]) -> dict[str, set[str]]:
    """Drugs whose rows disagree on the drug class."""
    classes: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        classes[row["drug"]].add(row["drug_class"])
    return {drug: found for drug, found in classes.items() if len(found) > 1}


def articled_objects(rows: list[Row]) -> list[str]:
    """instance_of/type_of objects written with an article (the generator adds "a"/"an" itself)."""
    return [
        row["object"]
        for row in rows
        if row["relation"] in {"instance_of", "type_of"}
        and re.match(r"(a|an|the) ", row["object"], flags=re.IGNORECASE)
    ]


# --- the checks can fail ------------------------------------------------------------------------


def test_checks_detect_bad_tables() -> None:
    header = ["subject", "object", "universe"]
    bad = [
        {"subject": "X", "object": "", "universe": "U"},
        {"subject": "Y ", "object": "b", "universe": "U"},
        {"subject": "Z", "object": "a  b", "universe": "U"},
        {"subject": "Me\u0301niere", "object": "c", "universe": "U"},
    ]
    assert len(cell_problems(bad, header)) == 4
    assert duplicate_rows([{"a": "1"}, {"a": "1"}, {"a": "2"}]) == [("1",)]
    groups = near_duplicate_spellings(
        {"Heart failure", "heart failure", "urinary tract infection", "urinary tract infections"}
    )
    assert sorted(map(sorted, groups)) == [
        ["Heart failure", "heart failure"],
        ["urinary tract infection", "urinary tract infections"],
    ]
    assert near_duplicate_spellings({"non-small cell lung cancer", "non small-cell lung cancer"})
    assert not near_duplicate_spellings({"hypertension", "pulmonary arterial hypertension"})
    two_objects = [
        {"universe": "U", "object": "a"},
        {"universe": "U", "object": "b"},
        {"universe": "V", "object": "a"},
        {"universe": "V", "object": "b"},
        {"universe": "V", "object": "c"},
    ]
    assert thin_universes(two_objects, min_objects=3) == ["U: 2 facts, 2 objects"]
    assert thin_universes(two_objects, min_objects=3, min_facts=4) == [
        "U: 2 facts, 2 objects",
        "V: 3 facts, 3 objects",
    ]
    assert subjects_with_several(
        [{"subject": "Bree", "object": "Eriador"}, {"subject": "Bree", "object": "Arnor"}], "object"
    ) == {"Bree": {"Eriador", "Arnor"}}
    assert unknown_values([{"relation": "is_a"}], "relation", RELATIONS) == {"is_a"}
    assert drugs_with_several_classes(
        [{"drug": "d", "drug_class": "statin"}, {"drug": "d", "drug_class": "fibrate"}]
    ) == {"d": {"statin", "fibrate"}}
    assert articled_objects([{"relation": "instance_of", "object": "a horse"}]) == ["a horse"]


# --- the committed tables -----------------------------------------------------------------------


#: The fiction tables of release 1.0.0 (top level) and of 2.0.0 (corrected credits, more medicine);
#: release 2.1.0 has a medicine table of its own (more facts) and reads the others from 2.0.0/.
FICTION_FOLDERS = ["", "2.0.0/"]
MEDICINE_FOLDERS = [*FICTION_FOLDERS, "2.1.0/"]


@pytest.mark.parametrize(
    ("name", "expected_header"),
    [
        ("medicine_indications.csv", MEDICINE_HEADER),
        *((f"{folder}fictional_cities.csv", FICTION_HEADER) for folder in FICTION_FOLDERS),
        *((f"{folder}fictional_medicine.csv", FICTION_HEADER) for folder in MEDICINE_FOLDERS),
        *((f"{folder}fictional_definitions.csv", DEFINITIONS_HEADER) for folder in FICTION_FOLDERS),
    ],
)
def test_table_shape(name: str, expected_header: list[str]) -> None:
    header, rows = read_table(name)
    assert header == expected_header
    assert cell_problems(rows, header) == []
    assert duplicate_rows(rows) == []


def test_medicine_indications() -> None:
    _, rows = read_table("medicine_indications.csv")
    drugs = {row["drug"] for row in rows}
    indications = {row["indication"] for row in rows}
    assert len(drugs) >= 200, f"only {len(drugs)} drugs"
    assert len(indications) >= 120, f"only {len(indications)} distinct indications"
    assert near_duplicate_spellings(indications) == []
    assert near_duplicate_spellings(drugs) == []
    assert unknown_values(rows, "label_basis", LABEL_BASES) == set()
    assert drugs_with_several_classes(rows) == {}
    # Generic names as used in running text: lower-case first letter ("amphotericin B" is allowed).
    assert [drug for drug in drugs if not drug[0].islower()] == []
    # Indications shared by several drugs make most false pairings plausible-looking, not random.
    per_indication: dict[str, int] = defaultdict(int)
    for row in rows:
        per_indication[row["indication"]] += 1
    assert sum(count >= 2 for count in per_indication.values()) >= 100


@pytest.mark.parametrize("folder", FICTION_FOLDERS)
def test_fictional_cities(folder: str) -> None:
    _, rows = read_table(f"{folder}fictional_cities.csv")
    assert len(rows) >= 130
    assert thin_universes(rows, min_objects=3, min_facts=4) == []
    assert subjects_with_several(rows, "object") == {}
    assert subjects_with_several(rows, "universe") == {}
    assert unknown_values(rows, "medium", MEDIA) == set()


@pytest.mark.parametrize("folder", MEDICINE_FOLDERS)
def test_fictional_medicine(folder: str) -> None:
    _, rows = read_table(f"{folder}fictional_medicine.csv")
    assert len(rows) >= 110
    assert thin_universes(rows, min_objects=3) == []
    assert subjects_with_several(rows, "universe") == {}
    assert unknown_values(rows, "medium", MEDIA) == set()
    by_universe: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_universe[row["universe"]].add(row["object"])
    assert {u: g for u, objects in by_universe.items() if (g := near_duplicate_spellings(objects))} == {}
    _, real = read_table("medicine_indications.csv")
    real_drugs = {row["drug"].lower() for row in real}
    assert {row["subject"] for row in rows if row["subject"].lower() in real_drugs} == set()


@pytest.mark.parametrize("folder", FICTION_FOLDERS)
def test_fictional_definitions(folder: str) -> None:
    _, rows = read_table(f"{folder}fictional_definitions.csv")
    assert len(rows) >= 130
    assert unknown_values(rows, "relation", RELATIONS) == set()
    assert thin_universes(rows, min_objects=3) == []
    assert articled_objects(rows) == []
    assert unknown_values(rows, "medium", MEDIA) == set()
    assert subjects_with_several(rows, "universe") == {}
    for relation in RELATIONS:
        assert any(row["relation"] == relation for row in rows), f"no {relation} facts"


def test_2_0_0_tables_change_only_credits_and_add_medicine_facts() -> None:
    """The 2.0.0 fiction tables keep every 1.0.0 fact (subject, object, universe); they correct the
    credits the issue names and add medicine facts, nothing else."""
    fact = lambda r: (r.get("relation", ""), r["subject"], r["object"], r["universe"])  # noqa: E731
    for table in ("fictional_cities.csv", "fictional_definitions.csv", "fictional_medicine.csv"):
        old, new = read_table(table)[1], read_table(f"2.0.0/{table}")[1]
        assert {fact(r) for r in old} <= {fact(r) for r in new}, table
        if table != "fictional_medicine.csv":
            assert len(old) == len(new), table
        credits = {fact(r): r["work"] for r in new}
        changed = sorted(r["subject"] for r in old if credits[fact(r)] != r["work"])
        assert (
            changed
            == {
                "fictional_cities.csv": ["Tuanul"],
                "fictional_definitions.csv": ["BB-8", "Donkey Kong", "No-Maj"],
                "fictional_medicine.csv": ["Addictol", "Fixer"],
            }[table]
        )


def test_2_1_0_medicine_table_adds_facts_to_2_0_0s() -> None:
    """2.1.0's medicine fiction keeps every 2.0.0 row as it was and adds enough facts for 1.0.0's size
    (four statements per fact: 157 facts for 628 statements)."""
    old, new = read_table("2.0.0/fictional_medicine.csv")[1], read_table("2.1.0/fictional_medicine.csv")[1]
    assert new[: len(old)] == old
    assert len(new) >= 157 and len(new) - len(old) == 31
