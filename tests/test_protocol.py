"""The protocol (docs/method.md §5, §7, §12): label table, noise, layer choice, hand-known perturbation effects."""

import json

import numpy as np
import pytest

from probe_synth import e, make_acts
from truthstab.activations.types import ActivationSet
from truthstab.errors import ActivationError, ProbeError
from truthstab.probes import MeanDifferenceProbe, SawmilProbe
from truthstab.protocol import LABEL_TABLE, build_design, make_noise, run_protocol, select_layers, task_labels

ROWS = ["true", "false", "synthetic", "fictional:true", "fictional:false", "noise"]
# Expected True labels per (mode, task), one column per row class above.
TABLE = {
    ("fixed", 0): [1, 0, 0, 0, 0, 0],
    ("fixed", 1): [1, 0, 1, 0, 0, 0],
    ("fixed", 2): [1, 0, 0, 1, 1, 0],
    ("fixed", 3): [1, 0, 0, 1, 0, 0],
    ("fixed", 4): [1, 0, 0, 0, 0, 1],
    ("faithful", 0): [1, 0, 0, 0, 0, 0],
    ("faithful", 1): [1, 0, 1, 0, 0, 1],  # defect 1: noise labelled True in task 1
    ("faithful", 2): [1, 0, 0, 1, 1, 0],
    ("faithful", 3): [1, 0, 0, 1, 0, 0],
    ("faithful", 4): [1, 0, 0, 0, 0, 0],  # defect 1: task 4 = task 0
}


@pytest.mark.parametrize(("mode", "task"), sorted(TABLE))
def test_label_table(mode, task):
    kinds = np.array([r.split(":")[0] for r in ROWS], dtype=object)
    ft = np.array([r.split(":")[1] if ":" in r else "" for r in ROWS], dtype=object)
    assert task_labels(kinds, ft, task, mode).astype(int).tolist() == TABLE[(mode, task)]


def test_label_table_covers_exactly_the_tasks_and_rejects_unknowns():
    assert set(TABLE) == {(m, t) for m in LABEL_TABLE for t in LABEL_TABLE[m]}
    with pytest.raises(ProbeError, match="unknown protocol mode"):
        task_labels(np.array(["true"]), np.array([""]), 0, "paper")
    with pytest.raises(ProbeError, match="tasks are 0-4"):
        task_labels(np.array(["true"]), np.array([""]), 5)


def test_noise_is_seeded_split_and_follows_training_statistics():
    rng = np.random.default_rng(0)
    train = (rng.standard_normal((500, 4)) * [1, 2, 3, 4] + [10, 0, -5, 1]).astype(np.float32)
    a = make_noise(train, train, None, 400, seed=3)
    b = make_noise(train, train, None, 400, seed=3)
    assert np.array_equal(a.last, b.last) and list(a.split) == list(b.split)
    assert not np.array_equal(a.last, make_noise(train, train, None, 400, seed=4).last)
    assert [(a.split == s).sum() for s in ("train", "calibration", "test")] == [200, 100, 100]
    assert np.allclose(a.last.mean(0), [10, 0, -5, 1], atol=0.5)
    assert np.allclose(a.last.std(0), [1, 2, 3, 4], rtol=0.15)


def _base_counts(**extra):
    counts = {"true": 200, "false": 200, "synthetic": 40, "fictional:true": 40, "fictional:false": 40}
    counts.update(extra)
    return counts


def _centres(**overrides):
    c = {
        "true": e(0, 2),
        "false": e(0, -2),
        "synthetic": e(1, 3),
        "fictional:true": e(2, 3),
        "fictional:false": e(2, -3),
    }
    c.update(overrides)
    return c


MD = MeanDifferenceProbe(covariance=False)


def _task(report, probe, task):
    rep = next(r for r in report.results if r.probe == probe)
    return rep.tasks[task]


def test_relabelling_points_on_the_true_side_retracts_nothing():
    # Synthetic rows lie beyond the true cluster: making them True moves the boundary away from true rows.
    acts = make_acts(_centres(synthetic=e(0, 6)), _base_counts())
    report = run_protocol({"cities": acts}, [MD], layers={"cities": 0}, n_bootstrap=50)
    t1 = _task(report, "MeanDifferenceProbe", 1)
    assert t1.flips.retraction_count == 0
    assert t1.rotation_cosine > 0.98


def test_relabelling_a_far_false_cluster_rotates_toward_it_and_retracts_the_nearest_true_points():
    # Fictional rows far on the False side (and off-axis): making them True rotates the boundary.
    acts = make_acts(
        _centres(**{"fictional:true": e(0, -6) + e(1, 4), "fictional:false": e(0, -6) + e(1, 4)}),
        _base_counts(**{"fictional:true": 30, "fictional:false": 30}),
        spread=1.2,
    )
    report = run_protocol({"cities": acts}, [MD], layers={"cities": 0}, n_bootstrap=50)
    t2 = _task(report, "MeanDifferenceProbe", 2)
    assert t2.rotation_cosine < 0.9
    assert t2.flips.retraction_count > 0
    preds = report.predictions_frame()
    true_rows = preds[(preds.kind == "true")]
    s0 = true_rows[true_rows.task == 0].score.to_numpy()
    s2 = true_rows[true_rows.task == 2].score.to_numpy()
    retracted = (s0 > 0) & (s2 <= 0)
    # The retracted true statements are those nearest the baseline boundary.
    assert 0 < retracted.sum() < (s0 > 0).sum()
    assert s0[retracted].mean() < s0[(s0 > 0) & ~retracted].mean()


def test_pure_noise_perturbation_leaves_a_well_separated_problem_almost_unchanged():
    acts = make_acts(_centres(), _base_counts())
    report = run_protocol({"cities": acts}, [MD], layers={"cities": 0}, n_bootstrap=50)
    t4 = _task(report, "MeanDifferenceProbe", 4)
    assert t4.flips.retraction_rate_base.value <= 0.02
    assert t4.rotation_cosine > 0.95
    # The baseline separates true from false (noise rows, drawn from training statistics, blur AP a bit).
    assert _task(report, "MeanDifferenceProbe", 0).quality.average_precision.value > 0.8


def test_faithful_mode_task4_equals_task0_for_mean_difference():
    acts = make_acts(_centres(), _base_counts())
    faithful = run_protocol({"cities": acts}, [MD], layers={"cities": 0}, mode="faithful", n_bootstrap=20)
    fixed = run_protocol({"cities": acts}, [MD], layers={"cities": 0}, mode="fixed", n_bootstrap=20)
    scores = {p.tasks[t].task: p.tasks[t].scores for p in faithful.predictions for t in range(5)}
    assert scores[4] == scores[0]
    t4 = _task(faithful, "MeanDifferenceProbe", 4)
    assert (
        t4.rotation_cosine == pytest.approx(1.0) and t4.bias_shift == 0.0 and t4.flips.retraction_count == 0
    )
    assert _task(fixed, "MeanDifferenceProbe", 4).bias_shift != 0.0


def test_faithful_mode_reproduces_defect2_for_sawmil():
    # The bag probe sees only the first N training bags of the list (real, synthetic, fictional, noise):
    # with N = the real + synthetic training rows it never sees a fictional row, so task 2 equals task 0.
    acts = make_acts(_centres(), _base_counts())
    n_seen = int(
        acts.statements.query("split == 'train' and kind in ['true', 'false', 'synthetic']").shape[0]
    )
    probe = SawmilProbe(C=0.5)
    kwargs = {"layers": {"cities": 0}, "n_bootstrap": 20, "faithful_max_bags": n_seen}
    faithful = run_protocol({"cities": acts}, [probe], mode="faithful", **kwargs)
    fixed = run_protocol({"cities": acts}, [probe], mode="fixed", **kwargs)
    t2 = _task(faithful, "SawmilProbe", 2)
    assert (
        t2.n_train == n_seen and t2.rotation_cosine == pytest.approx(1.0) and t2.flips.retraction_count == 0
    )
    assert _task(fixed, "SawmilProbe", 2).rotation_cosine < 0.999


def test_layer_selection_picks_the_layer_with_the_signal_and_keeps_the_curve():
    acts = make_acts(_centres(), _base_counts(), layers=(0, 1, 2), signal_layer=1)
    layers, curves = select_layers({"cities": acts}, seed=0)
    assert layers == {"cities": 1}
    curve = curves["cities"]
    assert curve.layers == [0, 1, 2] and curve.chosen == 1
    assert curve.scores[1] > max(curve.scores[0], curve.scores[2]) + 0.3


def test_same_seed_same_report_and_report_is_json():
    acts = make_acts(_centres(), _base_counts(), layers=(0, 1))
    run = lambda seed: run_protocol({"cities": acts}, ["mean-diff"], None, seed=seed, n_bootstrap=100)  # noqa: E731

    def strip(rep):
        d = json.loads(rep.model_dump_json())
        d.pop("timings")
        for r in d["results"]:
            for t in r["tasks"]:
                t.pop("fit_seconds")
            r["refits"].pop("fit_seconds")
        return d

    a, b, c = run(1), run(1), run(2)
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)
    assert a.layer_choice == "auto" and a.layers == {"cities": 1} and len(a.sweeps) == 1
    interval = _task(a, "mean-diff", 1).flips.retraction_rate_base
    assert interval.ci_low <= interval.value <= interval.ci_high
    frame = a.metrics_frame()
    assert len(frame) == 5 and set(frame.task) == {0, 1, 2, 3, 4}
    preds = a.predictions_frame()
    n_test = int((acts.statements.split == "test").sum()) + a.noise[0].n_test
    assert (preds.refit == 0).sum() == 5 * n_test
    n_true_test = int(((acts.statements.split == "test") & (acts.statements.kind == "true")).sum())
    assert (preds.refit > 0).sum() == 5 * a.n_refits * n_true_test  # refits: true test statements only
    assert a.geometry[0].counts["noise"] == a.noise[0].n
    assert {(d.a, d.b) for d in a.geometry[0].distances} >= {("true", "false"), ("true", "noise")}


def test_bad_inputs_give_one_line_errors():
    acts = make_acts(_centres(), _base_counts())
    with pytest.raises(ProbeError, match="no token bags"):
        build_design(
            ActivationSet(acts.statements, acts.layers, acts.last, acts.mean, {}),
            "cities",
            0,
            0,
            with_bags=True,
        )
    with pytest.raises(ProbeError, match="no activations for layer 7"):
        run_protocol({"cities": acts}, ["mean-diff"], layers={"cities": 7}, n_bootstrap=5)
    bad = dict(acts.last)
    bad[0] = bad[0].copy()
    bad[0][3, 1] = np.inf
    with pytest.raises(ActivationError, match="non-finite"):
        run_protocol(
            {"cities": ActivationSet(acts.statements, acts.layers, bad, bad)}, ["mean-diff"], {"cities": 0}
        )
    with pytest.raises(ProbeError, match="unknown protocol mode"):
        run_protocol({"cities": acts}, ["mean-diff"], {"cities": 0}, mode="paper")


def test_noise_rows_can_be_dropped_as_the_reference_runs_lost_them():
    acts = make_acts(_centres(), _base_counts(), layers=(0,))
    kept = run_protocol(
        {"cities": acts}, ["mean-diff"], {"cities": 0}, mode="faithful", n_bootstrap=20, n_refits=2
    )
    dropped = run_protocol(
        {"cities": acts},
        ["mean-diff"],
        {"cities": 0},
        mode="faithful",
        n_bootstrap=20,
        n_refits=2,
        noise_rows="drop",
    )
    assert kept.noise[0].n > 0 and dropped.noise[0].n == 0 and dropped.noise_rows == "drop"
    assert "noise" not in set(dropped.predictions_frame()["kind"])
    n_train_real = int((acts.statements.split == "train").sum())
    # Faithful task 1 labels noise True; without noise rows it trains on the real rows alone.
    assert _task(dropped, "mean-diff", 1).n_train == n_train_real < _task(kept, "mean-diff", 1).n_train
    with pytest.raises(ProbeError, match="--refits must be 0 or at least 2"):
        run_protocol({"cities": acts}, ["mean-diff"], {"cities": 0}, n_refits=1)


def test_one_task_table_serves_protocol_figures_and_the_behavioural_track():
    from truthstab.behaviour.prompts import PROBE_TASK
    from truthstab.figures import TASK_LABELS
    from truthstab.protocol import TASKS
    from truthstab.tasks import Task

    assert TASKS == {
        0: "baseline",
        1: "true+synthetic",
        2: "true+fictional",
        3: "true+fictional(T)",
        4: "true+noise",
    }
    assert TASK_LABELS[Task.NOISE] == "True+Noise" and Task.BASELINE not in TASK_LABELS
    for mode in LABEL_TABLE:
        assert set(LABEL_TABLE[mode]) == set(Task)
    assert PROBE_TASK == {"baseline": 0, "synthetic": 1, "fictional": 2, "fictional-true": 3, "control": None}
