"""A built wheel ships every release under truthstab/_releases, and the registry finds it there.

Builds a wheel from a temporary copy of the project (so the shared tree gets no build/ folder) with a
tiny release in its datasets/, unpacks it, and asks a fresh interpreter that imports truthstab from the
unpacked wheel (not the source tree) to list and verify the release.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from release_helpers import write_tiny

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_releases_and_registry_finds_them(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "benchmark", src / "benchmark", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    release = write_tiny(src / "datasets", "wheeltest", "1.0.0")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), "."],
        cwd=src, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("truthstab-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    for path in ("MANIFEST.json", "README.md", "data/cities/train.jsonl"):
        assert f"truthstab/_releases/wheeltest-1.0.0/{path}" in names
    code = (
        "import json, truthstab; from truthstab.data import registry as r; "
        "rel = r.get_release('wheeltest'); "
        "print(json.dumps([truthstab.__file__, rel.origin, rel.sha256, r.verify_release(rel).ok]))"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "TRUTHSTAB_DATASETS": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    module, origin, sha, ok = json.loads(out.stdout)
    assert module.startswith(str(tmp_path / "site"))
    expected_sha = json.loads((release / "MANIFEST.json").read_text())["sha256"]
    assert (origin, sha, ok) == ("packaged", expected_sha, True)
