"""Benchmarks of the probe stage (`make bench`): synthetic activations of the real shape.

Real shape: SmolLM2-135M on the default release: 3 domains x ~8000 statements, 576 dimensions, 30 layers
(all swept), token bags of ~12 tokens at the chosen layer, 3 probes, 5 tasks, 1000 bootstrap resamples.
TRUTHSTAB_BENCH_N sets the statements per domain (default 8000). Results are printed as ratios:
- the whole stage vs the reference's ONE sAwMIL (domain, task) fit (over 20 minutes on 2 CPU cores,
  docs/method.md §12 defect 8);
- our primal sAwMIL vs the sawmil package's dual QPs on the same small problem.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from truthstab.activations.types import ActivationSet, TokenBags
from truthstab.probes.sawmil import SawmilProbe, fit_sawmil_reference

pytestmark = pytest.mark.bench

N = int(os.environ.get("TRUTHSTAB_BENCH_N", "8000"))
DIM, LAYERS, CHOSEN = 576, 30, 15
REFERENCE_ONE_FIT_S = 20 * 60
SHARES = {"true": 0.3, "false": 0.3, "synthetic": 0.25, "fictional": 0.15}


def _domain(seed: int, n: int = N) -> ActivationSet:
    """Clustered last-token vectors (one shared array for every layer, to keep memory at real-run size)."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(SHARES), size=n, p=list(SHARES.values()))
    centre = {k: rng.standard_normal(DIM) * 0.15 for k in SHARES}
    last = np.stack([centre[k] for k in kinds]) + rng.standard_normal((n, DIM))
    last = last.astype(np.float32)
    lengths = rng.integers(8, 17, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    vectors = rng.standard_normal((int(offsets[-1]), DIM)).astype(np.float32)
    vectors[offsets[1:] - 1] = last
    vectors[offsets[1:] - 2] = last
    frame = pd.DataFrame(
        {
            "id": [f"s{seed}-{i}" for i in range(n)],
            "kind": kinds,
            "fiction_truth": np.where(kinds == "fictional", rng.choice(["true", "false"], n), ""),
            "split": rng.choice(["train", "calibration", "test"], size=n, p=[0.5, 0.25, 0.25]),
        }
    )
    per_layer = dict.fromkeys(range(LAYERS), last)
    return ActivationSet(
        frame, tuple(range(LAYERS)), per_layer, per_layer, {CHOSEN: TokenBags(vectors, offsets)}
    )


@pytest.fixture(scope="module")
def acts():
    return {d: _domain(i) for i, d in enumerate(("cities", "medicine", "definitions"))}


def test_bench_probe_stage_real_shape(benchmark, acts):
    """The whole stage: layer sweep over 30 layers, 3 probes x 5 tasks x 3 domains, bootstrap 1000."""
    from truthstab.protocol import run_protocol, select_layers

    def stage():
        t0 = time.perf_counter()
        select_layers(acts, seed=0)
        sweep = time.perf_counter() - t0
        report = run_protocol(
            acts, ["sawmil", "mean-diff", "logistic"], dict.fromkeys(acts, CHOSEN), sweep=False
        )
        return sweep, report

    sweep, report = benchmark.pedantic(stage, rounds=1, iterations=1)
    total = benchmark.stats.stats.max
    fit_s = {
        p: sum(t.fit_seconds for r in report.results if r.probe == p for t in r.tasks) for p in report.probes
    }
    benchmark.extra_info.update(
        {"sweep_s": sweep, "fit_s": fit_s, "ratio_vs_reference_one_fit": total / REFERENCE_ONE_FIT_S}
    )
    print(f"\nprobe stage, {N} statements x 3 domains: {total:.1f} s (sweep {sweep:.1f} s); fits {fit_s}")
    print(f"whole stage / reference's ONE sAwMIL fit (20 min): {total / REFERENCE_ONE_FIT_S:.3f}")
    assert len(report.results) == 9


def test_bench_sawmil_fits_all_15(benchmark, acts):
    """sAwMIL alone: 3 domains x 5 tasks, C searched by 3-fold AP each (what the reference needs 20+ min for once)."""
    from truthstab.protocol import run_protocol

    report = benchmark.pedantic(
        lambda: run_protocol(acts, ["sawmil"], dict.fromkeys(acts, CHOSEN), sweep=False, n_bootstrap=10),
        rounds=1,
        iterations=1,
    )
    fits = [t.fit_seconds for r in report.results for t in r.tasks]
    benchmark.extra_info.update({"fits": len(fits), "fit_s_total": sum(fits), "fit_s_max": max(fits)})
    print(
        f"\nsAwMIL: {len(fits)} fits in {sum(fits):.1f} s (max {max(fits):.1f} s); "
        f"all 15 / reference's one: {sum(fits) / REFERENCE_ONE_FIT_S:.3f}"
    )
    assert len(fits) == 15


def test_bench_primal_vs_sawmil_package(benchmark):
    """Same small problem, same C: the package's dual QPs (OSQP) vs our primal solver; reports the ratio."""
    rng = np.random.default_rng(0)
    bags, y = [], []
    for i in range(200):
        x = rng.standard_normal((int(rng.integers(6, 13)), 64)).astype(np.float32)
        x[-2:, 0] += 2.0 if i % 2 == 0 else -1.0
        bags.append(x)
        y.append(i % 2 == 0)
    y = np.array(y)
    t0 = time.perf_counter()
    fit_sawmil_reference(bags, y, C=1.0)
    package_s = time.perf_counter() - t0
    benchmark.pedantic(lambda: SawmilProbe(C=1.0).fit(bags, y), rounds=3, iterations=1)
    primal_s = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        {"package_s": package_s, "primal_s": primal_s, "speedup": package_s / primal_s}
    )
    print(f"\nsawmil package {package_s:.2f} s vs primal {primal_s:.3f} s: {package_s / primal_s:.0f}x")


def test_bench_refits_cost(benchmark, acts):
    """The default probes (mean-diff, logistic) at the real shape, with the default refits vs none.

    Refits reuse each task's chosen hyper-parameters (no search), so R refits cost far less than R stages.
    Printed as the ratio of the stage with refits to the stage without, both measured here.
    """
    from truthstab.fitaware import N_REFITS
    from truthstab.protocol import run_protocol

    layers = dict.fromkeys(acts, CHOSEN)
    probes = ["mean-diff", "logistic"]
    t0 = time.perf_counter()
    run_protocol(acts, probes, layers, sweep=False, n_refits=0)
    without = time.perf_counter() - t0
    report = benchmark.pedantic(
        lambda: run_protocol(acts, probes, layers, sweep=False, n_refits=N_REFITS), rounds=1, iterations=1
    )
    with_refits = benchmark.stats.stats.max
    refit_s = {p: sum(r.refits.fit_seconds for r in report.results if r.probe == p) for p in probes}
    benchmark.extra_info.update(
        {
            "without_refits_s": without,
            "with_refits_s": with_refits,
            "refit_s": refit_s,
            "ratio": with_refits / without,
        }
    )
    print(
        f"\nprobe stage, {N} statements x 3 domains, {probes}: {without:.1f} s without refits, "
        f"{with_refits:.1f} s with {N_REFITS} refits (ratio {with_refits / without:.2f}); refit time {refit_s}"
    )
    assert all(r.refits is not None and r.refits.n_refits == N_REFITS for r in report.results)
