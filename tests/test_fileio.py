"""truthstab.fileio: the one copy of the small file helpers (hashing, atomic files and folders)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from truthstab import fileio


def test_sha256_of_bytes_and_files_agree_with_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 << 20) + b"tail"  # more than one read block
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert fileio.sha256_bytes(data) == expected == fileio.sha256_file(path)
    assert fileio.sha256_file(tmp_path / "blob") == fileio.sha256_file(str(path))  # a str path too


def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "a.txt").write_text(text)
    return path


def test_replace_dir_places_and_replaces(tmp_path: Path) -> None:
    final = tmp_path / "deep" / "out"
    fileio.replace_dir(_folder(tmp_path / "new1", "one"), final)  # parents created
    assert (final / "a.txt").read_text() == "one"
    fileio.replace_dir(_folder(tmp_path / "new2", "two"), final)
    assert (final / "a.txt").read_text() == "two"
    assert sorted(p.name for p in final.parent.iterdir()) == ["out"]  # no trash left behind
    assert not (tmp_path / "new1").exists() and not (tmp_path / "new2").exists()


def test_replace_dir_puts_the_old_folder_back_when_the_new_one_cannot_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = _folder(tmp_path / "out", "old")
    new = _folder(tmp_path / "new", "new")
    real = os.replace

    def failing(src, dst):
        if Path(src) == new:
            raise OSError("disk on fire")
        return real(src, dst)

    monkeypatch.setattr(fileio.os, "replace", failing)
    with pytest.raises(OSError, match="disk on fire"):
        fileio.replace_dir(new, final)
    assert (final / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "out"]  # the empty trash is removed
