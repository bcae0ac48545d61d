"""The sAwMIL probe (sparse-aware multiple-instance SVM, Savcisens & Eliassi-Rad; docs/method.md §6).

Input convention: ``fit(X, y)`` and ``decision_function(X)`` take *bags*: a
:class:`truthstab.activations.types.TokenBags` (flat token vectors + offsets) or a sequence of (n_i, D)
arrays, one per statement, tokens in text order. ``y`` is one boolean label per bag. The last
``n_known_positives`` tokens of every bag are the "known positives": only they may be selected as positive
instances in stage 2 (the reference code's ``intra_bag_mask``).

Stages, as in the ``sawmil`` package (0.2.1):
1. sMIL on the training bags (negative-bag instances as singletons, positive bags as their mean);
2. rank the positive bags' instances by the stage-1 score; instances in the top ``eta`` fraction that are
   known positives become positive examples, all others negative (fallback: the top ``eta`` fraction when
   fewer than ``min_pos_ratio`` qualify);
3. a linear SVM on those instances. A bag's score is the max over its instances of w.x + b.

C is chosen from ``C_grid`` by stratified 3-fold average precision on the training bags with the
one-standard-error rule (the smallest C whose mean AP exceeds the best mean AP minus its standard error).

``SawmilProbe`` solves both stages in the primal (:mod:`truthstab.probes.mil_primal`): linear in the number
of instances. :func:`fit_sawmil_reference` fits the same model through the package's dual QPs (OSQP), for
the agreement test and the benchmark only: it is quadratic in the instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold

from truthstab.activations.types import TokenBags
from truthstab.metrics import average_precision
from truthstab.probes.mil_primal import smil_primal, svm_primal

BagsLike = TokenBags | Sequence[np.ndarray]

#: The C grid of the paper's sAwMIL search.
C_GRID: tuple[float, ...] = (0.05, 0.1, 0.5, 1.0, 10.0)


def as_token_bags(bags: BagsLike) -> TokenBags:
    """TokenBags from TokenBags or a sequence of (n_i, D) arrays (float32, copied only when needed)."""
    if isinstance(bags, TokenBags):
        return bags
    parts = [np.asarray(b, dtype=np.float32) for b in bags]
    if not parts:
        raise ValueError("no bags given")
    if any(p.ndim != 2 or len(p) == 0 for p in parts):
        raise ValueError("every bag must be a non-empty (n_tokens, D) array")
    lengths = np.array([len(p) for p in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return TokenBags(vectors=np.concatenate(parts), offsets=offsets)


def known_positive_mask(lengths: np.ndarray, n_known: int) -> np.ndarray:
    """Flat boolean mask over all instances: True on the last ``n_known`` tokens of every bag."""
    bag_of = np.repeat(np.arange(len(lengths)), lengths)
    ends = np.cumsum(lengths)
    pos_in_bag = np.arange(int(lengths.sum())) - (ends - lengths)[bag_of]
    return pos_in_bag >= (lengths - n_known)[bag_of]


def select_positive_instances(
    scores: np.ndarray, mask: np.ndarray, eta: float, min_pos_ratio: float
) -> np.ndarray:
    """Which positive-bag instances become positive examples in stage 2 (the package's rule, verbatim)."""
    eta = min(max(float(eta), 1e-9), 1.0)
    if scores.size == 0:
        return np.zeros(0, dtype=bool)
    q = float(np.quantile(scores, 1.0 - eta, method="linear"))
    chosen = (scores >= q) & mask
    min_needed = max(1, int(min_pos_ratio * len(scores)))
    if chosen.sum() < min_needed:
        k = min(len(scores), max(min_needed, round(eta * len(scores))))
        chosen = np.zeros_like(chosen)
        chosen[np.argsort(-scores, kind="stable")[:k]] = True
    return chosen


def bag_max(vectors: np.ndarray, offsets: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Score of each bag: max over its instances of w.x + b."""
    inst = vectors @ w.astype(vectors.dtype) + b
    return np.maximum.reduceat(inst.astype(np.float64), offsets[:-1])


@dataclass(frozen=True)
class _Prepared:
    """Training bags rearranged for the two stages."""

    vectors: np.ndarray  # all instances, in bag order
    neg: np.ndarray  # instances of negative bags (stage-1 singletons)
    pos_means: np.ndarray  # mean vector of each positive bag
    pos_sizes: np.ndarray
    pos_x: np.ndarray  # instances of positive bags
    inst_bag_pos: np.ndarray  # per instance: does its bag have label True
    known: np.ndarray  # per positive-bag instance: is it a known positive (last tokens)


class SawmilProbe(ClassifierMixin, BaseEstimator):
    """sAwMIL with a linear kernel, solved in the primal; a scikit-learn estimator on bags.

    Parameters: ``C`` (None: search ``C_grid`` by CV), ``C_grid``, ``eta``, ``min_pos_ratio``,
    ``n_known_positives``, ``scale_C`` (sMIL's per-block scaling), ``cv``, ``random_state``.
    Learned: ``coef_`` (1, D), ``intercept_`` (1,) of the stage-2 SVM, ``C_``, ``cv_scores_`` (mean AP
    per C), ``smil_coef_``, ``classes_``.
    """

    input_kind = "bags"

    def __init__(
        self,
        C: float | None = None,
        C_grid: tuple[float, ...] = C_GRID,
        eta: float = 0.1,
        min_pos_ratio: float = 0.05,
        n_known_positives: int = 2,
        scale_C: bool = True,
        cv: int = 3,
        random_state: int = 0,
    ):
        self.C = C
        self.C_grid = C_grid
        self.eta = eta
        self.min_pos_ratio = min_pos_ratio
        self.n_known_positives = n_known_positives
        self.scale_C = scale_C
        self.cv = cv
        self.random_state = random_state

    # ------------------------------------------------------------------ one fit for one C
    def _prepare(self, bags: TokenBags, y: np.ndarray) -> _Prepared:
        """The C-independent pieces of both stages (computed once per training set, reused along the grid)."""
        lengths = bags.lengths()
        inst_bag_pos = np.repeat(y, lengths)
        sums = np.add.reduceat(bags.vectors, bags.offsets[:-1], axis=0, dtype=np.float64)
        return _Prepared(
            vectors=bags.vectors,
            neg=bags.vectors[~inst_bag_pos],
            pos_means=(sums[y] / lengths[y][:, None]).astype(bags.vectors.dtype),
            pos_sizes=lengths[y],
            pos_x=bags.vectors[inst_bag_pos],
            inst_bag_pos=inst_bag_pos,
            known=known_positive_mask(lengths, self.n_known_positives)[inst_bag_pos],
        )

    def _fit_one(
        self, data: _Prepared, C: float, init: tuple | None = None
    ) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]]:
        """Both stages for one C; returns ((w1, b1), (w2, b2))."""
        stage1 = smil_primal(
            data.neg, data.pos_means, data.pos_sizes, C, self.scale_C, None if init is None else init[0]
        )
        s_pos = data.pos_x @ stage1[0].astype(data.pos_x.dtype) + stage1[1]
        chosen = select_positive_instances(s_pos, data.known, self.eta, self.min_pos_ratio)
        y_inst = np.full(len(data.vectors), -1.0)
        y_inst[data.inst_bag_pos] = np.where(chosen, 1.0, -1.0)
        stage2 = svm_primal(data.vectors, y_inst, C, None if init is None else init[1])
        return stage1, stage2

    def _search_C(self, bags: TokenBags, y: np.ndarray) -> tuple[float, dict[float, float]]:
        """C by k-fold AP with the one-standard-error rule (warm-started along the grid)."""
        grid = sorted(self.C_grid)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        scores = np.zeros((len(grid), self.cv))
        for f, (tr, va) in enumerate(folds.split(np.zeros(len(y)), y)):
            train, valid = self._prepare(bags.subset(tr), y[tr]), bags.subset(va)
            init = None
            for i, C in enumerate(grid):
                init = self._fit_one(train, C, init)
                w2, b2 = init[1]
                scores[i, f] = average_precision(y[va], bag_max(valid.vectors, valid.offsets, w2, b2))
        mean = scores.mean(axis=1)
        se = scores.std(axis=1) / np.sqrt(self.cv)
        best = int(np.argmax(mean))
        chosen = (
            next(i for i in range(len(grid)) if mean[i] > mean[best] - se[best]) if se[best] > 0 else best
        )
        return grid[chosen], {float(C): float(m) for C, m in zip(grid, mean, strict=True)}

    # ------------------------------------------------------------------ estimator API
    def fit(self, X: BagsLike, y: np.ndarray) -> SawmilProbe:
        """Fit on bags (TokenBags or list of (n_i, D) arrays) and one boolean label per bag."""
        bags = as_token_bags(X)
        yb = np.asarray(y).astype(bool)
        if len(yb) != len(bags):
            raise ValueError(f"{len(yb)} labels for {len(bags)} bags")
        if yb.all() or not yb.any():
            raise ValueError("sAwMIL probe needs both classes in the training labels")
        if np.any(bags.lengths() == 0):
            raise ValueError("sAwMIL probe got an empty bag (a statement without tokens)")
        if self.C is None:
            self.C_, self.cv_scores_ = self._search_C(bags, yb)
        else:
            self.C_, self.cv_scores_ = float(self.C), {}
        (w1, b1), (w2, b2) = self._fit_one(self._prepare(bags, yb), self.C_)
        self.smil_coef_, self.smil_intercept_ = w1, b1
        self.coef_ = w2[None, :]
        self.intercept_ = np.array([b2])
        self.classes_ = np.array([False, True])
        self.n_features_in_ = bags.vectors.shape[1]
        return self

    def decision_function(self, X: BagsLike) -> np.ndarray:
        """Score of each bag: max over its tokens of w.x + b (> 0 means True)."""
        bags = as_token_bags(X)
        return bag_max(bags.vectors, bags.offsets, self.coef_[0], float(self.intercept_[0]))

    def predict(self, X: BagsLike) -> np.ndarray:
        """Boolean predictions (True iff the bag score is positive)."""
        return self.decision_function(X) > 0

    def refit_params(self) -> dict[str, float]:
        """Constructor parameters that refit with this fit's chosen C (no C search)."""
        return {"C": self.C_}

    def hyperparameters(self) -> dict[str, float | int | str | bool]:
        """The hyper-parameters the fit ended with (for the report)."""
        return {"C": self.C_, "eta": self.eta, "n_known_positives": self.n_known_positives}


def fit_sawmil_reference(
    bags: BagsLike,
    y: np.ndarray,
    C: float,
    eta: float = 0.1,
    min_pos_ratio: float = 0.05,
    n_known_positives: int = 2,
    solver: str = "osqp",
):
    """The same sAwMIL fitted through the ``sawmil`` package's dual QPs (for agreement tests and benchmarks).

    The package's ``sAwMIL`` cannot be used as is (docs/method.md §6): it drops the solver in stage 1 (calls
    Gurobi), and its "none"-normalised bag kernel sums a bag's instances while its weight vector uses their
    mean. We build the stages ourselves with a mean-embedding linear bag kernel, which is the sMIL objective
    the docs describe. Returns the fitted ``sawmil.sAwMIL`` (``coef_``, ``intercept_``, ``decision_function``).
    """
    from sawmil import SVM, Bag, sAwMIL, sMIL
    from sawmil.bag_kernels import WeightedMeanBagKernel
    from sawmil.kernels import Linear

    class _MeanLinearBagKernel(WeightedMeanBagKernel):
        """K(Bi, Bj) = mean(Bi) . mean(Bj): the linear bag kernel of bag means."""

        def __call__(self, bags_x, bags_y):
            mx = np.stack([b.X.mean(axis=0) for b in bags_x])
            my = mx if bags_y is bags_x else np.stack([b.X.mean(axis=0) for b in bags_y])
            return mx @ my.T

    tb = as_token_bags(bags)
    yb = np.asarray(y).astype(bool)
    lengths = tb.lengths()
    mask = known_positive_mask(lengths, n_known_positives).astype(float)
    blist = [
        Bag(
            X=tb.bag(i).astype(np.float64),
            y=float(yb[i]),
            intra_bag_mask=mask[tb.offsets[i] : tb.offsets[i + 1]],
        )
        for i in range(len(tb))
    ]
    smil = sMIL(C=C, kernel=Linear(), solver=solver, normalizer="none", scale_C=True)
    smil.bag_kernel = _MeanLinearBagKernel(inst_kernel=Linear(), normalizer="none")
    smil.fit(blist)
    model = sAwMIL(C=C, kernel=Linear(), solver=solver, eta=eta, min_pos_ratio=min_pos_ratio)
    model.smil_ = smil
    x_sil, y_sil = model.__rank_and_filter__(blist)
    sil = SVM(C=C, kernel=Linear(), solver=solver)
    sil.fit(x_sil, y_sil)
    model.sil_ = sil
    model.coef_ = sil.coef_.ravel()
    model.intercept_ = float(sil.intercept_)
    return model
