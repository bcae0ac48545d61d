"""Logistic regression on the last token: the common baseline probe of the probing literature.

The inverse regularisation strength C is chosen among ``Cs`` by stratified 3-fold average precision on the
training data (scikit-learn's LogisticRegressionCV, warm-started along the C path, so the search costs little
more than one fit). Inputs are expected standardised.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits


class LogisticProbe(ClassifierMixin, BaseEstimator):
    """L2 logistic-regression probe; scikit-learn estimator on (n, D) arrays with boolean/0-1 labels.

    Learned: ``coef_`` (1, D), ``intercept_`` (1,), ``C_`` (the chosen C), ``classes_``.
    """

    input_kind = "last"

    def __init__(
        self,
        Cs: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0),
        cv: int = 3,
        max_iter: int = 500,
        random_state: int = 0,
        C: float | None = None,
    ):
        self.C = C
        self.Cs = Cs
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticProbe:
        """Fit on (n, D) features and binary labels (True = 1)."""
        x = np.asarray(X, dtype=np.float64)
        yb = np.asarray(y).astype(bool)
        if yb.all() or not yb.any():
            raise ValueError("logistic probe needs both classes in the training labels")
        if self.C is not None:
            # A fixed C (a refit of an earlier fit's choice): one solve, no search.
            model = LogisticRegression(C=float(self.C), max_iter=self.max_iter, tol=1e-4)
        else:
            model = LogisticRegressionCV(
                Cs=list(self.Cs),
                cv=StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state),
                scoring="average_precision",
                max_iter=self.max_iter,
                tol=1e-4,
            )
        # One BLAS thread: lbfgs does matrix-vector products, which multi-threaded OpenBLAS slows down.
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            # scikit-learn 1.8+ announces changes of defaults we do not rely on (l1_ratios, fitted attributes).
            warnings.simplefilter("ignore", FutureWarning)
            model.fit(x, yb.astype(int))
        self.C_ = float(self.C) if self.C is not None else float(np.ravel(model.C_)[0])
        self.coef_ = np.asarray(model.coef_, dtype=np.float64)
        self.intercept_ = np.asarray(model.intercept_, dtype=np.float64)
        self.classes_ = np.array([False, True])
        self.n_features_in_ = x.shape[1]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Signed score w.x + b (> 0 means True)."""
        return np.asarray(X, dtype=np.float64) @ self.coef_[0] + self.intercept_[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Boolean predictions (True iff the score is positive)."""
        return self.decision_function(X) > 0

    def refit_params(self) -> dict[str, float]:
        """Constructor parameters that refit with this fit's chosen C (no search: refits stay cheap)."""
        return {"C": self.C_}

    def hyperparameters(self) -> dict[str, float | int | str | bool]:
        """The hyper-parameters the fit ended with (for the report)."""
        return {"C": self.C_}
