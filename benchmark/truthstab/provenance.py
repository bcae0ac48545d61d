"""Where a result came from: harness version and git state, environment and library versions."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from truthstab import __version__
from truthstab.results import EnvironmentRecord, HarnessRecord

#: Libraries whose versions can change the numbers of a run.
TRACKED_LIBRARIES = (
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
    "huggingface-hub",
    "numpy",
    "scipy",
    "scikit-learn",
    "sawmil",
    "pandas",
    "pyarrow",
    "gguf",
)


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def harness_record() -> HarnessRecord:
    """The harness version, and the git commit and dirty flag when running from a source checkout."""
    git_hash = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no", "--", "benchmark") if git_hash else None
    return HarnessRecord(
        version=__version__, git_hash=git_hash, git_dirty=None if status is None else bool(status)
    )


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that matter for the numbers (absent ones are left out)."""
    found = {}
    for name in TRACKED_LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def environment_record(device: str) -> EnvironmentRecord:
    """The machine a run executed on."""
    return EnvironmentRecord(
        device=device,
        python=sys.version.split()[0],
        platform=platform.platform(),
        libraries=library_versions(),
    )
