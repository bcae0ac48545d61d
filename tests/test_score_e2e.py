"""End to end: `truthstab score` on a tiny random model and a small release, through the real CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from release_helpers import write_tiny
from truthstab.cli import main
from truthstab.results import read_result

VOLATILE = {"created_at", "timings"}


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("rel"), name="tiny", version="0.0.1", per=8)


def _score(model_dir: Path, release: Path, out: Path, cache: Path, *extra: str):
    args = ["score", str(model_dir), "--dataset", str(release), "--out", str(out), "--cache-dir", str(cache)]
    args += [
        "--bootstrap",
        "40",
        "--batch-size",
        "8",
        "--quiet",
        "--probes",
        "sawmil,mean-diff,logistic",
        *extra,
    ]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _strip_times(value):
    """The JSON with every timing and timestamp removed (they are the only things allowed to differ)."""
    if isinstance(value, dict):
        return {k: _strip_times(v) for k, v in value.items() if k not in VOLATILE and k != "fit_seconds"}
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


def _stable(path: Path) -> dict:
    return _strip_times(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def scored(tiny_llama_dir, release_dir, tmp_path_factory):
    out, cache = tmp_path_factory.mktemp("out"), tmp_path_factory.mktemp("cache")
    first = _score(tiny_llama_dir, release_dir, out, cache)
    paths = sorted(out.rglob("result.json"))
    assert len(paths) == 1
    return first, paths[0], out, cache


def test_result_validates_and_is_laid_out_by_model_and_sha(scored):
    cli_out, path, out, _ = scored
    result = read_result(path)
    assert path.parent.parent.name == result.model.revision_sha
    assert path.parent.name == f"tiny-0.0.1_fixed_{result.model.dtype}"
    assert path.parent.parent.parent.name.startswith("local__")
    assert "truthstab report card" in cli_out.output and "truth stability" in cli_out.output
    assert (path.parent / "report.md").read_text().startswith("truthstab report card")
    for fig in result.figures:
        assert (path.parent / fig).stat().st_size > 0
    assert {Path(f).stem for f in result.figures} >= {
        "flip_rates",
        "boundary_cosine",
        "layer_sweep",
        "kind_wasserstein",
    }
    # sAwMIL runs (the bag path end to end) but the headline probe is the evidence-chosen linear one.
    assert result.protocol.primary_probe == "mean-diff" and result.headline.probe == "mean-diff"
    assert result.protocol.n_refits == 10 and result.protocol.layer_policy == "auto"
    assert set(result.protocol.layers) == {"cities", "medicine", "definitions"}
    assert result.dataset.name == "tiny" and len(result.dataset.sha256) == 64
    assert not list(out.rglob(".tmp-*")), "no temporary folder is left behind"


def test_the_run_folder_follows_the_umask_not_the_temporary_folder_modes(scored):
    # Scoring writes through mkdtemp/mkstemp (0700/0600); another user must be able to read the run.
    from truthstab.fileio import dir_mode, file_mode

    run = scored[1].parent
    for path in [run, *run.rglob("*")]:
        want = dir_mode() if path.is_dir() else file_mode()
        assert stat.S_IMODE(path.stat().st_mode) == want, path


def test_counts_add_up_and_cis_contain_estimates(scored, release_dir):
    _, path, _, _ = scored
    result = read_result(path)
    pred = pd.read_parquet(path.parent / result.predictions_file)
    data = pd.concat(pd.read_json(p, lines=True) for p in release_dir.glob("data/*/test.jsonl"))
    n_true_test = data[data["kind"] == "true"].groupby("domain").size()
    for domain, dh in result.headline.per_domain.items():
        assert dh.n_true_test == n_true_test[domain]
        base = pred[
            (pred.domain == domain)
            & (pred.probe == "mean-diff")
            & (pred.task == 0)
            & (pred.kind == "true")
            & (pred.refit == 0)
        ]
        assert dh.n_baseline_true == int(base["prediction"].sum())
        # A random tiny network cannot be measured: it says so rather than looking stable.
        assert dh.measurable is (not dh.not_measurable)
    for rep in result.metrics.results:
        for task in rep.tasks:
            flips = task.flips
            if flips is None:
                continue
            assert flips.n_base_true + flips.n_base_false == flips.n_true
            assert flips.retraction_count <= flips.n_base_true
            assert flips.expansion_count <= flips.n_base_false
    for dh in result.headline.per_domain.values():
        for est in (dh.truth_stability, dh.unfamiliar_stability, dh.familiar_stability, dh.refit_null):
            assert est is not None and est.ci_low <= est.value <= est.ci_high
        assert dh.truth_stability.value == pytest.approx(
            (dh.unfamiliar_stability.value + dh.familiar_stability.value) / 2
        )
    head = result.headline
    assert head.measurable_domains == sorted(d for d, h in head.per_domain.items() if h.measurable)
    assert (head.truth_stability is None) == (not head.measurable_domains)
    # Every test statement of every probe and task has a full-fit prediction row; every true test
    # statement one per refit.
    n_test = len(data)
    n_true = int((data["kind"] == "true").sum())
    for (probe, task), group in pred.groupby(["probe", "task"]):
        assert len(group[(group.kind != "noise") & (group.refit == 0)]) == n_test, (probe, task)
        assert len(group[group.refit > 0]) == 10 * n_true, (probe, task)


def test_rerun_is_identical_apart_from_time(scored, tiny_llama_dir, release_dir, tmp_path):
    _, path, _, cache = scored
    out2 = tmp_path / "again"
    _score(tiny_llama_dir, release_dir, out2, cache)  # activations come from the cache this time
    again = next(out2.rglob("result.json"))
    assert _stable(again) == _stable(path)
    assert (again.parent / "predictions.parquet").read_bytes() == (
        path.parent / "predictions.parquet"
    ).read_bytes()


def test_results_show_and_compare(scored):
    _, path, _, _ = scored
    runner = CliRunner()
    shown = runner.invoke(main, ["results", "show", str(path)])
    assert shown.exit_code == 0 and "Fit-aware rates" in shown.output and "refit null" in shown.output
    compared = runner.invoke(main, ["results", "compare", str(path), str(path)])
    # baseline AP is defined whether or not a domain is measurable, so a self-comparison shows +0.00.
    assert compared.exit_code == 0 and "+0.00" in compared.output and "NO" not in compared.output


def test_bad_inputs_are_one_line_errors(tmp_path, release_dir, tiny_llama_dir):
    runner = CliRunner()
    bad = runner.invoke(main, ["score", "no-such-model-alias", "--dataset", str(release_dir), "--quiet"])
    assert bad.exit_code != 0 and "error:" in bad.output
    broken = tmp_path / "result.json"
    broken.write_text("{not json")
    shown = runner.invoke(main, ["results", "show", str(broken)])
    assert shown.exit_code != 0 and "not valid JSON" in shown.output
    layers = runner.invoke(
        main, ["score", str(tiny_llama_dir), "--dataset", str(release_dir), "--layers", "7"]
    )
    assert layers.exit_code != 0 and "do not exist" in layers.output


def test_max_per_kind_keeps_every_kind_and_split_and_all_columns(release_dir):
    from truthstab.data.schema import COLUMNS
    from truthstab.pipeline.config import RunConfig
    from truthstab.pipeline.dataset import load_frames

    _, frames = load_frames(RunConfig(dataset=str(release_dir), max_per_kind=3, seed=5))
    for frame in frames.values():
        assert list(frame.columns) == list(COLUMNS)
        sizes = frame.groupby(["kind", "split"]).size()
        assert len(sizes) == 12 and (sizes == 3).all()
    _, again = load_frames(RunConfig(dataset=str(release_dir), max_per_kind=3, seed=5))
    assert all(frames[d]["id"].tolist() == again[d]["id"].tolist() for d in frames)


def test_sample_fraction_keeps_the_proportions_of_kinds(release_dir):
    from truthstab.pipeline.config import RunConfig
    from truthstab.pipeline.dataset import load_frames

    _, full = load_frames(RunConfig(dataset=str(release_dir)))
    _, half = load_frames(RunConfig(dataset=str(release_dir), sample_fraction=0.5, seed=1))
    for domain in full:
        whole = full[domain].groupby(["kind", "split"]).size()
        part = half[domain].groupby(["kind", "split"]).size()
        assert (part == (whole * 0.5).round()).all()
        assert set(half[domain]["id"]) < set(full[domain]["id"])


def test_partial_runs_get_boards_of_their_own():
    from truthstab.leaderboard.render import subset_label

    assert subset_label("frac0.1") == "10 % sample"
    assert subset_label("max60") == "max 60 per kind"


def test_partial_runs_never_share_a_folder_with_full_runs():
    from truthstab.run_layout import run_tag

    full = run_tag("truthstab", "1.0.0", "fixed", "float32")
    assert full == "truthstab-1.0.0_fixed_float32"
    assert (
        run_tag("truthstab", "1.0.0", "fixed", "float32", "frac0.1")
        == "truthstab-1.0.0_fixed_float32_frac0.1"
    )
    with pytest.raises(Exception, match="not a safe name"):
        run_tag("truthstab", "1.0.0", "fixed", "float32", "../x")


def test_result_records_the_sweep_it_chose_from(scored):
    _, path, _, _ = scored
    result = read_result(path)
    sweeps = {s.domain: s for s in result.metrics.sweeps}
    assert set(sweeps) == set(result.protocol.layers)
    for domain, sweep in sweeps.items():
        assert sweep.chosen == result.protocol.layers[domain]
        assert sweep.layers == list(range(result.model.n_layers))


def test_a_sampled_run_says_before_its_numbers_that_it_cannot_estimate_them(
    tiny_llama_dir, release_dir, tmp_path
):
    args = ["score", str(tiny_llama_dir), "--dataset", str(release_dir), "--out", str(tmp_path / "o")]
    args += ["--cache-dir", str(tmp_path / "c"), "--bootstrap", "20", "--refits", "2", "--batch-size", "8"]
    args += ["--probes", "mean-diff", "--sample-fraction", "0.5"]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    first = res.stderr.splitlines()[0]
    assert first.startswith("SMOKE TEST") and "cannot estimate the full-release scores" in first
    assert "without --sample-fraction" in first


def test_a_run_on_some_domains_gets_its_own_folder(tiny_llama_dir, release_dir, tmp_path):
    # Two domains of three: the run tag names them; it used to join them with "+", which the folder-name
    # rule refuses, so the run failed after all its work.
    args = ["score", str(tiny_llama_dir), "--dataset", str(release_dir), "--out", str(tmp_path / "o")]
    args += ["--cache-dir", str(tmp_path / "c"), "--bootstrap", "20", "--refits", "2", "--batch-size", "8"]
    args += ["--probes", "mean-diff", "--domains", "medicine,cities", "--tracks", "representational"]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (path,) = (tmp_path / "o").rglob("result.json")
    assert path.parent.name.endswith("_cities-medicine")
    assert read_result(path).dataset.domains == ["cities", "medicine"]
