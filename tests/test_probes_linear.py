"""Mean-difference and logistic probes, and the probe registry."""

import numpy as np
import pytest
from sklearn.base import clone

from truthstab.errors import ProbeError
from truthstab.probes import LogisticProbe, MeanDifferenceProbe, input_kind, make_probe


def test_mean_difference_by_hand():
    x = np.array([[2.0, 0.0], [4.0, 2.0], [0.0, 0.0], [0.0, -2.0]])
    y = np.array([1, 1, 0, 0])
    p = MeanDifferenceProbe(covariance=False).fit(x, y)
    # mean(True) = (3, 1), mean(Not-True) = (0, -1): w = (3, 2)/sqrt(13), b = -w.(1.5, 0)
    w = np.array([3.0, 2.0]) / np.sqrt(13)
    assert np.allclose(p.coef_[0], w)
    assert p.intercept_[0] == pytest.approx(-w @ np.array([1.5, 0.0]))
    assert list(p.predict(x)) == [True, True, False, False]


def test_mean_difference_covariance_variant_whitens_and_stays_posed_with_more_features_than_rows():
    rng = np.random.default_rng(0)
    # Noise correlated along (1, 1); the signal is along (1, -1) plus a correlated nuisance.
    n = 400
    z = rng.standard_normal(n)
    y = rng.random(n) < 0.5
    x = np.c_[z * 3 + np.where(y, 1, -1), z * 3]
    plain = MeanDifferenceProbe(covariance=False).fit(x, y)
    whitened = MeanDifferenceProbe(covariance=True, ridge=1e-6).fit(x, y)
    assert abs(whitened.coef_[0] @ np.array([1, -1]) / np.sqrt(2)) > 0.99  # w ~ Sigma^-1 diff
    acc = lambda p: np.mean(p.predict(x) == y)  # noqa: E731
    assert acc(whitened) > acc(plain) + 0.2
    assert MeanDifferenceProbe(covariance="auto").fit(x, y).covariance_ is True
    wide = rng.standard_normal((10, 50))
    p = MeanDifferenceProbe(covariance=True).fit(wide, np.arange(10) % 2)
    assert np.isfinite(p.coef_).all() and np.linalg.norm(p.coef_) == pytest.approx(1.0)


def test_logistic_probe_chooses_C_on_train_folds_and_is_deterministic():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 5))
    y = x[:, 0] + 0.3 * rng.standard_normal(200) > 0
    a = LogisticProbe(random_state=3).fit(x, y)
    b = clone(a).fit(x, y)
    assert a.C_ in a.Cs and np.array_equal(a.coef_, b.coef_)
    assert np.mean(a.predict(x) == y) > 0.9


def test_registry_names_and_plugins():
    assert isinstance(make_probe("mean-diff", 5), MeanDifferenceProbe)
    assert make_probe("logistic", 5).random_state == 5
    assert input_kind(make_probe("sawmil")) == "bags"
    plugin = make_probe("sklearn.linear_model:RidgeClassifier", 2)
    assert type(plugin).__name__ == "RidgeClassifier" and input_kind(plugin) == "last"
    for bad, msg in [
        ("nope", "unknown probe"),
        ("../x:Y", "unknown probe"),
        ("no_such_module_xyz:Probe", "cannot import"),
        ("sklearn.linear_model:NoSuchClass", "has no class"),
        ("sklearn.preprocessing:StandardScaler", "lacks decision_function"),
    ]:
        with pytest.raises(ProbeError, match=msg):
            make_probe(bad)
