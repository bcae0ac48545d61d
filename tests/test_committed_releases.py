"""Every release committed under datasets/ still matches its manifest and loads offline with HF datasets.

Releases are immutable: if a committed release's files change, this test fails. The parameter list
always includes a release freshly written in a temporary folder, so the module asserts something even
before any release is committed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from release_helpers import write_tiny
from truthstab.data import registry

REPO_DATASETS = Path(__file__).resolve().parents[1] / "datasets"
FRESH = "fresh-tmp-release"


def _committed() -> list[str]:
    if not REPO_DATASETS.is_dir():
        return []
    return sorted(p.name for p in REPO_DATASETS.iterdir() if (p / "MANIFEST.json").is_file())


@pytest.fixture(params=[*_committed(), FRESH])
def release(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> registry.Release:
    if request.param == FRESH:
        path = write_tiny(tmp_path_factory.mktemp("fresh"), per=2)
        return registry.open_release(path, origin="fresh")
    return registry.open_release(REPO_DATASETS / request.param, origin="source")


def test_no_python_package_named_datasets() -> None:
    # An __init__.py would shadow the Hugging Face `datasets` library when run from the repository root.
    assert not (REPO_DATASETS / "__init__.py").exists()


def test_release_matches_its_manifest(release: registry.Release) -> None:
    report = registry.verify_release(release)
    assert report.ok, "\n".join(report.all_problems())
    assert report.sha256_actual == release.sha256
    assert release.path.name == f"{release.name}-{release.version}"


def test_card_declares_one_config_per_domain(release: registry.Release) -> None:
    text = (release.path / "README.md").read_text(encoding="utf-8")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert [c["config_name"] for c in meta["configs"]] == release.domains
    for key in ("license", "language", "task_categories", "pretty_name"):
        assert meta[key], key


def test_hf_load_dataset_offline(
    release: registry.Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is a declared dependency")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    expected = {(f.domain, f.split): f.rows for f in release.manifest.files}
    for domain in release.domains:
        ds = datasets.load_dataset(str(release.path), domain, cache_dir=str(tmp_path / "hf"))
        assert {s: ds[s].num_rows for s in ds} == {
            s: expected[(domain, s)] for s in ("train", "calibration", "test")
        }
