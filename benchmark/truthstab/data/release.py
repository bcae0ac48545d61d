"""Write a dataset release: JSON Lines data files, a Hugging Face dataset card and a sha256 manifest.

Layout of a release folder ``<name>-<version>/``::

    data/<domain>/<split>.jsonl   one row per line, columns in ``schema.COLUMNS`` order
    README.md                     dataset card: YAML front matter (one config per domain) + datasheet
    MANIFEST.json                 name, version, creation parameters, per-file sha256/size/row counts

Why JSON Lines: our own code writes every byte, so the same rows give the same bytes (and sha256) on
every machine and library version, which Parquet writers do not promise; it diffs in git, keeps
``correct_objects`` a real list, and the Hugging Face ``datasets`` json builder loads it offline.

Row order inside a file: by kind (``Kind`` enum order: true, false, synthetic, fictional), then by id.
Nothing in the written files depends on time, so writing the same rows twice gives identical bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from truthstab import __version__
from truthstab.data.schema import COLUMNS, Domain, Kind, Split, Statement
from truthstab.errors import DatasetError
from truthstab.fileio import replace_dir, sha256_bytes

#: Bumped when the manifest layout changes; readers refuse versions they do not know.
MANIFEST_FORMAT = 1
MANIFEST_NAME = "MANIFEST.json"
CARD_NAME = "README.md"
DATA_DIR = "data"
#: Fixed orders used for files, tables and sorting.
SPLIT_ORDER: tuple[str, ...] = tuple(s.value for s in Split)
KIND_ORDER: tuple[str, ...] = tuple(k.value for k in Kind)
DOMAIN_ORDER: tuple[str, ...] = tuple(d.value for d in Domain)

_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_MAX_NAME = 64
_EXTRA_RE = re.compile(r"^[A-Z][A-Z0-9_]*\.(json|md|txt|csv)$")


class Source(BaseModel):
    """Where some of a release's content comes from, and under which licence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    license: str = Field(min_length=1)
    url: str = ""
    version: str = ""
    notes: str = ""


class Section(BaseModel):
    """A section of the dataset card beyond the fixed ones (a heading and its markdown)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    body: str = ""


class CardInfo(BaseModel):
    """What the dataset card says beyond what the rows themselves show (passed in by the builder)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pretty_name: str = ""
    license: str = "cc-by-4.0"
    language: list[str] = ["en"]
    task_categories: list[str] = ["text-classification"]
    tags: list[str] = ["truthfulness", "probing", "interpretability"]
    summary: str = ""
    sources: list[Source] = []
    generation: str = ""
    limitations: str = ""
    #: Written after the limitations (release 2.0.0: audit, error rates, uses, maintenance, licence).
    sections: list[Section] = []
    citation: str = ""


def validate_name(name: str) -> str:
    """Return ``name`` if it is a safe release name (lower-case words joined by '.', '_' or '-')."""
    if not isinstance(name, str) or len(name) > _MAX_NAME or not _NAME_RE.match(name):
        raise DatasetError(
            f"invalid release name {name!r}: use lower-case letters and digits joined by '.', '_' or '-' "
            f"(at most {_MAX_NAME} characters), e.g. 'truthstab'"
        )
    return name


def validate_version(version: str) -> str:
    """Return ``version`` if it is a plain semantic version MAJOR.MINOR.PATCH."""
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        raise DatasetError(f"invalid release version {version!r}: use MAJOR.MINOR.PATCH, e.g. '1.0.0'")
    return version


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key of a semantic version (numeric, so 1.10.0 comes after 1.9.0)."""
    major, minor, patch = (int(p) for p in validate_version(version).split("."))
    return (major, minor, patch)


def release_dirname(name: str, version: str) -> str:
    """The folder name of a release: ``<name>-<version>``."""
    return f"{validate_name(name)}-{validate_version(version)}"


def data_file_path(domain: str, split: str) -> str:
    """The POSIX path, relative to the release folder, of one domain's split."""
    return f"{DATA_DIR}/{domain}/{split}.jsonl"


def row_line(row: Statement) -> str:
    """One row as its exact JSON Lines text (columns in ``COLUMNS`` order, newline included)."""
    data = row.model_dump(mode="json")
    return json.dumps({c: data[c] for c in COLUMNS}, ensure_ascii=False, separators=(",", ":")) + "\n"


def release_sha256(files: Iterable[Mapping[str, Any]]) -> str:
    """The release checksum: sha256 of the sorted lines ``"<path> <sha256>\\n"`` of its data files."""
    lines = sorted(f"{f['path']} {f['sha256']}\n" for f in files)
    return sha256_bytes("".join(lines).encode())


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays (as pandas hands them out) to plain Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def coerce_rows(rows: pd.DataFrame | Iterable[Statement]) -> list[Statement]:
    """Validate rows into ``Statement`` objects; a bad row raises DatasetError naming row and column."""
    if isinstance(rows, pd.DataFrame):
        missing = [c for c in COLUMNS if c not in rows.columns]
        if missing:
            raise DatasetError(f"rows lack columns {missing}: give every column of truthstab.data.schema")
        records: Iterable[Any] = (
            {c: _plain(v) for c, v in rec.items()} for rec in rows[list(COLUMNS)].to_dict("records")
        )
    else:
        records = rows
    out: list[Statement] = []
    for index, rec in enumerate(records):
        if isinstance(rec, Statement):
            out.append(rec)
            continue
        try:
            out.append(Statement.model_validate(rec))
        except ValidationError as exc:
            raise DatasetError(f"row {index}: {describe_validation_error(exc)}") from None
    return out


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as 'column X: message'."""
    err = exc.errors()[0]
    column = ".".join(str(p) for p in err["loc"]) or "(row)"
    return f"column {column}: {err['msg']} (fix the row so it follows truthstab.data.schema.Statement)"


def _group(rows: list[Statement]) -> dict[tuple[str, str], list[Statement]]:
    """Rows by (domain, split), each group sorted by (kind order, id); refuses duplicate ids."""
    seen: dict[str, Statement] = {}
    for row in rows:
        if row.id in seen:
            raise DatasetError(f"duplicate statement id {row.id} ({row.statement!r}): each statement once")
        seen[row.id] = row
    groups: dict[tuple[str, str], list[Statement]] = {}
    for row in rows:
        groups.setdefault((row.domain, row.split), []).append(row)
    kind_rank = {k: i for i, k in enumerate(KIND_ORDER)}
    for group in groups.values():
        group.sort(key=lambda r: (kind_rank[r.kind], r.id))
    domains = {d for d, _ in groups}
    for domain in sorted(domains):
        lacking = [s for s in SPLIT_ORDER if (domain, s) not in groups]
        if lacking:
            raise DatasetError(
                f"domain {domain!r} has no rows in split(s) {lacking}: every domain needs all three"
            )
    return groups


def _ordered_domains(domains: Iterable[str]) -> list[str]:
    return sorted(set(domains), key=DOMAIN_ORDER.index)


def _counts(rows: list[Statement], key: str, order: tuple[str, ...]) -> dict[str, int]:
    counter = Counter(getattr(r, key) for r in rows)
    return {k: counter[k] for k in order if counter[k]}


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M"


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated values in full: YAML anchors (&id001) confuse human readers of the card."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _front_matter(name: str, version: str, card: CardInfo, domains: list[str], n_rows: int) -> str:
    """The YAML front matter of the card: metadata, one config per domain, and explicit features."""
    features = [
        {"name": c, "list": "string"}
        if c == "correct_objects"
        else {"name": c, "dtype": "bool" if c == "negated" else "string"}
        for c in COLUMNS
    ]
    meta = {
        "pretty_name": card.pretty_name or f"{name} {version}",
        "license": card.license,
        "language": list(card.language),
        "task_categories": list(card.task_categories),
        "tags": list(card.tags),
        "size_categories": [_size_category(n_rows)],
        "configs": [
            {
                "config_name": d,
                "data_files": [{"split": s, "path": data_file_path(d, s)} for s in SPLIT_ORDER],
            }
            for d in domains
        ],
        # Explicit features: the json builder would otherwise infer types per file and could disagree
        # between splits (e.g. a split whose correct_objects lists are all empty).
        "dataset_info": [{"config_name": d, "features": features} for d in domains],
    }
    text = yaml.dump(
        meta, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
    )
    return f"---\n{text}---\n"


def _md_cell(value: Any) -> str:
    """A table cell: pipes escaped and line breaks folded, so free text cannot break the table."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    """A GitHub markdown table, written by hand so its bytes do not depend on a library version."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def counts_table(files: list[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Rows of the domain x kind x split counts table from manifest file entries (header, rows)."""
    header = ["domain", "kind", *SPLIT_ORDER, "total"]
    table: dict[tuple[str, str], dict[str, int]] = {}
    for f in files:
        for kind, n in f["by_kind"].items():
            table.setdefault((f["domain"], kind), {})[f["split"]] = n
    rows = []
    for (domain, kind), by_split in sorted(
        table.items(), key=lambda kv: (DOMAIN_ORDER.index(kv[0][0]), KIND_ORDER.index(kv[0][1]))
    ):
        cells = [by_split.get(s, 0) for s in SPLIT_ORDER]
        rows.append([domain, kind, *cells, sum(cells)])
    return header, rows


def _card_body(name: str, version: str, card: CardInfo, manifest: Mapping[str, Any]) -> str:
    """The datasheet below the front matter."""
    header, rows = counts_table(manifest["files"])
    sources = [[s.name, s.version or "-", s.license, s.url or "-", s.notes or "-"] for s in card.sources]
    first = manifest["domains"][0]
    parts = [
        f"# {card.pretty_name or f'{name} {version}'}\n",
        (card.summary.strip() or "Statements for probing the representational stability of truth.") + "\n",
        "## Loading\n",
        "```python\nimport datasets\n"
        f'ds = datasets.load_dataset("path/to/{name}-{version}", "{first}")  # train/calibration/test\n```\n',
        f"Or with truthstab: `truthstab datasets show {name}@{version}`.\n",
        "## Counts (domain x kind x split)\n",
        _md_table(header, rows),
        "## Columns\n",
        "Every file has the columns " + ", ".join(f"`{c}`" for c in COLUMNS) + " "
        "(see `truthstab.data.schema.Statement`). `kind` and `truth` describe the statement as written, "
        "negation included.\n",
        "## Sources and licences\n",
        _md_table(["source", "version", "licence", "url", "notes"], sources) if sources else "Not stated.\n",
        "## Generation procedure\n",
        (card.generation.strip() or "Not stated.") + "\n",
        "## Limitations\n",
        (card.limitations.strip() or "Not stated.") + "\n",
        *(
            part
            for section in card.sections
            for part in (f"## {section.title}\n", section.body.strip() + "\n")
        ),
        "## Integrity\n",
        f"Release sha256: `{manifest['sha256']}` (sha256 of the sorted lines `<path> <sha256>` of the data "
        "files; see MANIFEST.json). Check it with `truthstab datasets verify`.\n",
    ]
    if card.citation.strip():
        parts += ["## Citation\n", f"```\n{card.citation.strip()}\n```\n"]
    return "\n".join(parts)


def _json_plain(creation: dict) -> dict:
    """Creation parameters as plain JSON with sorted keys (deterministic bytes)."""
    try:
        return json.loads(json.dumps(creation, sort_keys=True, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise DatasetError(
            f"creation parameters are not plain JSON ({exc}): pass str/int/float/list/dict"
        ) from None


def _write_files(root: Path, groups: dict[tuple[str, str], list[Statement]]) -> list[dict[str, Any]]:
    """Write every data file under ``root``; return the manifest file entries."""
    entries = []
    for domain in _ordered_domains(d for d, _ in groups):
        for split in SPLIT_ORDER:
            rows = groups[(domain, split)]
            rel = data_file_path(domain, split)
            data = "".join(row_line(r) for r in rows).encode("utf-8")
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            entries.append(
                {
                    "path": rel,
                    "domain": domain,
                    "split": split,
                    "sha256": sha256_bytes(data),
                    "size": len(data),
                    "rows": len(rows),
                    "by_kind": _counts(rows, "kind", KIND_ORDER),
                    "by_split": _counts(rows, "split", SPLIT_ORDER),
                }
            )
    return entries


def build_manifest(
    name: str, version: str, creation: dict, card: CardInfo, files: list[dict[str, Any]]
) -> dict[str, Any]:
    """The MANIFEST.json content (without the card checksum, which is added once the card is written)."""
    domains = _ordered_domains(f["domain"] for f in files)
    by_kind: Counter[str] = Counter()
    by_split: Counter[str] = Counter()
    for f in files:
        by_kind.update(f["by_kind"])
        by_split.update(f["by_split"])
    return {
        "format": MANIFEST_FORMAT,
        "name": name,
        "version": version,
        "created_by": {"harness": "truthstab", "version": __version__},
        "creation": _json_plain(creation),
        "license": card.license,
        "sources": [s.model_dump() for s in card.sources],
        "domains": domains,
        "columns": list(COLUMNS),
        "rows": sum(f["rows"] for f in files),
        "by_kind": {k: by_kind[k] for k in KIND_ORDER if by_kind[k]},
        "by_split": {s: by_split[s] for s in SPLIT_ORDER if by_split[s]},
        "sha256": release_sha256(files),
        "files": files,
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON deterministically (2-space indent, UTF-8, trailing newline)."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_release(
    rows: pd.DataFrame | Iterable[Statement],
    name: str,
    version: str,
    out_dir: Path,
    creation: dict,
    card: CardInfo | None = None,
    *,
    overwrite: bool = False,
    extra_files: Mapping[str, bytes] | None = None,
) -> Path:
    """Write release ``<out_dir>/<name>-<version>/`` from statement rows and return its path.

    ``creation`` holds the parameters that made the rows (seeds, source versions); it is stored as given.
    Everything is written into a temporary sibling folder and renamed into place at the end, so a
    failure leaves no half-written release. Releases are immutable: an existing one is refused unless
    ``overwrite`` is set (for builders re-creating a release during development). ``extra_files``
    (name -> bytes) are written into the release root, e.g. an import report, and checksummed in the
    manifest under ``extras``.
    """
    dirname = release_dirname(name, version)
    card = card or CardInfo()
    extras = dict(sorted((extra_files or {}).items()))
    for extra in extras:
        if not _EXTRA_RE.match(extra) or extra in (CARD_NAME, MANIFEST_NAME):
            raise DatasetError(
                f"invalid extra file name {extra!r}: use a plain upper-case file name like NOTES.json"
            )
    statements = coerce_rows(rows)
    if not statements:
        raise DatasetError("no rows to write: a release needs at least one statement per domain and split")
    groups = _group(statements)
    out_dir = Path(out_dir)
    final = out_dir / dirname
    if final.exists() and not overwrite:
        raise DatasetError(f"release {final} already exists: releases are immutable, write a new version")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dirname}.", suffix=".tmp", dir=out_dir))
    try:
        files = _write_files(tmp, groups)
        manifest = build_manifest(name, version, creation, card, files)
        card_text = _front_matter(name, version, card, manifest["domains"], manifest["rows"])
        card_text += "\n" + _card_body(name, version, card, manifest)
        card_bytes = card_text.encode("utf-8")
        (tmp / CARD_NAME).write_bytes(card_bytes)
        manifest["card"] = {"path": CARD_NAME, "sha256": sha256_bytes(card_bytes), "size": len(card_bytes)}
        if extras:
            manifest["extras"] = []
            for extra, data in extras.items():
                (tmp / extra).write_bytes(data)
                manifest["extras"].append({"path": extra, "sha256": sha256_bytes(data), "size": len(data)})
        write_json(tmp / MANIFEST_NAME, manifest)
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700; a release is meant to be read by everyone
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
