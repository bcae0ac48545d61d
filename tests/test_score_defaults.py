"""Where `truthstab score` writes without --out: never into the repository's committed submissions/."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from truthstab.cli import main
from truthstab.pipeline.config import RESULTS_ENV, RunConfig, default_results_dir

REPO = Path(__file__).resolve().parents[1]


def test_env_variable_sets_the_default_and_out_overrides_it(tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "mine"))
    assert RunConfig().out == tmp_path / "mine"
    assert RunConfig(out=tmp_path / "explicit").out == tmp_path / "explicit"


def test_default_is_not_the_committed_submissions_folder(monkeypatch):
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    out = default_results_dir()
    assert out.name == "results" and "submissions" not in out.parts
    if not out.is_absolute():  # the ./results fallback (no platformdirs): git ignores it
        check = subprocess.run(["git", "check-ignore", "-q", "results/x/result.json"], cwd=REPO, check=False)
        assert check.returncode == 0, "results/ must be git-ignored"


def test_score_help_names_the_default_and_make_run_has_no_submissions_out():
    shown = CliRunner().invoke(main, ["score", "--help"]).output
    assert f"${RESULTS_ENV}" in " ".join(shown.split())
    makefile = (REPO / "Makefile").read_text()
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "submissions" not in run_recipe
    assert "--out submissions" in makefile.split("\nboard:", 1)[1]  # the published board, explicitly


def test_container_scores_into_its_submissions_volume():
    # In the image `score` without --out must land in the mounted volume, not in the container's layer.
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert f"{RESULTS_ENV}=/data/submissions" in dockerfile
