"""Validation of every name a submission carries, before it reaches a path, a shell or HTML.

Submissions are untrusted input. Each name is checked against an allow-list (never a deny-list) and
each failure says which name was wrong, why, and what a valid one looks like.
"""

from __future__ import annotations

import re

from truthstab.errors import SubmissionError
from truthstab.hub import hub_id_problem

#: Hugging Face caps repository and organisation names at 96 characters; we use the same cap.
MAX_COMPONENT = 96
MAX_REVISION = 200
#: One path component: the Hub's own character set for organisation and repository names.
_COMPONENT = re.compile(r"[A-Za-z0-9._-]+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DTYPES = ("float32", "float16", "bfloat16")
CHAT_TEMPLATE_MODES = ("auto", "on", "off")
_LICENSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}")


def printable(value: str) -> str:
    """The value as it can be shown in an error message without echoing control characters."""
    return ascii(value) if len(value) <= 120 else ascii(value[:120]) + "..."


def _reject_control(value: str, what: str) -> None:
    if _CONTROL.search(value):
        raise SubmissionError(f"{what} {printable(value)} contains control characters; remove them")


def validate_component(value: str, what: str) -> str:
    """Check one path component (an organisation or a model name) and return it unchanged.

    Allowed: 1-96 characters from ``[A-Za-z0-9._-]``, not starting or ending with ``.`` or ``-``, with
    no ``..``: so it can never be ``.``, ``..``, an absolute path, a hidden file or a shell option.
    """
    if not isinstance(value, str) or not value:
        raise SubmissionError(f"{what} is empty; give a name like 'my-model'")
    _reject_control(value, what)
    if len(value) > MAX_COMPONENT:
        raise SubmissionError(f"{what} is {len(value)} characters long; the limit is {MAX_COMPONENT}")
    if "/" in value or "\\" in value:
        raise SubmissionError(f"{what} {printable(value)} contains a path separator; give a bare name")
    if not _COMPONENT.fullmatch(value):
        raise SubmissionError(
            f"{what} {printable(value)} has characters outside [A-Za-z0-9._-]; rename it to use only those"
        )
    if ".." in value or value[0] in ".-" or value[-1] in ".-":
        raise SubmissionError(
            f"{what} {printable(value)} starts or ends with '.' or '-', or contains '..'; rename it"
        )
    return value


def split_model_id(model_id: str) -> tuple[str, str]:
    """Split a Hub model id ``org/name`` into its validated organisation and name."""
    if not isinstance(model_id, str) or not model_id:
        raise SubmissionError("the model id is empty; give a Hub id like 'org/name' or a local directory")
    _reject_control(model_id, "model id")
    if model_id.startswith(("/", "\\", "~")):
        raise SubmissionError(
            f"model id {printable(model_id)} is an absolute path that is not a model directory; "
            "give an existing directory or a Hub id like 'org/name'"
        )
    parts = model_id.split("/")
    if len(parts) != 2:
        raise SubmissionError(
            f"model id {printable(model_id)} is not of the form 'org/name'; "
            "give the full Hub id (for example 'HuggingFaceTB/SmolLM2-135M') or an existing directory"
        )
    org, name = validate_component(parts[0], "organisation"), validate_component(parts[1], "model name")
    problem = hub_id_problem(model_id)  # the Hub's own rules on top ('--', a '.git' ending, ...)
    if problem is not None:
        raise SubmissionError(
            f"model id {printable(model_id)} is not a valid Hub id ({problem}); give the full Hub id "
            "(for example 'HuggingFaceTB/SmolLM2-135M') or an existing directory"
        )
    return org, name


def validate_revision(revision: str) -> str:
    """Check a requested revision (branch, tag, ``refs/pr/N`` or commit sha) and return it unchanged."""
    if not isinstance(revision, str) or not revision:
        raise SubmissionError("the revision is empty; give a branch, tag or commit sha (for example 'main')")
    _reject_control(revision, "revision")
    if len(revision) > MAX_REVISION:
        raise SubmissionError(f"revision is {len(revision)} characters long; the limit is {MAX_REVISION}")
    for part in revision.split("/"):
        if not part or not _COMPONENT.fullmatch(part) or part in (".", "..") or part.startswith("-"):
            raise SubmissionError(
                f"revision {printable(revision)} is not a valid branch, tag or commit sha; use only "
                "[A-Za-z0-9._-] separated by single '/', without '..' or a leading '-' or '/'"
            )
    return revision


def validate_sha(sha: str) -> str:
    """Check a resolved commit sha (40 hex digits, or 64 for a local directory's content hash)."""
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        raise SubmissionError(
            f"sha {printable(str(sha))} is not 40 or 64 lower-case hex digits; resolve the revision first"
        )
    return sha


def validate_dtype(dtype: str) -> str:
    """Check the evaluation dtype; requests name a concrete one so that they identify one run."""
    if dtype not in DTYPES:
        raise SubmissionError(
            f"dtype {printable(str(dtype))} is not supported; choose one of {', '.join(DTYPES)}"
        )
    return dtype


def validate_chat_template(mode: str) -> str:
    """Check the chat-template mode: auto (use it when the model has one), on, or off."""
    if mode not in CHAT_TEMPLATE_MODES:
        raise SubmissionError(
            f"chat template mode {printable(str(mode))} is not one of {', '.join(CHAT_TEMPLATE_MODES)}"
        )
    return mode


def validate_license(value: str) -> str:
    """Check a licence identifier from a model card (it ends up on the leaderboard's HTML)."""
    if not isinstance(value, str) or not _LICENSE.fullmatch(value):
        raise SubmissionError(
            f"licence {printable(str(value))} is not a licence identifier like 'apache-2.0' or 'mit'; "
            "fix the model card's 'license:' field"
        )
    return value


def folder_name(org: str, name: str) -> str:
    """The submissions folder of a model: ``<org>__<name>``, from validated components only."""
    return f"{validate_component(org, 'organisation')}__{validate_component(name, 'model name')}"
