"""Medicine domain: real (drug, indication) facts from the curated table ``medicine_indications.csv``.

The table lists, per drug, *all* its main approved indications (one row per drug x indication), so a
pairing with any other indication is false. Two guards make false pairings safer still: the false
indication must not be an indication of any drug of the same class (an ACE inhibitor is not paired
with a condition another ACE inhibitor treats), and it must share no specific word with the drug's
own indications ("hypertension" vs "pulmonary arterial hypertension").
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from truthstab.data.build.facts import Fact
from truthstab.data.schema import Relation
from truthstab.errors import DatasetError
from truthstab.fileio import sha256_file

SOURCES_DIR = Path(__file__).resolve().parent.parent / "sources"
TABLE = "medicine_indications.csv"
COLUMNS = ("drug", "indication", "drug_class", "label_basis")
SOURCE = "truthstab curated drug indications"
#: Words too general to tell two indications apart ("chronic kidney disease" vs "Crohn's disease").
GENERIC_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "in",
        "or",
        "with",
        "to",
        "for",
        "due",
        "by",
        "from",
        "on",
        "at",
        "as",
        "acute",
        "chronic",
        "disease",
        "diseases",
        "disorder",
        "disorders",
        "syndrome",
        "infection",
        "infections",
        "condition",
        "conditions",
        "severe",
        "mild",
        "moderate",
        "adult",
        "adults",
        "treatment",
        "prevention",
        "associated",
        "related",
        "type",
    ]
)


@dataclass(frozen=True)
class MedicineData:
    """The facts of the domain, its object pool, and what the synthetic filter must avoid."""

    facts: list[Fact]
    pool: dict[str, dict[str, frozenset[str]]]
    real_names: list[str]
    parameters: dict


def read_table(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a curated CSV table, stripped; a missing file or column is a DatasetError."""
    if not path.is_file():
        raise DatasetError(f"source table {path} not found: it ships with truthstab; reinstall the package")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"source table {path.name} lacks columns {missing}: it needs {list(columns)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            clean = {c: (row.get(c) or "").strip() for c in columns}
            empty = [c for c in columns if not clean[c] and c not in ("label_basis",)]
            if empty:
                raise DatasetError(f"{path.name} line {line}: empty {empty}; fill every column")
            rows.append(clean)
    return rows


def _words(text: str) -> set[str]:
    """The specific words of an indication (no generic words, numbers or two-letter tokens)."""
    words = text.casefold().replace("-", " ").replace(",", " ").replace("'s", "").split()
    return {w for w in words if w not in GENERIC_WORDS and len(w) > 2 and not w.isdigit()}


def load_medicine(sources_dir: Path = SOURCES_DIR) -> MedicineData:
    """Read the curated table and return the medicine domain's facts."""
    path = sources_dir / TABLE
    rows = read_table(path, COLUMNS)
    indications: dict[str, set[str]] = defaultdict(set)
    drug_class: dict[str, str] = {}
    for row in rows:
        indications[row["drug"]].add(row["indication"])
        drug_class.setdefault(row["drug"], row["drug_class"].casefold())
    classes_of_indication: dict[str, set[str]] = defaultdict(set)
    for drug, inds in indications.items():
        for ind in inds:
            classes_of_indication[ind].add(drug_class[drug])

    facts = []
    for drug in sorted(indications):
        correct = tuple(sorted(indications[drug]))
        words = set().union(*(_words(i) for i in correct))
        groups = frozenset({f"class:{drug_class[drug]}"} | {f"word:{w}" for w in words})
        facts.append(Fact(Relation.INDICATED_FOR.value, drug, correct, correct, SOURCE, groups))
    pool = {
        Relation.INDICATED_FOR.value: {
            ind: frozenset(
                {f"class:{c}" for c in classes_of_indication[ind]} | {f"word:{w}" for w in _words(ind)}
            )
            for ind in sorted(classes_of_indication)
        }
    }
    real_names = sorted(set(indications) | set(classes_of_indication))
    parameters = {
        "table": TABLE,
        "table_sha256": sha256_file(path),
        "drugs": len(indications),
        "indications": len(classes_of_indication),
        "drug_indication_rows": len(rows),
    }
    return MedicineData(facts, pool, real_names, parameters)
