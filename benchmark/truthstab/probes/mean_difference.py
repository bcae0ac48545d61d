"""The mean-difference probe (docs/method.md §6): w = mean(x | True) - mean(x | Not-True), unit length.

Inputs are expected standardised (the protocol standardises with training statistics before any probe sees
them). With ``covariance=True`` the direction is Sigma^-1 (mean difference) with Sigma the pooled
within-class covariance plus a ridge (``ridge`` x its mean eigenvalue), which keeps it well posed when
features outnumber samples. ``covariance="auto"`` chooses between the two by 3-fold average precision on
the training data only.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold

from truthstab.metrics import average_precision


def _direction(x: np.ndarray, y: np.ndarray, covariance: bool, ridge: float) -> tuple[np.ndarray, float]:
    """Unit weight vector and midpoint bias from class means (and optionally the pooled covariance)."""
    x1, x0 = x[y], x[~y]
    mu1, mu0 = x1.mean(axis=0), x0.mean(axis=0)
    diff = mu1 - mu0
    if covariance:
        centred = np.concatenate([x1 - mu1, x0 - mu0])
        sigma = centred.T @ centred / max(len(centred) - 2, 1)
        shrink = ridge * float(np.trace(sigma)) / sigma.shape[0]
        sigma[np.diag_indices_from(sigma)] += max(shrink, 1e-12)
        diff = np.linalg.solve(sigma, diff)
    norm = float(np.linalg.norm(diff))
    w = diff / norm if norm > 0 else diff
    b = -float(w @ (mu1 + mu0)) / 2
    return w, b


class MeanDifferenceProbe(ClassifierMixin, BaseEstimator):
    """Mean-difference linear probe; scikit-learn estimator on (n, D) arrays with boolean/0-1 labels.

    Parameters: ``covariance`` (False, True or "auto"), ``ridge`` (relative shrinkage of the pooled
    covariance), ``cv`` (folds for "auto"), ``random_state`` (fold shuffling).
    Learned: ``coef_`` (1, D) unit vector, ``intercept_`` (1,), ``covariance_`` (the choice made),
    ``classes_``.
    """

    input_kind = "last"

    def __init__(
        self, covariance: bool | str = "auto", ridge: float = 0.1, cv: int = 3, random_state: int = 0
    ):
        self.covariance = covariance
        self.ridge = ridge
        self.cv = cv
        self.random_state = random_state

    def _choose_covariance(self, x: np.ndarray, y: np.ndarray) -> bool:
        """Pick covariance yes/no by mean k-fold average precision on the training data (ties: no)."""
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        means = {}
        for option in (False, True):
            aps = []
            for tr, va in folds.split(x, y):
                w, b = _direction(x[tr], y[tr], option, self.ridge)
                aps.append(average_precision(y[va], x[va] @ w + b))
            means[option] = float(np.mean(aps))
        return means[True] > means[False]

    def fit(self, X: np.ndarray, y: np.ndarray) -> MeanDifferenceProbe:
        """Fit on (n, D) features and binary labels (True = 1)."""
        x = np.asarray(X, dtype=np.float64)
        yb = np.asarray(y).astype(bool)
        if yb.all() or not yb.any():
            raise ValueError("mean-difference probe needs both classes in the training labels")
        cov = self.covariance
        if cov == "auto":
            cov = self._choose_covariance(x, yb)
        w, b = _direction(x, yb, bool(cov), self.ridge)
        self.covariance_ = bool(cov)
        self.coef_ = w[None, :]
        self.intercept_ = np.array([b])
        self.classes_ = np.array([False, True])
        self.n_features_in_ = x.shape[1]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Signed score w.x + b (> 0 means True)."""
        return np.asarray(X, dtype=np.float64) @ self.coef_[0] + self.intercept_[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Boolean predictions (True iff the score is positive)."""
        return self.decision_function(X) > 0

    def refit_params(self) -> dict[str, bool]:
        """Constructor parameters that refit with this fit's covariance choice (no cross-validation)."""
        return {"covariance": self.covariance_}

    def hyperparameters(self) -> dict[str, float | int | str | bool]:
        """The hyper-parameters the fit ended with (for the report)."""
        return {"covariance": self.covariance_, "ridge": self.ridge}
