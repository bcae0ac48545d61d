"""Headline scores on constructed predictions whose answer is known by hand."""

import numpy as np
import pandas as pd
import pytest

from truthstab.headline import compute_headline


def _frame(domain: str, n_true: int, retract: dict[int, int], n_false: int = 40) -> pd.DataFrame:
    """n_true true test statements, all True at baseline; task k retracts the first retract[k] of them."""
    rows = []
    for i in range(n_true):
        for task in range(5):
            pred = not (i < retract.get(task, 0))
            rows.append((domain, f"{domain}-t{i:04d}", "true", "test", "p", task, 1.0 + i, pred))
    for i in range(n_false):
        for task in range(5):
            rows.append((domain, f"{domain}-f{i:04d}", "false", "test", "p", task, -1.0 - i, False))
    return pd.DataFrame(
        rows, columns=["domain", "id", "kind", "split", "probe", "task", "score", "prediction"]
    )


def test_rates_match_hand_counts_and_average_over_domains():
    pred = pd.concat([_frame("a", 100, {1: 20, 2: 5, 4: 0}), _frame("b", 50, {1: 10, 2: 0, 4: 1})])
    head, draws = compute_headline(pred, "p", n_boot=200, seed=3)
    # domain a: syn 20 %, fic 5 %; domain b: syn 20 %, fic 0 %, noise 2 %
    assert head.per_domain["a"].unfamiliar_stability.value == pytest.approx(80.0)
    assert head.per_domain["a"].familiar_stability.value == pytest.approx(95.0)
    assert head.per_domain["b"].noise_control.value == pytest.approx(2.0)
    assert head.unfamiliar_stability.value == pytest.approx(80.0)
    assert head.familiar_stability.value == pytest.approx(97.5)
    assert head.truth_stability.value == pytest.approx((80.0 + 97.5) / 2)
    assert head.familiarity_gap.value == pytest.approx(17.5)
    assert head.baseline_ap.value == pytest.approx(1.0)  # scores separate true from false perfectly
    assert head.per_domain["a"].n_true_test == 100
    for est in (head.truth_stability, head.familiarity_gap, head.noise_control):
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


def test_near_chance_baseline_is_warned():
    pred = _frame("a", 50, {})
    rng = np.random.default_rng(0)
    pred["score"] = rng.normal(size=len(pred))  # scores carry no information
    head, _ = compute_headline(pred, "p", n_boot=50)
    assert any("near chance" in w for w in head.warnings)


def test_unknown_probe_and_missing_task_are_errors():
    pred = _frame("a", 10, {})
    with pytest.raises(ValueError, match="no predictions"):
        compute_headline(pred, "other")
    with pytest.raises(ValueError, match="lack task"):
        compute_headline(pred[pred["task"] != 2], "p")
