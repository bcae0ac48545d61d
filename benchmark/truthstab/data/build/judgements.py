"""The hand-checked sample of a release: which statements, the judgements, and the error table.

A seeded sample of ``PER_CELL`` statements per domain and kind is judged by hand (is its label right:
the truth of a real statement, an invented name that is really invented, the in-fiction truth of a
fictional one) and committed as a CSV beside the fiction tables. The build checks that the CSV judges
exactly this build's sample, ships it in the release as ``JUDGEMENTS.csv`` and computes the card's
error table from it, so the table can only describe the rows it ships with.
"""

from __future__ import annotations

import csv
import io
import math
import random
from pathlib import Path

import pandas as pd

from truthstab.data.release import DOMAIN_ORDER, KIND_ORDER
from truthstab.errors import DatasetError

PER_CELL = 10
COLUMNS = ("id", "domain", "kind", "split", "statement", "label", "verdict", "note")
VERDICTS = ("correct", "wrong")
RELEASE_FILE = "JUDGEMENTS.csv"


def label_of(row) -> str:
    """What the release says about a statement, in words a judge can check."""
    if row["kind"] == "synthetic":
        return "neither (invented names)"
    if row["kind"] == "fictional":
        return f"neither (in its fiction: {row['fiction_truth']})"
    return row["truth"]


def sample(frame: pd.DataFrame, seed: int, per_cell: int = PER_CELL) -> pd.DataFrame:
    """``per_cell`` rows per domain and kind, drawn with ``seed`` from the rows sorted by id."""
    rng = random.Random(seed)
    picked = []
    for domain in DOMAIN_ORDER:
        for kind in KIND_ORDER:
            cell = frame[(frame["domain"] == domain) & (frame["kind"] == kind)].sort_values("id")
            if len(cell):
                picked += rng.sample(list(cell.index), min(per_cell, len(cell)))
    out = frame.loc[picked, ["id", "domain", "kind", "split", "statement"]].copy()
    out["label"] = [label_of(frame.loc[i]) for i in picked]
    return out.reset_index(drop=True)


def template_csv(picked: pd.DataFrame, judged: dict[str, tuple[str, str]] | None = None) -> str:
    """The sample as CSV, with the verdicts and notes already given in ``judged`` (id -> pair)."""
    judged = judged or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in picked.itertuples(index=False):
        verdict, note = judged.get(row.id, ("", ""))
        writer.writerow([row.id, row.domain, row.kind, row.split, row.statement, row.label, verdict, note])
    return buffer.getvalue()


def read(path: Path) -> list[dict[str, str]]:
    """The judged rows of ``path``; a missing file or an empty or unknown verdict is a DatasetError."""
    if not path.is_file():
        raise DatasetError(
            f"hand-checked sample {path} not found: write it with scripts/judgement_sample.py and judge it"
        )
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows, start=2):
        if row.get("verdict") not in VERDICTS:
            raise DatasetError(
                f"{path.name} line {number}: verdict {row.get('verdict')!r}, not one of {VERDICTS}"
            )
    return rows


def check_matches(rows: list[dict[str, str]], picked: pd.DataFrame, path: Path) -> None:
    """The judged statements must be this build's sample, with the labels this build gives them."""
    want = {(r.id, r.statement, r.label) for r in picked.itertuples(index=False)}
    have = {(r["id"], r["statement"], r["label"]) for r in rows}
    if want != have:
        raise DatasetError(
            f"{path.name} judges {len(have - want)} statements this build's sample lacks and misses "
            f"{len(want - have)}: the rows changed, so re-run scripts/judgement_sample.py and judge the new ones"
        )


def wilson_upper(wrong: int, n: int, z: float = 1.96) -> float:
    """Upper end of the 95 % Wilson interval of an error rate (informative even at 0 errors)."""
    if n == 0:
        return 1.0
    p = wrong / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def error_table(rows: list[dict[str, str]]) -> str:
    """Markdown: per domain and kind, statements judged, wrong labels, error rate and its 95 % upper bound."""
    lines = [
        "| domain | kind | judged | wrong | error rate | 95 % upper bound |",
        "|---|---|---|---|---|---|",
    ]
    cells: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        cells.setdefault((row["domain"], row["kind"]), []).append(row)
    total_n = total_wrong = 0
    for domain in DOMAIN_ORDER:
        for kind in KIND_ORDER:
            judged = cells.get((domain, kind), [])
            if not judged:
                continue
            wrong = sum(r["verdict"] == "wrong" for r in judged)
            total_n, total_wrong = total_n + len(judged), total_wrong + wrong
            lines.append(
                f"| {domain} | {kind} | {len(judged)} | {wrong} | {wrong / len(judged):.0%} | "
                f"{wilson_upper(wrong, len(judged)):.0%} |"
            )
    lines.append(
        f"| all | all | {total_n} | {total_wrong} | {total_wrong / max(total_n, 1):.1%} | "
        f"{wilson_upper(total_wrong, total_n):.1%} |"
    )
    return "\n".join(lines) + "\n"
