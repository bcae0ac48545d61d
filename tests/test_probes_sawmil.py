"""sAwMIL: our primal solver agrees with the sawmil package's dual QPs; the probe learns bag signals."""

import numpy as np
import pytest
from sawmil import Bag

from truthstab.activations.types import TokenBags
from truthstab.metrics import average_precision
from truthstab.probes.sawmil import (
    SawmilProbe,
    as_token_bags,
    fit_sawmil_reference,
    known_positive_mask,
    select_positive_instances,
)


def _bags(n=120, dim=16, seed=0, pos=2.0, neg=-1.0):
    """Bags whose last two tokens carry the label along dimension 0; other tokens are noise."""
    rng = np.random.default_rng(seed)
    bags, y = [], []
    for i in range(n):
        x = rng.standard_normal((int(rng.integers(4, 9)), dim)).astype(np.float32)
        label = i % 2 == 0
        x[-2:, 0] += pos if label else neg
        bags.append(x)
        y.append(label)
    return bags, np.array(y)


def test_known_positive_mask_marks_the_last_two_tokens():
    mask = known_positive_mask(np.array([3, 1, 4]), 2)
    assert mask.tolist() == [False, True, True, True, False, False, True, True]


def test_selection_rule_falls_back_to_top_eta_when_too_few_known_positives_qualify():
    scores = np.arange(100, dtype=float)
    mask = np.zeros(100, dtype=bool)
    mask[-3:] = True
    assert np.flatnonzero(select_positive_instances(scores, mask, 0.1, 0.01)).tolist() == [97, 98, 99]
    fallback = select_positive_instances(scores, mask, 0.1, 0.05)  # 3 < 5 needed: top 10 instead
    assert np.flatnonzero(fallback).tolist() == list(range(90, 100))


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_primal_agrees_with_the_sawmil_package(C):
    bags, y = _bags()
    ref = fit_sawmil_reference(bags, y, C)
    ours = SawmilProbe(C=C).fit(bags, y)
    cos = ref.coef_ @ ours.coef_[0] / np.linalg.norm(ref.coef_) / np.linalg.norm(ours.coef_[0])
    assert cos > 0.99
    smil_cos = (
        ref.smil_.coef_ @ ours.smil_coef_ / np.linalg.norm(ref.smil_.coef_) / np.linalg.norm(ours.smil_coef_)
    )
    assert smil_cos > 0.99
    ref_pred = ref.decision_function([Bag(X=b.astype(float), y=0.0) for b in bags]) >= 0
    assert np.array_equal(ref_pred, ours.predict(bags))
    assert ours.intercept_[0] == pytest.approx(ref.intercept_, rel=0.05)


def test_probe_searches_C_and_separates_held_out_bags_deterministically():
    bags, y = _bags(n=90, seed=1, pos=4.0, neg=-2.0)
    test_bags, test_y = _bags(n=60, seed=2, pos=4.0, neg=-2.0)
    p = SawmilProbe(random_state=0).fit(bags, y)
    assert p.C_ in p.C_grid and set(p.cv_scores_) == set(p.C_grid)
    # Ranking quality: the bag score orders held-out bags (the threshold is the method's, see the docs).
    assert average_precision(test_y, p.decision_function(test_bags)) > 0.9
    again = SawmilProbe(random_state=0).fit(as_token_bags(bags), y)
    assert np.array_equal(p.coef_, again.coef_)
    # A bag's score is the max over its tokens.
    tb = as_token_bags(test_bags)
    inst = tb.vectors @ p.coef_[0] + p.intercept_[0]
    assert p.decision_function(tb)[3] == pytest.approx(inst[tb.offsets[3] : tb.offsets[4]].max(), rel=1e-5)


def test_bad_bags_are_refused():
    with pytest.raises(ValueError, match="labels for"):
        SawmilProbe(C=1).fit(_bags(n=10)[0], np.array([True, False]))
    with pytest.raises(ValueError, match="both classes"):
        SawmilProbe(C=1).fit(_bags(n=4)[0], np.ones(4, dtype=bool))
    empty = TokenBags(np.zeros((2, 3), np.float32), np.array([0, 2, 2]))
    with pytest.raises(ValueError, match="empty bag"):
        SawmilProbe(C=1).fit(empty, np.array([True, False]))
