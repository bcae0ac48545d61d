"""Text-only surface-cue baselines: how well the words alone, with no language model, tell the kinds apart.

If a bag of character n-grams, the statement's length, or the mere word "not" separates two groups that
the protocol relabels, a probe on a model's activations can separate them the same way, and a score
built on that separation measures the data, not the model. Each baseline is trained on the release's
train split and scored on its test split, seeded and deterministic (liblinear, fixed features).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

#: Seed of every classifier (liblinear shuffles its coordinates).
SEED = 0
#: Decimal places of every reported figure.
DIGITS = 4
#: Baselines in report order.
BASELINES: tuple[str, ...] = ("char", "word", "length", "not")
_NOT = re.compile(r"\bnot\b", re.IGNORECASE)


@dataclass(frozen=True)
class Task:
    """A binary question over some rows of a domain: which rows, and which of them are positive."""

    name: str
    rows: Callable[[pd.DataFrame], pd.Series]
    positive: Callable[[pd.DataFrame], pd.Series]


def _kinds(*kinds: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: df["kind"].isin(kinds)


#: The groups a probe must not tell apart by surface alone (docs/method.md §2, §7).
TASKS: tuple[Task, ...] = (
    Task("true_vs_false", _kinds("true", "false"), lambda df: df["kind"] == "true"),
    Task("true_vs_not_true", lambda df: df["kind"].notna(), lambda df: df["kind"] == "true"),
    Task("synthetic_vs_real", _kinds("true", "false", "synthetic"), lambda df: df["kind"] == "synthetic"),
    Task("fictional_vs_real", _kinds("true", "false", "fictional"), lambda df: df["kind"] == "fictional"),
    Task("fiction_truth", _kinds("fictional"), lambda df: df["fiction_truth"] == "true"),
)


class CueScore(BaseModel):
    """One baseline on one task of one domain, scored on the test split (figures rounded to ``DIGITS``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    baseline: str
    n_train: int
    n_test: int
    positive_share: float | None  # of the test rows: the AP of a classifier at chance
    auc: float | None  # None when train or test lacks one of the two classes
    ap: float | None
    #: How far the AUC is from chance, either way: a reliably wrong classifier is a cue too.
    distance: float | None


def rounded(value: float | None) -> float | None:
    """A figure as the report stores it: rounded, so that the verdict and the JSON agree on every machine."""
    if value is None or not math.isfinite(value):
        return None  # JSON has no NaN, and a figure that is not finite was not measured
    return round(float(value), DIGITS)


def _lengths(texts: list[str]) -> np.ndarray:
    """Characters and whitespace-separated words, standardised later by the train rows."""
    return np.array([[len(t), len(t.split())] for t in texts], dtype=float)


def _features(baseline: str, train: list[str], test: list[str]):
    """(train matrix, test matrix) of one baseline; vectorisers are fitted on the train texts only."""
    if baseline in ("char", "word"):
        vectoriser = TfidfVectorizer(
            analyzer=baseline,
            ngram_range=(2, 5) if baseline == "char" else (1, 2),
            sublinear_tf=True,
            min_df=2,  # an n-gram of one training statement cannot generalise; dropping it halves the work
            dtype=np.float64,
        )
        return vectoriser.fit_transform(train), vectoriser.transform(test)
    if baseline == "length":
        x_train, x_test = _lengths(train), _lengths(test)
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0
        return (x_train - mean) / std, (x_test - mean) / std
    if baseline == "not":
        flag = lambda texts: np.array([[float(bool(_NOT.search(t)))] for t in texts])  # noqa: E731
        return flag(train), flag(test)
    raise ValueError(f"unknown baseline {baseline!r}")


def _score(x_train, y_train: np.ndarray, x_test, y_test: np.ndarray) -> tuple[float | None, float | None]:
    """Test AUC and AP of a logistic regression fitted on the train rows (None: a class is missing)."""
    if len(set(y_train)) < 2 or len(set(y_test)) < 2:
        return None, None
    # The dual problem is the cheap one when features outnumber rows (n-grams: ten times faster here,
    # the same AUC to four decimals); the primal when they do not (length, "not").
    dual = x_train.shape[1] > x_train.shape[0]
    model = LogisticRegression(solver="liblinear", C=1.0, dual=dual, random_state=SEED, max_iter=1000)
    model.fit(x_train, y_train)
    scores = model.decision_function(x_test)
    return float(roc_auc_score(y_test, scores)), float(average_precision_score(y_test, scores))


def _rows(matrix, mask: np.ndarray):
    return matrix[mask] if sparse.issparse(matrix) else matrix[mask, :]


def domain_cues(train: pd.DataFrame, test: pd.DataFrame) -> list[CueScore]:
    """Every baseline on every task of one domain (rows of its train and test splits)."""
    out: list[CueScore] = []
    for baseline in BASELINES:
        # One vectoriser per baseline, fitted on all train statements: unsupervised, so sharing it
        # across tasks leaks no label and costs a fifth of fitting it per task.
        x_train, x_test = _features(baseline, train["statement"].tolist(), test["statement"].tolist())
        for task in TASKS:
            in_train, in_test = task.rows(train).to_numpy(), task.rows(test).to_numpy()
            y_train = task.positive(train)[in_train].to_numpy()
            y_test = task.positive(test)[in_test].to_numpy()
            auc, ap = _score(_rows(x_train, in_train), y_train, _rows(x_test, in_test), y_test)
            auc = rounded(auc)
            out.append(
                CueScore(
                    task=task.name,
                    baseline=baseline,
                    n_train=len(y_train),
                    n_test=len(y_test),
                    positive_share=rounded(y_test.mean()) if len(y_test) else None,
                    auc=auc,
                    ap=rounded(ap),
                    distance=None if auc is None else rounded(max(auc, 1.0 - auc)),
                )
            )
    return out
