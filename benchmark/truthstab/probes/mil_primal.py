"""Linear hinge-loss problems of sAwMIL solved in the primal (docs/method.md §6).

The ``sawmil`` package solves sMIL and the instance SVM through their dense dual QPs, whose size grows with
the square of the number of instances (18,000 token vectors for one domain: hours and gigabytes). With a
linear kernel both problems are, in the primal,

    minimise  1/2 ||w||^2 + sum_i c_i * hinge(m_i - y_i (w . z_i + b))

with a per-example weight c_i and margin m_i (the same objective the package's dual encodes). We minimise
it with L-BFGS on a Huber-smoothed hinge, tightening the smoothing width in a few continuation steps; each
step costs two matrix-vector products, so the work grows linearly with the number of instances. A test shows
the solution agrees with the package's dual solution on a small problem.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

#: Continuation schedule of the Huber smoothing width (the last one is close to the exact hinge).
SMOOTHING: tuple[float, ...] = (0.5, 0.1, 0.02)


def _objective(
    theta: np.ndarray,
    blocks: Sequence[np.ndarray],
    y: np.ndarray,
    c: np.ndarray,
    margin: np.ndarray,
    h: float,
) -> tuple[float, np.ndarray]:
    """Value and gradient of the smoothed primal objective at theta = (w, b)."""
    w, b = theta[:-1], theta[-1]
    w32 = w.astype(blocks[0].dtype, copy=False)
    f = np.concatenate([blk @ w32 for blk in blocks]).astype(np.float64) + b
    t = margin - y * f
    lin = t > h
    quad = (t > 0) & ~lin
    loss = np.where(lin, t - h / 2, np.where(quad, t * t / (2 * h), 0.0))
    slope = np.where(lin, 1.0, np.where(quad, t / h, 0.0))
    g_f = -(c * slope * y)
    grad_w = w.copy()
    start = 0
    for blk in blocks:
        stop = start + blk.shape[0]
        grad_w += (blk.T @ g_f[start:stop].astype(blk.dtype)).astype(np.float64)
        start = stop
    value = 0.5 * float(w @ w) + float(c @ loss)
    return value, np.append(grad_w, g_f.sum())


def _solve(
    blocks: Sequence[np.ndarray],
    y: np.ndarray,
    c: np.ndarray,
    margin: np.ndarray,
    theta: np.ndarray,
    max_iter: int,
) -> np.ndarray:
    """L-BFGS through the smoothing schedule, from theta."""
    for h in SMOOTHING:
        res = minimize(
            _objective,
            theta,
            args=(blocks, y, c, margin, h),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "ftol": 1e-8, "gtol": 1e-5},
        )
        theta = res.x
    return theta


def _slack(blocks: Sequence[np.ndarray], y: np.ndarray, margin: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """t_i = margin_i - y_i (w.z_i + b): an example with t <= 0 contributes neither loss nor gradient."""
    w32 = theta[:-1].astype(blocks[0].dtype)
    f = np.concatenate([blk @ w32 for blk in blocks]).astype(np.float64) + theta[-1]
    return margin - y * f


def fit_weighted_hinge(
    blocks: Sequence[np.ndarray],
    y: np.ndarray,
    c: np.ndarray,
    margin: np.ndarray,
    init: tuple[np.ndarray, float] | None = None,
    max_iter: int = 60,
    max_rounds: int = 8,
) -> tuple[np.ndarray, float]:
    """Minimise 1/2||w||^2 + sum_i c_i hinge(margin_i - y_i (w.z_i + b)) over (w, b).

    ``blocks`` are row blocks of the design matrix (stacked in order: the rows of ``y``, ``c`` and
    ``margin``), so callers need not copy data into one array. ``y`` is +-1. ``init`` warm-starts the
    solver (for example from the previous C of a search). Returns (w, b).

    Working sets: examples far on the correct side of their margin (t < -1 at the current point) are left
    out of the next solve; after it, every example is checked and the solve repeats with the violators
    added until none is outside. An example with t <= 0 has zero loss and gradient, so the final answer is
    that of the full problem; only the cost shrinks.
    """
    # One BLAS thread: the products here are matrix-vector (memory-bound), and multi-threaded OpenBLAS
    # spin-waits; on a shared 2-core machine a fit was 80x slower with 2 threads than with 1.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_weighted_hinge(blocks, y, c, margin, init, max_iter, max_rounds)


def _fit_weighted_hinge(
    blocks: Sequence[np.ndarray],
    y: np.ndarray,
    c: np.ndarray,
    margin: np.ndarray,
    init: tuple[np.ndarray, float] | None,
    max_iter: int,
    max_rounds: int,
) -> tuple[np.ndarray, float]:
    """:func:`fit_weighted_hinge` without the thread limit."""
    dim = blocks[0].shape[1]
    y = np.asarray(y, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    margin = np.asarray(margin, dtype=np.float64)
    if init is None:
        # A cheap first pass on all examples gives a point from which to pick the working set.
        theta = np.zeros(dim + 1)
        res = minimize(
            _objective,
            theta,
            args=(blocks, y, c, margin, SMOOTHING[0]),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 15},
        )
        theta = res.x
    else:
        theta = np.append(np.asarray(init[0], np.float64), float(init[1]))
    starts = np.cumsum([0] + [b.shape[0] for b in blocks])
    active = _slack(blocks, y, margin, theta) > -1.0
    for _ in range(max_rounds):
        idx = np.flatnonzero(active)
        sub = [
            blk[idx[(idx >= s) & (idx < e)] - s]
            for blk, s, e in zip(blocks, starts[:-1], starts[1:], strict=True)
        ]
        sub = [b for b in sub if len(b)] or [blocks[0][:0]]
        theta = _solve(sub, y[idx], c[idx], margin[idx], theta, max_iter)
        outside = (_slack(blocks, y, margin, theta) > 0) & ~active
        if not outside.any():
            break
        active |= outside | (_slack(blocks, y, margin, theta) > -1.0)
    return theta[:-1].copy(), float(theta[-1])


def smil_primal(
    neg_instances: np.ndarray,
    pos_means: np.ndarray,
    pos_sizes: np.ndarray,
    C: float,
    scale_C: bool = True,
    init: tuple[np.ndarray, float] | None = None,
) -> tuple[np.ndarray, float]:
    """Stage 1 of sAwMIL, sparse MIL (Bunescu & Mooney 2007) with a linear kernel, in the primal.

    Every instance of a negative bag is its own example (label -1, margin 1, weight C/S_n); every positive
    bag is one example, its mean vector (label +1, margin 1 - 2/|B|, weight C/B_p), as in the ``sawmil``
    package's dual (linear term 2/|B| - 1).
    """
    s_n, b_p = len(neg_instances), len(pos_means)
    ic, bc = (C / max(s_n, 1), C / max(b_p, 1)) if scale_C else (C, C)
    y = np.concatenate([-np.ones(s_n), np.ones(b_p)])
    c = np.concatenate([np.full(s_n, ic), np.full(b_p, bc)])
    margin = np.concatenate([np.ones(s_n), 1.0 - 2.0 / np.maximum(pos_sizes.astype(np.float64), 1.0)])
    return fit_weighted_hinge([neg_instances, pos_means.astype(neg_instances.dtype)], y, c, margin, init)


def svm_primal(
    x: np.ndarray, y: np.ndarray, C: float, init: tuple[np.ndarray, float] | None = None
) -> tuple[np.ndarray, float]:
    """Stage 2 of sAwMIL: a standard soft-margin linear SVM (weight C on every instance) in the primal."""
    n = len(x)
    return fit_weighted_hinge([x], np.asarray(y, np.float64), np.full(n, float(C)), np.ones(n), init)
