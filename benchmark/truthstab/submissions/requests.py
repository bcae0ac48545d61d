"""The submission request: one JSON file per (model, sha, dtype), its schema, and its atomic I/O.

A request lives at ``<submissions>/<org>__<name>/request-<sha>-<dtype>.json``; its result lands beside it
in ``<org>__<name>/<sha>/``. Request files are untrusted input: reading one re-validates every name and
checks that the file's content matches the place it was found.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from truthstab.errors import SubmissionError
from truthstab.fileio import atomic_write_text
from truthstab.models.registry import resolve_alias
from truthstab.submissions import names

SCHEMA_VERSION = 1


class Status(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


def request_id(org: str, name: str, sha: str, dtype: str) -> str:
    """The short id users type (`queue retry ID`): folder, first 12 sha digits, dtype."""
    return f"{names.folder_name(org, name)}@{names.validate_sha(sha)[:12]}-{names.validate_dtype(dtype)}"


def request_filename(sha: str, dtype: str) -> str:
    """The request's file name inside its model folder."""
    return f"request-{names.validate_sha(sha)}-{names.validate_dtype(dtype)}.json"


class Request(BaseModel):
    """One model submitted for evaluation, and where its evaluation stands."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str
    model: str = Field(
        description="Hub id 'org/name', the absolute path of a local model directory, or a packaged alias"
    )
    source: Literal["hub", "local", "package"]
    org: str
    name: str
    revision: str = Field(description="the revision as submitted (branch, tag or sha)")
    sha: str = Field(
        description="the resolved commit sha (hub), content sha-256 (local directory) or weights sha (package)"
    )
    dtype: str
    chat_template: str = "auto"
    params: int = Field(ge=0, description="parameter count, from the safetensors headers")
    license: str
    custom_code: bool = Field(False, description="the model needs trust_remote_code (allowed at submit)")
    status: Status = Status.PENDING
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    worker_id: str | None = None
    claim: str | None = Field(None, description="token of the current claim; only its holder may update")
    lease_s: float | None = Field(
        None,
        gt=0,
        description="seconds the current claim stays valid without a heartbeat, chosen by its worker",
    )
    attempts: int = Field(0, ge=0)
    error: str | None = None
    log_path: str | None = Field(
        None, description="log of the last attempt, relative to the submissions root"
    )
    result_path: str | None = Field(None, description="result JSON, relative to the submissions root")

    @field_validator("org")
    @classmethod
    def _org(cls, value: str) -> str:
        return names.validate_component(value, "organisation")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return names.validate_component(value, "model name")

    @field_validator("revision")
    @classmethod
    def _revision(cls, value: str) -> str:
        return names.validate_revision(value)

    @field_validator("sha")
    @classmethod
    def _sha(cls, value: str) -> str:
        return names.validate_sha(value)

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, value: str) -> str:
        return names.validate_dtype(value)

    @field_validator("chat_template")
    @classmethod
    def _chat_template(cls, value: str) -> str:
        return names.validate_chat_template(value)

    @field_validator("license")
    @classmethod
    def _license(cls, value: str) -> str:
        return names.validate_license(value)

    @field_validator("log_path", "result_path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None:
            check_relative(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Request:
        if self.id != request_id(self.org, self.name, self.sha, self.dtype):
            raise SubmissionError(f"request id {self.id!r} does not match its model, sha and dtype")
        if self.source == "hub" and self.model != f"{self.org}/{self.name}":
            raise SubmissionError(f"request {self.id}: model {self.model!r} does not match org/name")
        if self.source == "local" and not Path(self.model).is_absolute():
            raise SubmissionError(f"request {self.id}: a local model must be an absolute path")
        if self.source == "package":
            info = resolve_alias(self.model)
            if info is None or info.source != "package" or info.hf_id != f"{self.org}/{self.name}":
                raise SubmissionError(
                    f"request {self.id}: {self.model!r} is not the packaged model {self.org}/{self.name}"
                )
        return self

    @property
    def folder(self) -> str:
        """The model's folder name under the submissions root."""
        return names.folder_name(self.org, self.name)

    @property
    def relpath(self) -> str:
        """The request file's path relative to the submissions root."""
        return f"{self.folder}/{request_filename(self.sha, self.dtype)}"


def check_relative(value: str) -> None:
    """A stored path must stay inside the submissions root: relative, no '..', no control characters."""
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
        raise SubmissionError(f"path {value!r} in a request is not a plain relative path inside the root")
    for part in parts:
        names.validate_component(part, "path component")


def read_request(path: Path) -> Request:
    """Read and validate a request file, checking that it sits where its content says it should."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        request = Request.model_validate(data)
    except FileNotFoundError as exc:
        raise SubmissionError(f"request file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SubmissionError(
            f"request file {path} is not a valid request ({first}); fix or remove it"
        ) from exc
    expected = Path(request.relpath)
    if Path(path).name != expected.name or Path(path).parent.name != expected.parent.name:
        raise SubmissionError(f"request file {path} should be at {request.relpath}; move or remove it")
    return request


def write_request(path: Path, request: Request) -> None:
    """Replace a request file atomically (a temporary file in the same folder, then os.replace)."""
    atomic_write_text(Path(path), request.model_dump_json(indent=2) + "\n", fsync=True)


def create_request(path: Path, request: Request) -> None:
    """Write a new request file, atomically and without overwriting: raises FileExistsError if present."""
    # a hard link fails if the target exists, so two submits cannot both win
    text = request.model_dump_json(indent=2) + "\n"
    atomic_write_text(Path(path), text, fsync=True, overwrite=False)
