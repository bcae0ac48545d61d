"""The typed form of a release's MANIFEST.json (written by ``release.py``, read by the registry)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from truthstab.errors import DatasetError

#: Manifest layouts this code can read.
SUPPORTED_FORMATS = frozenset({1})

_SHA = r"^[0-9a-f]{64}$"


class ManifestFile(BaseModel):
    """One data file: where it is, its checksum, size and row counts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(pattern=r"^data/[a-z]+/(train|calibration|test)\.jsonl$")
    domain: str
    split: str
    sha256: str = Field(pattern=_SHA)
    size: int = Field(ge=0)
    rows: int = Field(ge=0)
    by_kind: dict[str, int]
    by_split: dict[str, int]


class ManifestCard(BaseModel):
    """A non-data file's checksum (card, extras): not part of the release sha256, but verified."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    sha256: str = Field(pattern=_SHA)
    size: int = Field(ge=0)


class Manifest(BaseModel):
    """A release's MANIFEST.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int
    name: str
    version: str
    created_by: dict[str, str]
    creation: dict[str, Any]
    license: str
    sources: list[dict[str, str]]
    domains: list[str]
    columns: list[str]
    rows: int
    by_kind: dict[str, int]
    by_split: dict[str, int]
    sha256: str = Field(pattern=_SHA)
    files: list[ManifestFile]
    card: ManifestCard | None = None
    extras: list[ManifestCard] = []


def read_manifest(path: Path) -> Manifest:
    """Read and validate a MANIFEST.json; a broken one raises DatasetError naming the file and field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing: a release folder needs its MANIFEST.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} is not valid JSON ({exc}): restore it from the release") from None
    if isinstance(data, dict) and data.get("format") not in SUPPORTED_FORMATS:
        raise DatasetError(
            f"{path}: manifest format {data.get('format')!r} is not supported by this truthstab "
            f"(supports {sorted(SUPPORTED_FORMATS)}): upgrade truthstab"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise DatasetError(
            f"{path}: field {field}: {err['msg']}: restore the file from the release"
        ) from None
