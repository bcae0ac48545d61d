"""Get a release into a folder: copy a shipped one, or fetch a mirror from the Hugging Face Hub.

A Hub mirror is a dataset repository holding a release folder's files at its root (MANIFEST.json,
README.md, data/...). It is fetched with ``huggingface_hub.snapshot_download`` into the Hugging Face
cache (which works offline from that cache when ``HF_HUB_OFFLINE=1``), copied into a temporary folder
beside the destination, verified against the MANIFEST.json it contains, and only then renamed into
place. A mirror whose name or version differs from the reference, whose files do not match its
manifest, or whose content differs from a release of the same name and version shipped here is refused.

Why not ``snapshot_download(local_dir=...)``: with ``HF_HUB_OFFLINE`` set it never copies from the
cache into an empty ``local_dir``, so the offline path would always fail.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel

from truthstab.data.registry import (
    Release,
    get_release,
    list_releases,
    open_release,
    parse_ref,
    verify_release,
)
from truthstab.data.release import release_dirname
from truthstab.errors import DatasetError
from truthstab.hub import hub_id_problem, hub_offline


class Downloaded(BaseModel):
    """Where a release was placed and where it came from."""

    ref: str
    path: Path
    sha256: str
    source: str  # "shipped:<folder>" or "hub:<repo_id>"
    revision: str | None = None  # the Hub commit sha the files came from


def _copy_release(src: Path, dest: Path) -> None:
    """Copy a release folder's files (symlinks followed, dot files left out) to ``dest``."""
    shutil.copytree(src, dest, symlinks=False, ignore=shutil.ignore_patterns(".*"), dirs_exist_ok=True)


def _hub_error(exc: Exception, repo_id: str, revision: str | None) -> DatasetError:
    """A Hub failure as one line that says how to fix it."""
    from huggingface_hub.errors import (
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision or 'main'}"
    if isinstance(exc, HFValidationError):
        return DatasetError(f"invalid Hub repository id {repo_id!r}: use ORG/NAME ({exc})")
    if isinstance(exc, RevisionNotFoundError):
        return DatasetError(f"revision {revision!r} not found in dataset {repo_id}: check --revision")
    if isinstance(exc, RepositoryNotFoundError):
        return DatasetError(
            f"dataset repository {repo_id} not found on the Hub (or private): check --from-hub"
        )
    if isinstance(exc, LocalEntryNotFoundError):
        if hub_offline():
            return DatasetError(
                f"{where} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: run once with "
                "network access and HF_HUB_OFFLINE unset, or copy the release folder here and point "
                "TRUTHSTAB_DATASETS at it"
            )
        return DatasetError(
            f"cannot reach the Hub for {where} and it is not cached: check the network ({exc})"
        )
    return DatasetError(f"download of {where} failed: {exc.__class__.__name__}: {exc}")


def _fetch_snapshot(repo_id: str, revision: str | None, cache_dir: Path | None) -> Path:
    """The local snapshot folder of a Hub dataset repository (downloaded into the HF cache if needed)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, LocalEntryNotFoundError

    problem = hub_id_problem(repo_id)
    if problem is not None:
        raise _hub_error(HFValidationError(problem), repo_id, revision)
    try:
        path = snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            revision=revision,
            cache_dir=str(cache_dir) if cache_dir else None,
            local_files_only=hub_offline(),
        )
    except (HFValidationError, LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise _hub_error(exc, repo_id, revision) from None
    return Path(path)


def _check_identity(candidate: Release, name: str, version: str | None, repo_id: str) -> None:
    """The mirror must be the release asked for, and equal any shipped release of that name and version."""
    if candidate.name != name or (version is not None and candidate.version != version):
        wanted = f"{name}@{version}" if version else name
        raise DatasetError(
            f"the Hub mirror {repo_id} holds {candidate.ref}, not {wanted}: check the reference"
        )
    for known in list_releases():
        if known.ref == candidate.ref and known.sha256 != candidate.sha256:
            raise DatasetError(
                f"the Hub mirror's {candidate.ref} differs from the release shipped here (sha256 "
                f"{candidate.sha256} vs {known.sha256}): releases are immutable, so the mirror is not trusted"
            )


def _missing_folders(path: Path) -> list[Path]:
    """The folders ``path.mkdir(parents=True)`` would create, deepest first."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed download created (deepest first), so it leaves nothing behind."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (someone else wrote there) or already gone: leave it
            return


def _place(tmp: Path, dest: Path) -> None:
    if dest.exists():
        raise DatasetError(f"{dest} already exists: remove it or choose another --to folder")
    os.replace(tmp, dest)


def download_release(
    ref: str,
    to: Path,
    from_hub: str | None = None,
    revision: str | None = None,
    *,
    cache_dir: Path | None = None,
) -> Downloaded:
    """Place release ``ref`` at ``<to>/<name>-<version>/``, verified; return where it came from.

    Without ``from_hub`` the release is copied from the ones this installation has. With it, the
    dataset repository ``from_hub`` (at ``revision``, default main) is fetched through the Hugging Face
    cache (``cache_dir``, default the HF_HUB_CACHE of the environment) and verified before it is placed.
    """
    to = Path(to)
    name, version = parse_ref(ref)
    if version is not None and (to / release_dirname(name, version)).exists():
        raise DatasetError(
            f"{to / release_dirname(name, version)} already exists: remove it or choose another --to"
        )
    created = _missing_folders(to)
    to.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download.", suffix=".tmp", dir=to))
    try:
        if from_hub is None:
            release = get_release(ref)
            source, commit = f"shipped:{release.path}", None
            _copy_release(release.path, tmp)
        else:
            snapshot = _fetch_snapshot(from_hub, revision, cache_dir)
            _copy_release(snapshot, tmp)
            release = open_release(tmp)
            _check_identity(release, name, version, from_hub)
            source, commit = f"hub:{from_hub}", snapshot.name
        report = verify_release(open_release(tmp))
        if not report.ok:
            problems = report.all_problems()
            raise DatasetError(
                f"{source} failed verification against its MANIFEST.json ({len(problems)} problems; first: "
                f"{problems[0]}): the copy was discarded"
            )
        dest = to / release_dirname(release.name, release.version)
        os.chmod(tmp, 0o755)
        _place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise
    return Downloaded(ref=release.ref, path=dest, sha256=release.sha256, source=source, revision=commit)
