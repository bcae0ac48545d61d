"""Find dataset releases, load their statements, and verify them against their manifests.

A release is found in these roots, first match wins for a given name@version:

1. every folder in the environment variable ``TRUTHSTAB_DATASETS`` (``os.pathsep``-separated);
2. the repository's ``datasets/`` folder, when truthstab runs from a source tree;
3. ``truthstab/_releases/``, the copies a wheel ships.

A reference is ``NAME[@VERSION]`` (no version: the highest semantic version of NAME), or the path of a
release folder (anything containing a path separator). Plain ``@VERSION`` or an empty name means the
default release ``truthstab``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from truthstab.data.manifest import Manifest, read_manifest
from truthstab.data.release import (
    DATA_DIR,
    MANIFEST_NAME,
    SPLIT_ORDER,
    describe_validation_error,
    release_sha256,
    validate_name,
    validate_version,
    version_key,
)
from truthstab.data.schema import COLUMNS, Domain, Kind, Split, Statement
from truthstab.errors import DatasetError
from truthstab.fileio import sha256_bytes, sha256_file

DEFAULT_NAME = "truthstab"
ENV_ROOTS = "TRUTHSTAB_DATASETS"
#: At most this many row problems are listed per file in a verify report (the count is always exact).
MAX_ROW_PROBLEMS = 20

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_SOURCE_ROOT = _PACKAGE_DIR.parents[1]


class Release(BaseModel):
    """A release found on disk: its identity, folder and manifest."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    version: str
    path: Path
    manifest: Manifest
    origin: str  # "env", "source" or "packaged" or "path"

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def domains(self) -> list[str]:
        return list(self.manifest.domains)

    @property
    def sha256(self) -> str:
        return self.manifest.sha256


def release_roots() -> list[tuple[str, Path]]:
    """The folders searched for releases, in precedence order, as (origin, path)."""
    roots: list[tuple[str, Path]] = []
    for part in os.environ.get(ENV_ROOTS, "").split(os.pathsep):
        if part.strip():
            roots.append(("env", Path(part).expanduser()))
    # A source tree is recognised by its pyproject.toml beside benchmark/; an installed wheel has neither.
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "datasets").is_dir():
        roots.append(("source", _SOURCE_ROOT / "datasets"))
    roots.append(("packaged", _PACKAGE_DIR / "_releases"))
    return roots


def parse_ref(ref: str) -> tuple[str, str | None]:
    """Split ``NAME[@VERSION]`` into (name, version or None), validating both."""
    name, _, version = ref.strip().partition("@")
    name = validate_name(name or DEFAULT_NAME)
    return name, (validate_version(version) if version else None)


def open_release(path: Path, origin: str = "path") -> Release:
    """Open the release folder ``path`` (its manifest must name the same name and version as the folder)."""
    path = Path(path)
    if not (path / MANIFEST_NAME).is_file():
        raise DatasetError(
            f"{path} is not a release folder (no {MANIFEST_NAME}): give a release name or folder"
        )
    manifest = read_manifest(path / MANIFEST_NAME)
    expected = f"{manifest.name}-{manifest.version}"
    if origin != "path" and path.name != expected:
        raise DatasetError(
            f"{path}: its manifest says {manifest.name}@{manifest.version}, so the folder must be named "
            f"{expected}: rename the folder"
        )
    return Release(name=manifest.name, version=manifest.version, path=path, manifest=manifest, origin=origin)


class BrokenRelease(BaseModel):
    """A folder in a release root that looks like a release but cannot be opened, and why."""

    path: Path
    reason: str


def scan_releases() -> tuple[list[Release], list[BrokenRelease]]:
    """Every release found in the roots, sorted by name and version (first root wins on duplicates),
    and the folders that hold a manifest but cannot be opened: one broken folder hides no other release."""
    found: dict[tuple[str, str], Release] = {}
    broken: list[BrokenRelease] = []
    for origin, root in release_roots():
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            if child.name.startswith(".") or not (child / MANIFEST_NAME).is_file():
                continue  # temporary folders of an interrupted write, or unrelated folders
            try:
                release = open_release(child, origin)
            except DatasetError as exc:
                broken.append(BrokenRelease(path=child, reason=str(exc)))
                continue
            found.setdefault((release.name, release.version), release)
    return sorted(found.values(), key=lambda r: (r.name, version_key(r.version))), broken


def list_releases() -> list[Release]:
    """Every release that can be opened (see :func:`scan_releases` for the broken folders)."""
    return scan_releases()[0]


def _available(releases: list[Release]) -> str:
    return ", ".join(r.ref for r in releases) or "none (build or download one first)"


def get_release(ref: str | Release) -> Release:
    """Resolve a reference to a release; an unknown one raises DatasetError listing the available ones."""
    if isinstance(ref, Release):
        return ref
    if "/" in ref or os.sep in ref:
        return open_release(Path(ref))
    name, version = parse_ref(ref)
    releases, broken = scan_releases()
    matches = [r for r in releases if r.name == name and (version is None or r.version == version)]
    if not matches:
        wanted = f"{name}@{version}" if version else name
        hint = f"; broken folders: {', '.join(str(b.path) for b in broken)}" if broken else ""
        raise DatasetError(f"unknown release {wanted!r}; available: {_available(releases)}{hint}")
    return max(matches, key=lambda r: version_key(r.version))


def _choose(values: str | Iterable[str] | None, allowed: Iterable[str], what: str) -> list[str] | None:
    """Normalise a filter to a list and check its values; None means no filter."""
    if values is None:
        return None
    chosen = [values] if isinstance(values, str) else list(values)
    allowed = list(allowed)
    bad = [v for v in chosen if v not in allowed]
    if bad:
        raise DatasetError(f"unknown {what} {bad}; choose from {allowed}")
    return chosen


def _parse_line(line: bytes, where: str) -> Statement:
    """One JSON Lines row to a Statement; errors name the file, line and column."""
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{where}: not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: a row must be a JSON object")
    try:
        return Statement.model_validate(data)
    except ValidationError as exc:
        raise DatasetError(f"{where}: {describe_validation_error(exc)}") from None


def load_statements(
    ref: str | Release,
    domains: str | Iterable[str] | None = None,
    kinds: str | Iterable[str] | None = None,
    splits: str | Iterable[str] | None = None,
) -> list[Statement]:
    """The rows of a release as Statements, filtered by domain, kind and split (None: all).

    Each file read is checked against its manifest sha256, so a modified file is never used silently.
    Rows come in release order: domain, split, then the file's order (kind, id).
    """
    release = get_release(ref)
    want_domains = _choose(domains, release.domains, "domain")
    want_kinds = _choose(kinds, [k.value for k in Kind], "kind")
    want_splits = _choose(splits, SPLIT_ORDER, "split")
    rows: list[Statement] = []
    for entry in release.manifest.files:
        if (want_domains is not None and entry.domain not in want_domains) or (
            want_splits is not None and entry.split not in want_splits
        ):
            continue
        path = release.path / entry.path
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DatasetError(f"{path} is missing: re-download or restore release {release.ref}") from None
        actual = sha256_bytes(data)
        if actual != entry.sha256:
            raise DatasetError(
                f"checksum mismatch in {path}: sha256 {actual}, manifest says {entry.sha256}: "
                f"restore the file or re-download release {release.ref}"
            )
        for number, line in enumerate(data.splitlines(), start=1):
            row = _parse_line(line, f"{path}:{number}")
            if want_kinds is None or row.kind in want_kinds:
                rows.append(row)
    return rows


def load_frame(
    ref: str | Release,
    domain: str | Iterable[str] | None = None,
    kind: str | Iterable[str] | None = None,
    split: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The rows of a release as a DataFrame with the columns of ``schema.COLUMNS``."""
    rows = load_statements(ref, domains=domain, kinds=kind, splits=split)
    return pd.DataFrame([r.model_dump(mode="json") for r in rows], columns=list(COLUMNS))


class FileCheck(BaseModel):
    """The verification of one file of a release."""

    path: str
    sha256_expected: str
    sha256_actual: str
    size_expected: int
    size_actual: int
    rows_expected: int
    rows_actual: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


class VerifyReport(BaseModel):
    """Everything ``verify_release`` checked, and every problem it found."""

    ref: str
    path: Path
    sha256_expected: str
    sha256_actual: str
    files: list[FileCheck]
    problems: list[str]  # release-level problems (file-level ones are in ``files``)

    @property
    def ok(self) -> bool:
        return not self.problems and all(f.ok for f in self.files)

    def all_problems(self) -> list[str]:
        """File problems first (they name the culprit), then release-level ones."""
        return [*(p for f in self.files for p in f.problems), *self.problems]


def _check_rows(
    data: bytes, where: str, domain: str, split: str, ids: Counter[str]
) -> tuple[int, Counter[str], Counter[str], list[str]]:
    """Validate every row of one file: (rows, kinds, splits, problems)."""
    kinds: Counter[str] = Counter()
    splits: Counter[str] = Counter()
    problems: list[str] = []
    n_bad = 0
    lines = data.splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            row = _parse_line(line, f"{where}:{number}")
        except DatasetError as exc:
            n_bad += 1
            if n_bad <= MAX_ROW_PROBLEMS:
                problems.append(str(exc))
            continue
        kinds[row.kind] += 1
        splits[row.split] += 1
        ids[row.id] += 1
        if row.split != split or row.domain != domain:
            problems.append(
                f"{where}:{number}: row is {row.domain}/{row.split} in the file of {domain}/{split}"
            )
    if n_bad > MAX_ROW_PROBLEMS:
        problems.append(f"{where}: {n_bad} malformed rows in all (first {MAX_ROW_PROBLEMS} listed)")
    return len(lines), kinds, splits, problems


def _verify_file(release: Release, entry, ids: Counter[str]) -> FileCheck:
    path = release.path / entry.path
    check = FileCheck(
        path=entry.path,
        sha256_expected=entry.sha256,
        sha256_actual="",
        size_expected=entry.size,
        size_actual=-1,
        rows_expected=entry.rows,
        rows_actual=-1,
        problems=[],
    )
    if not path.is_file():
        check.problems.append(f"{entry.path}: file is missing")
        return check
    data = path.read_bytes()
    check.sha256_actual, check.size_actual = sha256_bytes(data), len(data)
    if check.sha256_actual != entry.sha256:
        check.problems.append(
            f"{entry.path}: checksum mismatch: sha256 {check.sha256_actual}, manifest says {entry.sha256}"
        )
    if check.size_actual != entry.size:
        check.problems.append(f"{entry.path}: size {check.size_actual} bytes, manifest says {entry.size}")
    rows, kinds, splits, problems = _check_rows(data, entry.path, entry.domain, entry.split, ids)
    check.rows_actual = rows
    check.problems += problems
    if rows != entry.rows:
        check.problems.append(f"{entry.path}: {rows} rows, manifest says {entry.rows}")
    if dict(kinds) != entry.by_kind:
        check.problems.append(f"{entry.path}: counts by kind {dict(kinds)}, manifest says {entry.by_kind}")
    if dict(splits) != entry.by_split:
        check.problems.append(f"{entry.path}: counts by split {dict(splits)}, manifest says {entry.by_split}")
    return check


def _release_problems(release: Release, ids: Counter[str]) -> list[str]:
    """Checks over the whole release: card checksum, unlisted files, duplicate ids, totals, schema."""
    manifest, problems = release.manifest, []
    if list(manifest.columns) != list(COLUMNS):
        problems.append(f"manifest columns {manifest.columns} differ from this truthstab's {list(COLUMNS)}")
    bad_domains = [d for d in manifest.domains if d not in {x.value for x in Domain}]
    if bad_domains:
        problems.append(f"unknown domains {bad_domains} in the manifest")
    for entry in manifest.files:
        if entry.path != f"{DATA_DIR}/{entry.domain}/{entry.split}.jsonl" or entry.split not in {
            s.value for s in Split
        }:
            problems.append(
                f"{entry.path}: path does not match its domain {entry.domain!r} / split {entry.split!r}"
            )
    listed = {e.path for e in manifest.files}
    if len(listed) != len(manifest.files):
        problems.append("the manifest lists a data file more than once")
    for domain in manifest.domains:
        lacking = [s for s in SPLIT_ORDER if f"{DATA_DIR}/{domain}/{s}.jsonl" not in listed]
        if lacking:
            problems.append(f"domain {domain!r} has no file for split(s) {lacking} in the manifest")
    if sorted({e.domain for e in manifest.files}) != sorted(manifest.domains):
        problems.append(f"manifest domains {manifest.domains} differ from the domains of its files")
    on_disk = {
        p.relative_to(release.path).as_posix() for p in (release.path / DATA_DIR).rglob("*") if p.is_file()
    }
    problems += [f"{p}: file is not listed in the manifest" for p in sorted(on_disk - listed)]
    dupes = sorted(i for i, n in ids.items() if n > 1)
    if dupes:
        problems.append(
            f"duplicate statement ids: {', '.join(dupes[:10])}{' ...' if len(dupes) > 10 else ''}"
        )
    if manifest.rows != sum(e.rows for e in manifest.files):
        problems.append(f"manifest says {manifest.rows} rows but its files add up to another number")
    for other in [manifest.card, *manifest.extras]:
        if other is None:
            continue
        path = release.path / other.path
        actual = sha256_file(path) if path.is_file() else "(missing)"
        if actual != other.sha256:
            problems.append(f"{other.path}: checksum mismatch: sha256 {actual}, manifest says {other.sha256}")
    return problems


def verify_release(ref: str | Release) -> VerifyReport:
    """Recompute every checksum and size, re-validate every row, and check counts, splits and ids."""
    release = get_release(ref)
    ids: Counter[str] = Counter()
    files = [_verify_file(release, entry, ids) for entry in release.manifest.files]
    actual = release_sha256([{"path": f.path, "sha256": f.sha256_actual} for f in files])
    problems = _release_problems(release, ids)
    if actual != release.sha256:
        problems.append(f"release checksum mismatch: sha256 {actual}, manifest says {release.sha256}")
    return VerifyReport(
        ref=release.ref,
        path=release.path,
        sha256_expected=release.sha256,
        sha256_actual=actual,
        files=files,
        problems=problems,
    )
