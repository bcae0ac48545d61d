"""Reading, writing and describing result files: validated on the way in (older schemas migrated), canonical
bytes on the way out."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from truthstab.errors import ResultError
from truthstab.fileio import atomic_write_text
from truthstab.results.migrate import migrate
from truthstab.results.schema import SCHEMA_VERSION, Result

#: Schema majors a reader accepts: the current one and those ``migrate`` rewrites into it.
READABLE_MAJORS = ("2", "3")


def result_json_schema() -> str:
    """The JSON Schema of a result file (pydantic's, with the schema version in its title), as text."""
    schema = Result.model_json_schema(mode="serialization")
    schema["title"] = f"truthstab result, schema {SCHEMA_VERSION}"
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def _check_version(data: dict, path: Path) -> None:
    found = str(data.get("schema_version", "missing"))
    if found.split(".")[0] == "1":
        raise ResultError(
            f"{path}: result schema {found} predates fit-aware stability (schema {SCHEMA_VERSION}): its "
            "headline does not separate the model from refit noise; re-score the model with truthstab score"
        )
    if found.split(".")[0] not in READABLE_MAJORS:
        raise ResultError(
            f"{path}: result schema {found} is incompatible with this truthstab (schema {SCHEMA_VERSION}); "
            "re-score the model or use a matching truthstab version"
        )


def read_result(path: str | Path) -> Result:
    """Read and validate a result file (schema 2 is migrated); a malformed or incompatible file raises
    ResultError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ResultError(f"{path}: no such result file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultError(
            f"{path}: not valid JSON ({exc}); the file is corrupted, re-score the model"
        ) from exc
    if not isinstance(data, dict):
        raise ResultError(f"{path}: a result file holds a JSON object, found {type(data).__name__}")
    _check_version(data, path)
    try:
        return Result.model_validate(migrate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ResultError(
            f"{path}: field {where!r}: {first['msg']} ({exc.error_count()} problem(s))"
        ) from exc


def dump_result(result: Result) -> str:
    """The canonical JSON text of a result (sorted keys, so equal results give equal bytes)."""
    data = result.model_dump(mode="json")
    # allow_nan=False: JSON has no NaN; an undefined number must be None in the model, never NaN.
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_result(result: Result, path: str | Path) -> Path:
    """Write a result file atomically and return its path."""
    path = Path(path)
    atomic_write_text(path, dump_result(result))
    return path
