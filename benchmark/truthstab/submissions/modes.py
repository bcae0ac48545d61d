"""File modes for what the queue writes: the umask decides, not the temporary-file defaults.

``tempfile.mkstemp`` creates files ``0600`` and ``mkdtemp`` folders ``0700`` whatever the umask, which is
right for secrets but wrong for request files, results and run folders: another user (the one who builds
or serves the leaderboard) must be able to read them. Everything written through a temporary file and a
rename gets the mode a plain ``open()`` or ``mkdir()`` would have given it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

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

    For trees written by code that goes through ``mkstemp``/``mkdtemp`` (the scorer's run folder), so
    that the result is readable by whoever the umask says may read it.
    """
    root = Path(root)
    files, folders = file_mode(), dir_mode()
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, folders if path.is_dir() else files)
