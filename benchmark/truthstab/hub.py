"""The Hugging Face Hub's small rules, one copy each: is the Hub offline, and is a string a Hub id.

- **Offline.** ``huggingface_hub`` reads ``HF_HUB_OFFLINE`` once, when it is imported; truthstab reads
  it again at every call, so a variable set later (by a test, a notebook, a queue worker) still counts.
- **Repository ids.** Every id we accept for a model or a dataset mirror is ``org/name``: exactly one
  ``/``, each side starting with a letter or digit, and whatever ``huggingface_hub``'s own validator
  (``validate_repo_id``: ASCII ``[A-Za-z0-9._-]``, at most 96 characters a side, no ``--`` or ``..``,
  no leading or trailing ``.`` or ``-``, no ``.git`` ending) accepts. So such an id is also a safe
  relative path of two components: never absolute, never ``..``, never hidden, no control characters.

Like ``fileio``, this imports nothing of truthstab's; ``huggingface_hub`` is imported inside the functions.
"""

from __future__ import annotations

import os

#: The values of ``HF_HUB_OFFLINE`` that mean on (huggingface_hub's own set, compared case-blind).
_TRUE = ("1", "true", "yes", "on")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def hub_offline() -> bool:
    """Whether the Hub must not be contacted: ``HF_HUB_OFFLINE`` now, or huggingface_hub's flag.

    The variable is read at call time; ``huggingface_hub.constants.HF_HUB_OFFLINE`` is what the library
    read at its import (and what tests patch).
    """
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE", "").lower() in _TRUE
    return env or bool(constants.HF_HUB_OFFLINE)


def hub_id_problem(value: object) -> str | None:
    """Why ``value`` is not a Hub repository id ``org/name`` (one line), or None when it is one."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if not isinstance(value, str):
        return f"a Hub id is a string, not {type(value).__name__}"
    if value.count("/") != 1:
        return "a Hub id has exactly one '/', as in org/name"
    if any(not part or part[0] not in _ALNUM for part in value.split("/")):
        return "each side of a Hub id starts with a letter or digit"
    try:
        validate_repo_id(value)
    except HFValidationError as exc:  # its message ends by quoting the id: drop that, keep one line
        text = str(exc).replace(f": '{value}'", "").rstrip(". ")
        return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return None


def is_hub_id(value: object) -> bool:
    """Whether ``value`` is a Hub repository id ``org/name`` (see :func:`hub_id_problem`)."""
    return hub_id_problem(value) is None
