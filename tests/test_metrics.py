"""Metrics (docs/method.md §8): hand-computed cases and agreement with scikit-learn on resampled data."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, average_precision_score, matthews_corrcoef, roc_auc_score

from truthstab import metrics as M


def test_flip_counts_by_hand():
    p0 = np.array([True, True, False, False, True])
    pk = np.array([True, False, True, False, False])
    r = M.flip_counts(p0, pk)
    assert int(r["retraction_count"]) == 2 and int(r["expansion_count"]) == 1
    assert float(r["retraction_rate_all"]) == pytest.approx(2 / 5)
    assert float(r["retraction_rate_base"]) == pytest.approx(2 / 3)
    assert float(r["expansion_rate_all"]) == pytest.approx(1 / 5)
    assert float(r["expansion_rate_base"]) == pytest.approx(1 / 2)


def test_flip_rate_with_empty_denominator_is_nan_not_zero():
    r = M.flip_counts(np.array([True, True]), np.array([True, False]))
    assert np.isnan(r["expansion_rate_base"])  # no baseline-Not-True statement


def test_weighted_quality_equals_sklearn_on_resamples():
    rng = np.random.default_rng(3)
    y = rng.random(60) < 0.4
    scores = np.round(rng.standard_normal(60) + y, 1)  # rounding makes ties between statements
    weights = M.bootstrap_weights(60, 5, seed=1)
    got = M.weighted_quality(y, scores, weights)
    for b in range(5):
        idx = np.repeat(np.arange(60), weights[b].astype(int))
        yb, sb = y[idx], scores[idx]
        assert got["accuracy"][b] == pytest.approx(accuracy_score(yb, sb > 0))
        assert got["roc_auc"][b] == pytest.approx(roc_auc_score(yb, sb))
        assert got["average_precision"][b] == pytest.approx(average_precision_score(yb, sb))
        assert got["mcc"][b] == pytest.approx(matthews_corrcoef(yb, sb > 0))


def test_bootstrap_weights_are_seeded_and_are_resamples():
    a, b = M.bootstrap_weights(50, 100, seed=7), M.bootstrap_weights(50, 100, seed=7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, M.bootstrap_weights(50, 100, seed=8))
    assert np.all(a.sum(axis=1) == 50)


def test_percentile_interval_brackets_the_samples():
    lo, hi = M.percentile_interval(np.arange(1001, dtype=float))
    assert lo == pytest.approx(25.0) and hi == pytest.approx(975.0)
    assert M.percentile_interval(np.array([np.nan])) == (None, None)


def test_sliced_wasserstein_of_a_shift_is_the_mean_projected_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((200, 5))
    shift = np.array([3.0, 0, 0, -1.0, 0])
    dirs = M.random_directions(5, 128, seed=0)
    assert M.sliced_wasserstein(a, a, dirs) == pytest.approx(0.0)
    assert M.sliced_wasserstein(a, a + shift, dirs) == pytest.approx(np.mean(np.abs(dirs @ shift)))
    assert np.array_equal(M.random_directions(5, 128, 4), M.random_directions(5, 128, 4))


def test_rotation_and_bias_shift():
    assert M.rotation_cosine(np.array([[1.0, 0.0]]), np.array([2.0, 0.0])) == pytest.approx(1.0)
    assert M.rotation_cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(np.sqrt(0.5))
    assert M.bias_shift(np.array([0.5]), -0.25) == pytest.approx(0.75)


def test_conformal_coverage_on_exchangeable_data():
    rng = np.random.default_rng(1)
    y = rng.random(4000) < 0.5
    s = rng.standard_normal(4000) + 1.5 * np.where(y, 1, -1)
    thr = M.conformal_threshold(s[:2000], y[:2000], alpha=0.1)
    m = M.conformal_metrics(s[2000:], y[2000:], thr)
    assert 0.88 <= m["coverage"] <= 0.93
    assert 0 < m["abstention_rate"] < 1
    assert m["selective_accuracy"] > 0.9
