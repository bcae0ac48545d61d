"""Import the paper's published CSV files (docs/method.md §11) as release ``paper-2511.19166``.

Input files, per domain prefix D in {cities_loc, med_indications, defs}: ``D_true_false.csv``,
``D_synthetic.csv``, ``D_fictional.csv`` and ``D_noise_10.csv``, with the columns of ``PAPER_COLUMNS``
in any order. Mapping to our schema:

- domain from the file prefix; relation from ``category``; subject/object from ``object_1``/``object_2``;
  ``correct_objects`` from ``correct_object_2`` (a list literal such as ``['a', 'b']`` or one value);
  ``negated`` from ``negation``;
- kind from the flags: ``fictional_object=1`` wins over ``fake_object=1`` (which the data also sets on some
  fictional rows), then ``fake_object=1`` -> synthetic, then ``real_object=1`` -> true/false by ``correct``;
  ``fiction_truth`` of a fictional row from ``correct``;
- split from exactly one of ``in_train``/``in_cal``/``in_test``.

Noise files are counted and left out (noise is generated at activation level). Every row that cannot
be mapped (no split, several splits, no kind flag, contradictory flags, a kind that does not belong in
its file, a non 0/1 flag, an unknown category, an empty statement, a duplicate) is listed in the report
with its file and line (line 1 is the header), never silently dropped. The report is written into the
release as IMPORT_REPORT.json (checksummed in the manifest).
"""

from __future__ import annotations

import ast
import csv
import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from truthstab.data.release import CardInfo, Source, release_dirname, write_release
from truthstab.data.schema import Kind, Statement, statement_id
from truthstab.errors import DatasetError
from truthstab.fileio import sha256_file

PAPER_NAME = "paper-2511.19166"
PAPER_VERSION = "1.0.0"
REPORT_NAME = "IMPORT_REPORT.json"
PAPER_REPO = "https://github.com/samanthadies/representational_stability"

PAPER_COLUMNS = (
    "statement", "object_1", "object_2", "correct_object_2", "correct", "negation", "real_object",
    "fake_object", "fictional_object", "category", "in_train", "in_test", "in_cal",
)  # fmt: skip
FLAG_COLUMNS = (
    "correct",
    "negation",
    "real_object",
    "fake_object",
    "fictional_object",
    "in_train",
    "in_test",
    "in_cal",
)
DOMAIN_PREFIXES = {"cities_loc": "cities", "med_indications": "medicine", "defs": "definitions"}
#: File suffix -> the kinds its rows may have (None: noise placeholders, left out).
FILE_KINDS: dict[str, frozenset[str] | None] = {
    "true_false": frozenset({"true", "false"}),
    "synthetic": frozenset({"synthetic"}),
    "fictional": frozenset({"fictional"}),
    "noise_10": None,
}
CATEGORY_RELATION = {
    "cities": "located_in",
    "indications": "indicated_for",
    "instances": "instance_of",
    "types": "type_of",
    "synonyms": "synonym_of",
}
SPLIT_COLUMNS = {"in_train": "train", "in_cal": "calibration", "in_test": "test"}


class ImportProblem(BaseModel):
    """A row left out of the release, and why."""

    file: str
    line: int
    reason: str


class ImportedFile(BaseModel):
    file: str
    rows_read: int
    rows_kept: int


class ImportReport(BaseModel):
    """What ``import_paper`` read, wrote and left out."""

    ref: str
    path: Path | None
    rows: int
    by_domain: dict[str, int]
    by_kind: dict[str, int]
    by_split: dict[str, int]
    noise_rows_skipped: int
    files: list[ImportedFile]
    missing_files: list[str]
    problems: list[ImportProblem]


class _RowError(Exception):
    """Why one CSV row cannot be mapped."""


def _flag(row: dict[str, str], column: str) -> int:
    value = (row.get(column) or "").strip()
    if value in ("0", "1", "0.0", "1.0"):
        return int(float(value))
    raise _RowError(f"column {column} is {value!r}, expected 0 or 1")


def _kind(flags: dict[str, int]) -> str:
    if flags["fictional_object"]:
        return Kind.FICTIONAL.value  # the data also sets fake_object on some fictional rows
    if flags["fake_object"] and flags["real_object"]:
        raise _RowError("contradictory flags: real_object=1 and fake_object=1")
    if flags["fake_object"]:
        return Kind.SYNTHETIC.value
    if flags["real_object"]:
        return Kind.TRUE.value if flags["correct"] else Kind.FALSE.value
    raise _RowError("no kind flag: none of real_object, fake_object, fictional_object is 1")


def _split(flags: dict[str, int]) -> str:
    chosen = [split for column, split in SPLIT_COLUMNS.items() if flags[column]]
    if not chosen:
        raise _RowError("no split: in_train, in_cal and in_test are all 0")
    if len(chosen) > 1:
        raise _RowError(f"several splits: {', '.join(chosen)}")
    return chosen[0]


def _objects(value: str) -> list[str]:
    """``correct_object_2`` to a list: a list literal, or one value, or nothing."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise _RowError(f"column correct_object_2 is not a valid list: {value!r}") from None
        return [str(v).strip() for v in parsed if str(v).strip()]
    return [value] if value else []


def _map_row(row: dict[str, str], domain: str, allowed: frozenset[str], source: str) -> Statement:
    """One CSV row to a Statement, or _RowError saying why not."""
    flags = {c: _flag(row, c) for c in FLAG_COLUMNS}
    category = (row.get("category") or "").strip()
    if category not in CATEGORY_RELATION:
        raise _RowError(f"column category is {category!r}, expected one of {sorted(CATEGORY_RELATION)}")
    relation = CATEGORY_RELATION[category]
    kind = _kind(flags)
    if kind not in allowed:
        raise _RowError(f"flags say kind {kind!r}, which does not belong in this file")
    text = (row.get("statement") or "").strip()
    if not text:
        raise _RowError("column statement is empty")
    truth = {"true": "true", "false": "false"}.get(kind, "neither")
    familiarity = {"synthetic": "unfamiliar", "fictional": "familiar"}.get(kind, "real")
    try:
        return Statement(
            id=statement_id(domain, relation, text),
            domain=domain,
            relation=relation,
            statement=text,
            subject=(row.get("object_1") or "").strip(),
            object=(row.get("object_2") or "").strip(),
            correct_objects=_objects(row.get("correct_object_2") or ""),
            negated=bool(flags["negation"]),
            kind=kind,
            truth=truth,
            fiction_truth=("true" if flags["correct"] else "false") if kind == "fictional" else "",
            familiarity=familiarity,
            split=_split(flags),
            source=source,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        err = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
        column = ".".join(str(p) for p in err["loc"]) or "(row)"
        raise _RowError(f"column {column}: {err['msg']}") from None


def _read_file(
    path: Path, domain: str, allowed: frozenset[str] | None, report: ImportReport, rows: dict
) -> None:
    """Map every row of one CSV file into ``rows`` (by id), recording problems in ``report``."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in PAPER_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(
                f"{path.name}: missing columns {missing}: is this one of the paper's CSV files?"
            )
        read = kept = 0
        for row in reader:
            read += 1
            if allowed is None:
                continue
            try:
                statement = _map_row(row, domain, allowed, f"{PAPER_NAME}:{path.name}")
            except _RowError as exc:
                report.problems.append(ImportProblem(file=path.name, line=reader.line_num, reason=str(exc)))
                continue
            if statement.id in rows:
                first = rows[statement.id][1]
                reason = f"duplicate of the statement at {first}"
                report.problems.append(ImportProblem(file=path.name, line=reader.line_num, reason=reason))
                continue
            rows[statement.id] = (statement, f"{path.name}:{reader.line_num}")
            kept += 1
    if allowed is None:
        report.noise_rows_skipped += read
    report.files.append(ImportedFile(file=path.name, rows_read=read, rows_kept=kept))


def _card(report: ImportReport) -> CardInfo:
    return CardInfo(
        pretty_name="Representational stability of truth: the paper's statements (arXiv 2511.19166)",
        license="mit",
        summary=(
            "The statements of Dies et al., 'Representational Stability of Truth in Large Language Models' "
            "(arXiv 2511.19166), converted to the truthstab schema with their published splits."
        ),
        sources=[Source(name="samanthadies/representational_stability", license="mit", url=PAPER_REPO)],
        generation=(
            "Imported by `truthstab datasets import-paper` (truthstab.data.paper_import) from the published "
            "CSV files; kind, truth and familiarity come from the real/fake/fictional flags (fictional wins), "
            "the split from in_train/in_cal/in_test. Noise placeholder rows are left out."
        ),
        limitations=(
            f"{len(report.problems)} rows could not be mapped and are left out; each is listed with its file "
            f"and line in {REPORT_NAME}. The definitions split follows the published in_* columns, which "
            "differ from the split the paper's probe code used (docs/method.md §12, defect 3)."
        ),
    )


def import_paper(
    src_dir: Path, out_root: Path, version: str = PAPER_VERSION, overwrite: bool = False
) -> ImportReport:
    """Convert the paper's CSV files in ``src_dir`` into release ``paper-2511.19166-<version>`` in ``out_root``."""
    src_dir = Path(src_dir)
    if not src_dir.is_dir():
        raise DatasetError(f"--from {src_dir} is not a folder: give the folder holding the paper's CSV files")
    report = ImportReport(
        ref=f"{PAPER_NAME}@{version}", path=None, rows=0, by_domain={}, by_kind={}, by_split={},
        noise_rows_skipped=0, files=[], missing_files=[], problems=[],
    )  # fmt: skip
    rows: dict[str, tuple[Statement, str]] = {}
    checksums = {}
    for prefix, domain in DOMAIN_PREFIXES.items():
        for suffix, allowed in FILE_KINDS.items():
            path = src_dir / f"{prefix}_{suffix}.csv"
            if not path.is_file():
                report.missing_files.append(path.name)
                continue
            checksums[path.name] = sha256_file(path)
            _read_file(path, domain, allowed, report, rows)
    if not rows:
        raise DatasetError(
            f"no statements found in {src_dir}: expected files like cities_loc_true_false.csv (docs/method.md §11)"
        )
    statements = [s for s, _ in rows.values()]
    report.rows = len(statements)
    for field, target in (("domain", report.by_domain), ("kind", report.by_kind), ("split", report.by_split)):
        target.update(sorted(Counter(getattr(s, field) for s in statements).items()))
    creation = {"importer": "truthstab.data.paper_import", "source": PAPER_REPO, "files_sha256": checksums}
    report.path = Path(out_root) / release_dirname(PAPER_NAME, version)
    extra = json.dumps(report.model_dump(mode="json", exclude={"path"}), indent=2, ensure_ascii=False) + "\n"
    write_release(
        statements, PAPER_NAME, version, Path(out_root), creation, _card(report),
        overwrite=overwrite, extra_files={REPORT_NAME: extra.encode("utf-8")},
    )  # fmt: skip
    return report
