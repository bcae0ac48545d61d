"""A model folder's identity: one sha256 over every file that can change its numbers.

Used by loading (a local folder's revision), the packaged models (their converted folder) and the queue
(re-verifying a local submission before scoring it), so all three name the same weights the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_sha256(folder: Path) -> str:
    """sha256 over a folder's weight, config, tokenizer, template and code files (names and bytes, sorted).

    Its identity: every file that can change the numbers, including ``*.py`` model code that
    ``trust_remote_code`` runs, so rewriting any of them gives another sha.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file() and _identity_file(p.name)):
        digest.update(path.name.encode() + b"\x00")
        with open(path, "rb") as fh:  # the bytes themselves, streamed: changing this changes every sha
            while block := fh.read(1 << 22):
                digest.update(block)
    return digest.hexdigest()


def _identity_file(name: str) -> bool:
    if name.endswith((".safetensors", ".json", ".jinja", ".model", ".tiktoken", ".py")):
        return True
    return name.startswith("tokenizer") or name in ("vocab.txt", "merges.txt")
