"""download_release: shipped copies, and Hub mirrors resolved by the real snapshot_download offline.

No network: the tests lay out a Hugging Face cache (``datasets--ORG--NAME/{blobs,snapshots,refs}``, as
huggingface_hub writes it) in a temporary folder and set HF_HUB_OFFLINE, so the real resolution code
finds the mirror there.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import huggingface_hub.constants
import pytest

from release_helpers import make_rows, write_tiny
from truthstab.data import registry
from truthstab.data.hub import download_release
from truthstab.data.release import write_release
from truthstab.errors import DatasetError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def make_hub_cache(cache: Path, repo_id: str, release: Path, commit: str = COMMIT) -> Path:
    """Lay ``release``'s files out as the HF cache of dataset ``repo_id`` at ``commit`` (refs/main)."""
    repo = cache / f"datasets--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    for src in sorted(p for p in release.rglob("*") if p.is_file()):
        data = src.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / src.relative_to(release)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (snapshot / ".gitattributes").write_text("*.jsonl text\n")
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads HF_HUB_OFFLINE at import time; set both the variable and the constant.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture
def mirror(tmp_path: Path, offline: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub cache holding a mirror of tinyset@1.0.0 as org/tinyset-mirror; no local releases added."""
    monkeypatch.setenv(registry.ENV_ROOTS, str(tmp_path / "no-local-releases"))
    release = write_tiny(tmp_path / "origin", "tinyset", "1.0.0")
    cache = tmp_path / "hub"
    make_hub_cache(cache, "org/tinyset-mirror", release)
    return cache


def test_hub_mirror_resolved_offline_and_verified(tmp_path: Path, mirror: Path) -> None:
    result = download_release(
        "tinyset@1.0.0", tmp_path / "to", from_hub="org/tinyset-mirror", cache_dir=mirror
    )
    assert result.path == tmp_path / "to" / "tinyset-1.0.0"
    assert (result.source, result.revision) == ("hub:org/tinyset-mirror", COMMIT)
    assert not (result.path / ".gitattributes").exists()
    assert not any(p.is_symlink() for p in result.path.rglob("*"))  # real files, not links into the cache
    report = registry.verify_release(str(result.path))
    assert report.ok and report.sha256_actual == result.sha256
    assert sorted(p.name for p in (tmp_path / "to").iterdir()) == ["tinyset-1.0.0"]


def test_revision_by_commit_and_latest_version(tmp_path: Path, mirror: Path) -> None:
    result = download_release(
        "tinyset", tmp_path / "to", from_hub="org/tinyset-mirror", revision=COMMIT, cache_dir=mirror
    )
    assert result.ref == "tinyset@1.0.0"


def test_offline_miss_says_how_to_fix(tmp_path: Path, mirror: Path) -> None:
    with pytest.raises(
        DatasetError, match=r"org/absent@main is not in the local Hugging Face cache and HF_HUB_OFFLINE"
    ):
        download_release("tinyset@1.0.0", tmp_path / "to", from_hub="org/absent", cache_dir=mirror)
    with pytest.raises(DatasetError, match="org/tinyset-mirror@v9 is not in the local"):
        download_release(
            "tinyset@1.0.0", tmp_path / "to", from_hub="org/tinyset-mirror", revision="v9", cache_dir=mirror
        )
    with pytest.raises(DatasetError, match="invalid Hub repository id"):
        download_release("tinyset@1.0.0", tmp_path / "to", from_hub="not a repo", cache_dir=mirror)
    assert not (tmp_path / "to").exists()  # the folder the download created is removed again


def test_offline_variable_set_after_import_counts(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the variable, as when it is set after huggingface_hub was imported: still cache only.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    result = download_release(
        "tinyset@1.0.0", tmp_path / "to", from_hub="org/tinyset-mirror", cache_dir=mirror
    )
    assert result.revision == COMMIT
    with pytest.raises(DatasetError, match="org/absent@main is not in the local Hugging Face cache"):
        download_release("tinyset@1.0.0", tmp_path / "to2", from_hub="org/absent", cache_dir=mirror)


@pytest.mark.parametrize("repo_id", ["tinyset-mirror", "org/a/b", "org/a--b", "../org/x", "org/x\n"])
def test_a_mirror_id_is_org_slash_name(tmp_path: Path, mirror: Path, repo_id: str) -> None:
    with pytest.raises(DatasetError, match=r"invalid Hub repository id .*: use ORG/NAME \(") as info:
        download_release("tinyset@1.0.0", tmp_path / "to", from_hub=repo_id, cache_dir=mirror)
    assert "\n" not in str(info.value).replace(repr(repo_id), "")
    assert not (tmp_path / "to").exists()


def test_corrupted_mirror_is_refused(tmp_path: Path, mirror: Path) -> None:
    snapshot = mirror / "datasets--org--tinyset-mirror" / "snapshots" / COMMIT
    blob = (snapshot / "data/cities/test.jsonl").resolve()
    blob.write_bytes(blob.read_bytes().replace(b"France", b"Franc3"))
    with pytest.raises(
        DatasetError, match=r"failed verification .*data/cities/test.jsonl: checksum mismatch"
    ):
        download_release("tinyset@1.0.0", tmp_path / "to", from_hub="org/tinyset-mirror", cache_dir=mirror)
    assert not (tmp_path / "to").exists()  # nothing placed, temp and created folders removed


def test_mirror_of_another_release_is_refused(tmp_path: Path, mirror: Path) -> None:
    with pytest.raises(DatasetError, match=r"holds tinyset@1.0.0, not tinyset@2.0.0"):
        download_release("tinyset@2.0.0", tmp_path / "to", from_hub="org/tinyset-mirror", cache_dir=mirror)
    with pytest.raises(DatasetError, match=r"holds tinyset@1.0.0, not truthstab"):
        download_release("truthstab", tmp_path / "to", from_hub="org/tinyset-mirror", cache_dir=mirror)


def test_mirror_differing_from_a_shipped_release_is_refused(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local tinyset@1.0.0 with other content: the mirror's manifest is self-consistent but not the same.
    local = tmp_path / "local"
    write_release(make_rows(per=2), "tinyset", "1.0.0", local, {"seed": 0})
    monkeypatch.setenv(registry.ENV_ROOTS, str(local))
    with pytest.raises(DatasetError, match="differs from the release shipped here"):
        download_release("tinyset@1.0.0", tmp_path / "to", from_hub="org/tinyset-mirror", cache_dir=mirror)


def test_copy_a_shipped_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tiny(tmp_path / "shipped", "tinyset", "1.2.3")
    monkeypatch.setenv(registry.ENV_ROOTS, str(tmp_path / "shipped"))
    result = download_release("tinyset", tmp_path / "to")
    assert result.source == f"shipped:{tmp_path / 'shipped' / 'tinyset-1.2.3'}" and result.revision is None
    assert registry.verify_release(str(result.path)).ok
    with pytest.raises(DatasetError, match="already exists"):
        download_release("tinyset@1.2.3", tmp_path / "to")


def test_cli_honours_hf_env_variables_in_a_fresh_process(tmp_path: Path) -> None:
    """The real environment path: HF_HUB_CACHE and HF_HUB_OFFLINE read by a new interpreter."""
    release = write_tiny(tmp_path / "origin", "tinyset", "1.0.0")
    make_hub_cache(tmp_path / "hub", "org/tinyset-mirror", release)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(tmp_path / "hub"),
        registry.ENV_ROOTS: str(tmp_path / "none"),
    }
    cmd = [
        sys.executable,
        "-c",
        "from truthstab.cli import main; main()",
        "datasets",
        "download",
        "tinyset@1.0.0",
    ]
    ok = subprocess.run(
        [*cmd, "--to", str(tmp_path / "to"), "--from-hub", "org/tinyset-mirror", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["revision"] == COMMIT
    miss = subprocess.run(
        [*cmd, "--to", str(tmp_path / "to2"), "--from-hub", "org/elsewhere"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert miss.returncode == 2
    assert miss.stderr.strip().splitlines()[-1].startswith("error: org/elsewhere@main is not in the local")


def test_failed_download_leaves_no_empty_folder(tmp_path: Path, mirror: Path) -> None:
    to = tmp_path / "new" / "releases"
    with pytest.raises(DatasetError, match="is not in the local Hugging Face cache"):
        download_release("tinyset@1.0.0", to, from_hub="org/absent", cache_dir=mirror)
    assert not (tmp_path / "new").exists()  # every folder the download created is gone again
    existing = tmp_path / "mine"
    existing.mkdir()
    with pytest.raises(DatasetError):
        download_release("tinyset@1.0.0", existing, from_hub="org/absent", cache_dir=mirror)
    assert existing.is_dir()  # a folder the user had is kept
