"""Export a release to CSV, Parquet or JSON Lines files in a folder, atomically.

Layout of the export folder: ``<domain>/<split>.<ext>`` for every file of the release, plus
``EXPORT.json`` naming the release, its sha256 and the files written. In CSV, ``correct_objects`` is a
JSON list in one cell (CSV has no list type); Parquet keeps it a list column.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from truthstab.data.registry import Release, get_release, load_frame
from truthstab.data.release import row_line
from truthstab.data.schema import Statement
from truthstab.errors import DatasetError
from truthstab.fileio import replace_dir, sha256_file

FORMATS = ("csv", "parquet", "jsonl")


class ExportedFile(BaseModel):
    path: str
    rows: int
    sha256: str


class ExportReport(BaseModel):
    """What ``export_release`` wrote."""

    ref: str
    release_sha256: str
    format: str
    out: Path
    files: list[ExportedFile]


def _write_one(frame: pd.DataFrame, fmt: str, path: Path) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "csv":
        out = frame.copy()
        out["correct_objects"] = [json.dumps(v, ensure_ascii=False) for v in out["correct_objects"]]
        out.to_csv(path, index=False, lineterminator="\n")
    else:
        rows = [Statement.model_validate(r) for r in frame.to_dict("records")]
        path.write_text("".join(row_line(r) for r in rows), encoding="utf-8")


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} is a file: give a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise DatasetError(f"--out {out} is not empty: choose a new folder or pass --overwrite")


def export_release(ref: str | Release, fmt: str, out: Path, overwrite: bool = False) -> ExportReport:
    """Write every domain x split of release ``ref`` as ``fmt`` files into folder ``out``.

    All files go to a temporary sibling folder first, which then replaces ``out``: an interrupted
    export leaves ``out`` as it was.
    """
    if fmt not in FORMATS:
        raise DatasetError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    release = get_release(ref)
    out = Path(out)
    _check_out(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        files = []
        for entry in release.manifest.files:
            frame = load_frame(release, domain=entry.domain, split=entry.split)
            rel = f"{entry.domain}/{entry.split}.{fmt}"
            (tmp / entry.domain).mkdir(exist_ok=True)
            _write_one(frame, fmt, tmp / rel)
            files.append(ExportedFile(path=rel, rows=len(frame), sha256=sha256_file(tmp / rel)))
        report = ExportReport(
            ref=release.ref, release_sha256=release.sha256, format=fmt, out=out, files=files
        )
        meta = report.model_dump(mode="json", exclude={"out"})
        (tmp / "EXPORT.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report
