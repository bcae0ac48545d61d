"""Writing files safely and naming their contents: the one copy of truthstab's small file helpers.

- **Atomic writes.** Everything truthstab writes (results, reports, request files, cache descriptions,
  chunks) goes to a temporary file in the target's folder and is renamed into place with ``os.replace``,
  so a reader never sees half a file and an interrupted write leaves the old one. Folders written whole
  (a release, an export, the board's figures) are swapped in the same way by :func:`replace_dir`.
- **Modes.** ``tempfile.mkstemp`` creates files ``0600`` and ``mkdtemp`` folders ``0700`` whatever the
  umask: right for secrets, wrong for results, caches and run folders that another user (the one who
  builds or serves the leaderboard) must read. Files written here get the mode a plain ``open()`` would
  have given them.
- **Hashing** with ``hashlib.file_digest``; **the clock** as one timezone-aware UTC function.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_UMASK_GUARD = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere the only way to read it is to set it; the lock keeps two of our threads from racing.
    with _UMASK_GUARD:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: ``0666`` less the umask."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """The mode ``mkdir`` gives a new folder: ``0777`` less the umask."""
    return 0o777 & ~current_umask()


def apply_umask(root: Path) -> None:
    """Give ``root`` and everything under it the modes of plain files and folders (symlinks untouched).

    For trees written through ``mkstemp``/``mkdtemp`` (the scorer's run folder), so that the result is
    readable by whoever the umask says may read it.
    """
    root = Path(root)
    files, folders = file_mode(), dir_mode()
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, folders if path.is_dir() else files)


def atomic_write(
    path: Path,
    write: Callable[[Path], None],
    suffix: str = ".tmp",
    fsync: bool = False,
    overwrite: bool = True,
) -> None:
    """Create ``path`` by calling ``write(tmp)`` on a temporary path in its folder, then renaming it.

    The folder is created if missing; the file gets :func:`file_mode`; on any error the temporary file is
    removed and the error re-raised. ``fsync``: flush the bytes to disk before the rename (queue files).
    ``overwrite=False``: hard-link instead of rename, which raises FileExistsError when ``path`` exists,
    so two writers cannot both create it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, file_mode())
        os.close(fd)
        write(tmp)
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data), fsync=fsync)


def atomic_write_text(path: Path, text: str, fsync: bool = False, overwrite: bool = True) -> None:
    """Write UTF-8 ``text`` with ``\\n`` line ends to ``path`` atomically (see :func:`atomic_write`)."""

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8", newline="\n")

    atomic_write(path, write, fsync=fsync, overwrite=overwrite)


def atomic_write_json(path: Path, data: Any, indent: int = 1, sort_keys: bool = True) -> None:
    """Write ``data`` as JSON (no NaN or infinity: they are not JSON) to ``path`` atomically."""
    text = json.dumps(data, indent=indent, sort_keys=sort_keys, allow_nan=False) + "\n"
    atomic_write_text(path, text)


def replace_dir(new: Path, final: Path) -> None:
    """Put the fully written folder ``new`` at ``final`` (same file system), replacing any older one.

    One rename when ``final`` is absent. Otherwise the old folder is first renamed aside into a hidden
    sibling, ``new`` renamed into place and the old copy deleted; if that second rename fails the old
    folder is put back. Either way a reader sees the old folder or the new one, never a mix.
    """
    new, final = Path(new), Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.replace(new, final)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
    aside = trash / final.name
    try:
        os.replace(final, aside)
        try:
            os.replace(new, final)
        except BaseException:
            os.replace(aside, final)  # put the old folder back
            raise
    finally:
        if not aside.exists():  # the trash holds no copy of the old folder: remove it
            shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)


def cache_root() -> Path:
    """The truthstab user cache: ``$TRUTHSTAB_CACHE`` or ``~/.cache/truthstab``."""
    env = os.environ.get("TRUTHSTAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "truthstab"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks (``hashlib.file_digest``)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (results round it to the second)."""
    return datetime.now(UTC)
