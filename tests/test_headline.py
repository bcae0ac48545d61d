"""Fit-aware headline scores on constructed predictions whose answer is known by hand.

Construction: n true test statements and R refits. Baseline refit r calls every statement True except
statement r, so two baseline refits r != r' disagree on exactly one statement each way: the refit null is
1 / (n - 1). Task k's refit r additionally retracts the last m_k statements: its fit-aware retraction is
m_k / (n - 1) and its excess over the null (m_k - 1) / (n - 1).
"""

import numpy as np
import pandas as pd
import pytest

from truthstab.headline import MAX_REFIT_NULL, compute_headline

COLUMNS = ["domain", "id", "kind", "split", "probe", "task", "refit", "score", "prediction"]


def _frame(domain: str, n_true: int, retract: dict[int, int], n_refits: int = 4, n_false: int = 40):
    rows = []
    for i in range(n_true):
        sid = f"{domain}-t{i:04d}"
        for task in range(5):
            rows.append((domain, sid, "true", "test", "p", task, 0, 1.0 + i, True))
            for r in range(1, n_refits + 1):
                pred = i != r - 1 and not (task > 0 and i >= n_true - retract.get(task, 0))
                rows.append((domain, sid, "true", "test", "p", task, r, float("nan"), pred))
    for i in range(n_false):
        for task in range(5):
            rows.append((domain, f"{domain}-f{i:04d}", "false", "test", "p", task, 0, -1.0 - i, False))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_fit_aware_rates_match_hand_counts_and_average_over_domains():
    pred = pd.concat([_frame("a", 101, {1: 21, 2: 6, 4: 0}), _frame("b", 51, {1: 11, 2: 1, 4: 2})])
    head, draws = compute_headline(pred, "p", n_boot=200, seed=3)
    a, b = head.per_domain["a"], head.per_domain["b"]
    assert a.refit_null.value == pytest.approx(1.0) and b.refit_null.value == pytest.approx(2.0)
    assert a.unfamiliar_retraction.value == pytest.approx(21.0)
    assert a.unfamiliar_excess.value == pytest.approx(20.0)
    assert a.unfamiliar_stability.value == pytest.approx(80.0)
    assert a.familiar_stability.value == pytest.approx(95.0)
    assert b.familiar_stability.value == pytest.approx(100.0)  # retracts exactly what a refit does
    assert b.noise_control.value == pytest.approx(4.0)
    assert head.unfamiliar_stability.value == pytest.approx(80.0)
    assert head.familiar_stability.value == pytest.approx(97.5)
    assert head.truth_stability.value == pytest.approx((80.0 + 97.5) / 2)
    assert head.familiarity_gap.value == pytest.approx(((21 - 6) + (22 - 2)) / 2)
    assert head.baseline_ap.value == pytest.approx(1.0)  # scores separate true from false perfectly
    assert head.n_refits == 4 and head.measurable_domains == ["a", "b"]
    assert a.n_true_test == 101 and a.n_baseline_true == 101
    for est in (head.truth_stability, head.familiarity_gap, head.refit_null, a.unfamiliar_excess):
        assert est.ci_low <= est.value <= est.ci_high
    assert head.unfamiliar_stability.ci_low < 80.0 < head.unfamiliar_stability.ci_high
    assert len(draws["truth_stability"]) == 200
    assert not head.warnings


def test_same_seed_same_numbers_other_seed_other_draws():
    pred = _frame("a", 60, {1: 12, 2: 3})
    one = compute_headline(pred, "p", n_boot=100, seed=1)
    two = compute_headline(pred.sample(frac=1.0, random_state=0), "p", n_boot=100, seed=1)
    other = compute_headline(pred, "p", n_boot=100, seed=2)
    assert one[0] == two[0] and one[1] == two[1]  # row order does not matter
    assert one[1]["truth_stability"] != other[1]["truth_stability"]


def test_near_chance_domain_is_not_measurable_and_left_out_of_the_mean():
    good = _frame("a", 60, {1: 13})
    bad = _frame("b", 60, {1: 1})
    rng = np.random.default_rng(0)
    full = bad["refit"] == 0
    bad.loc[full, "score"] = rng.normal(size=int(full.sum()))  # the baseline's scores carry no information
    head, _ = compute_headline(pd.concat([good, bad]), "p", n_boot=50)
    assert head.per_domain["b"].measurable is False
    assert any("near chance" in r for r in head.per_domain["b"].not_measurable)
    assert head.measurable_domains == ["a"]
    # b would look perfectly stable (it retracts no more than a refit); it must not lift the mean.
    assert head.unfamiliar_stability.value == pytest.approx(head.per_domain["a"].unfamiliar_stability.value)


def test_large_refit_null_is_not_measurable_and_no_measurable_domain_gives_no_score():
    n = 40
    frame = _frame("a", n, {1: 2}, n_refits=3)
    # Each baseline refit now drops a different third of the statements: a null far above the bound.
    base_refits = (frame["refit"] > 0) & (frame["kind"] == "true")
    index = frame.loc[base_refits, "id"].str[-4:].astype(int)
    frame.loc[base_refits, "prediction"] = (index % 3) != (frame.loc[base_refits, "refit"] - 1)
    head, draws = compute_headline(frame, "p", n_boot=50)
    dom = head.per_domain["a"]
    assert dom.refit_null.value > 100 * MAX_REFIT_NULL
    assert not dom.measurable and any("refitting alone" in r for r in dom.not_measurable)
    assert (
        head.truth_stability is None
        and head.measurable_domains == []
        and set(draws) == {"baseline_ap", "truth_ap"}
    )
    assert any("no domain is measurable" in w for w in head.warnings)


def test_without_refits_nothing_is_measurable():
    frame = _frame("a", 50, {1: 5}, n_refits=0)
    head, _ = compute_headline(frame, "p", n_boot=20)
    assert head.truth_stability is None and head.per_domain["a"].unfamiliar_excess is None
    assert any("--refits" in r for r in head.per_domain["a"].not_measurable)


def test_unknown_probe_and_missing_task_are_errors():
    pred = _frame("a", 10, {})
    with pytest.raises(ValueError, match="no predictions"):
        compute_headline(pred, "other")
    with pytest.raises(ValueError, match="lack task"):
        compute_headline(pred[pred["task"] != 2], "p")


def test_a_probe_that_only_sees_surface_cues_is_not_measurable():
    # True rows score above the synthetic rows (a surface cue: any network separates those), but true and
    # false statements are interleaved: the baseline AP over all rows is high, the true-vs-false AP is not.
    frame = _frame("a", 80, {1: 10}, n_false=0)
    rows = []
    for i in range(80):
        for task in range(5):
            rows.append(("a", f"a-f{i:04d}", "false", "test", "p", task, 0, 1.5 + i, True))
            rows.append(("a", f"a-s{i:04d}", "synthetic", "test", "p", task, 0, -1.0 - i, False))
    frame = pd.concat([frame, pd.DataFrame(rows, columns=COLUMNS)])
    head, _ = compute_headline(frame, "p", n_boot=50)
    dom = head.per_domain["a"]
    assert dom.baseline_ap.value > dom.chance_ap + 0.15  # looks fine against every Not-True row
    assert dom.truth_ap.value < dom.truth_chance + 0.1 and not dom.measurable
    assert any("true vs false" in r for r in dom.not_measurable)
