"""Controls of the fit-aware headline (docs/method.md, "Fit-aware stability"), on activations with known structure.

- Another machine's activations differ in the last digits: rounding noise of bfloat16 size must move every
  headline value by less than its own CI half-width.
- A probe trained on shuffled labels knows nothing: the domain must come out not measurable, never stable.
- The joint bootstrap carries the fit's uncertainty: its interval is wider than one over statements alone.
"""

from __future__ import annotations

import numpy as np

from probe_synth import e, make_acts
from truthstab.activations.types import ActivationSet
from truthstab.fitaware import fit_aware_draws, interval, resample_plan
from truthstab.headline import compute_headline
from truthstab.protocol import run_protocol
from truthstab.refits import stratified_resample

COUNTS = {"true": 400, "false": 400, "synthetic": 160, "fictional:true": 80, "fictional:false": 80}
QUANTITIES = (
    "truth_stability",
    "unfamiliar_stability",
    "familiar_stability",
    "familiarity_gap",
    "refit_null",
)


def _acts(seed: int = 0) -> ActivationSet:
    # Overlapping clusters (spread 1.2 around centres 2 apart) leave a probe some refit noise to measure;
    # synthetic rows sit on the true side, fictional ones mostly away from it.
    centres = {
        "true": e(0, 1.2, 16),
        "false": e(0, -1.2, 16),
        "synthetic": e(0, 0.9, 16) + e(1, 1.5, 16),
        "fictional:true": e(2, 2.0, 16),
        "fictional:false": e(2, -2.0, 16),
    }
    return make_acts(centres, COUNTS, dim=16, spread=1.2, seed=seed)


def _headline(acts: ActivationSet, n_boot: int = 300):
    report = run_protocol(
        {"cities": acts}, ["mean-diff"], {"cities": 0}, seed=0, n_bootstrap=n_boot, n_refits=8
    )
    predictions = report.predictions_frame()
    predictions.insert(4, "split", "test")
    return compute_headline(predictions, "mean-diff", n_boot=n_boot, seed=0)[0]


def _perturbed(acts: ActivationSet, relative: float, seed: int) -> ActivationSet:
    """Every stored number multiplied by (1 + relative * u), u uniform in [-1, 1]: last-digit differences."""
    rng = np.random.default_rng(seed)

    def jitter(x: np.ndarray) -> np.ndarray:
        return (x * (1 + relative * rng.uniform(-1, 1, size=x.shape))).astype(np.float32)

    return ActivationSet(
        statements=acts.statements,
        layers=acts.layers,
        last={k: jitter(v) for k, v in acts.last.items()},
        mean={k: jitter(v) for k, v in acts.mean.items()},
        bags=acts.bags,
        meta=acts.meta,
    )


def test_bfloat16_rounding_noise_moves_no_headline_value_by_its_ci_half_width():
    acts = _acts()
    base = _headline(acts)
    assert base.measurable_domains == ["cities"], base.warnings
    for seed in (1, 2):
        moved = _headline(_perturbed(acts, 2.0**-8, seed))  # bfloat16 keeps 8 significant bits
        assert moved.measurable_domains == ["cities"]
        for name in QUANTITIES:
            a, b = getattr(base, name), getattr(moved, name)
            half_width = (a.ci_high - a.ci_low) / 2
            assert abs(a.value - b.value) < half_width, (name, a, b)


def test_a_probe_trained_on_shuffled_labels_is_not_measurable():
    acts = _acts()
    frame = acts.statements.copy()
    train = np.flatnonzero(frame["split"].to_numpy() == "train")
    shuffled = np.random.default_rng(0).permutation(train)
    for column in ("kind", "fiction_truth"):
        frame.loc[train, column] = frame[column].to_numpy()[shuffled]
    control = ActivationSet(frame, acts.layers, acts.last, acts.mean, acts.bags, acts.meta)
    head = _headline(control)
    dom = head.per_domain["cities"]
    assert not dom.measurable and head.truth_stability is None
    assert any("near chance" in r or "refitting alone" in r for r in dom.not_measurable)


def test_joint_interval_is_wider_than_the_statements_alone():
    # Refits that disagree a lot: the joint bootstrap must carry that spread, statement resampling cannot.
    rng = np.random.default_rng(0)
    n, n_refits = 300, 10
    p = np.ones((2, n_refits, n), dtype=bool)
    for r in range(n_refits):
        p[1, r, rng.choice(n, size=int(rng.integers(5, 60)), replace=False)] = False
    plan = resample_plan(n, n_refits, 400, seed=1)
    joint = fit_aware_draws(p, plan)["retraction_1"]
    fixed_refits = plan.refits.copy()
    fixed_refits[:] = np.arange(n_refits)
    statements_only = fit_aware_draws(
        p, plan.__class__(plan.weights, fixed_refits, plan.pairs, plan.pair_index)
    )
    _, lo_j, hi_j = interval(joint)
    _, lo_s, hi_s = interval(statements_only["retraction_1"])
    assert hi_j - lo_j > 1.5 * (hi_s - lo_s)


def test_stratified_resample_keeps_every_class_size_and_is_seeded():
    classes = np.array(["true"] * 50 + ["false"] * 30 + ["synthetic"] * 20 + ["noise"] * 7)
    rows = np.arange(len(classes))
    idx = stratified_resample(classes, rows, seed=4)
    assert len(idx) == len(rows) and len(set(idx)) < len(rows)  # drawn with replacement
    for cls in ("true", "false", "synthetic", "noise"):
        assert (classes[idx] == cls).sum() == (classes == cls).sum()
    assert np.array_equal(idx, stratified_resample(classes, rows, seed=4))
    assert not np.array_equal(idx, stratified_resample(classes, rows, seed=5))


def test_refits_reuse_the_full_fit_hyperparameters():
    from truthstab.probes import LogisticProbe, MeanDifferenceProbe
    from truthstab.refits import refit_template

    x = np.random.default_rng(0).normal(size=(200, 5))
    y = x[:, 0] > 0
    md = MeanDifferenceProbe().fit(x, y)
    assert refit_template(md).covariance == md.covariance_
    lr = LogisticProbe().fit(x, y)
    template = refit_template(lr)
    assert template.C == lr.C_
    assert template.fit(x, y).C_ == lr.C_  # a fixed C: no search on refits
