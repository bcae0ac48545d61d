"""Validation run of the fit-aware headline on a real model's cached activations (docs/method.md §13).

For each probe it reports, per domain, the refit null, the baseline AP against chance and the fit-aware
headline; then it re-runs the probe stage on the same activations with bfloat16-size relative noise (what
another machine does to the last digits) and with shuffled training labels (a probe that knows nothing),
and reports how far each headline value moved against its CI half-width. Activations come from the store
(`truthstab score` or `truthstab activations extract` fill it); nothing is written but the JSON summary.

    python scripts/fit_aware_validation.py smollm2-135m --out docs/validation/smollm2-135m.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from truthstab.activations.types import ActivationSet
from truthstab.data.registry import get_release, load_frame
from truthstab.fitaware import N_REFITS
from truthstab.headline import compute_headline
from truthstab.models.loading import load_model
from truthstab.pipeline.config import RunConfig
from truthstab.pipeline.inputs import gather_probe_inputs
from truthstab.pipeline.layers import layer_policy
from truthstab.protocol import run_protocol

QUANTITIES = (
    "truth_stability",
    "unfamiliar_stability",
    "familiar_stability",
    "familiarity_gap",
    "refit_null",
)


def _jitter(acts: ActivationSet, relative: float, seed: int) -> ActivationSet:
    rng = np.random.default_rng(seed)

    def j(x: np.ndarray) -> np.ndarray:
        return (x * (1 + relative * rng.uniform(-1, 1, size=x.shape))).astype(np.float32)

    last = {k: j(v) for k, v in acts.last.items()}
    mean = {k: j(v) for k, v in acts.mean.items()}
    return ActivationSet(acts.statements, acts.layers, last, mean, acts.bags, acts.meta)


def _shuffled(acts: ActivationSet, seed: int) -> ActivationSet:
    frame = acts.statements.copy()
    train = np.flatnonzero(frame["split"].to_numpy() == "train")
    order = np.random.default_rng(seed).permutation(train)
    for column in ("kind", "fiction_truth"):
        frame.loc[train, column] = frame[column].to_numpy()[order]
    return ActivationSet(frame, acts.layers, acts.last, acts.mean, acts.bags, acts.meta)


def _headlines(acts, layers, probes, n_refits, n_boot) -> tuple[dict, float]:
    start = time.perf_counter()
    report = run_protocol(acts, probes, layers, seed=0, n_bootstrap=n_boot, n_refits=n_refits)
    seconds = time.perf_counter() - start
    preds = report.predictions_frame()
    preds.insert(4, "split", "test")
    return {p: compute_headline(preds, p, n_boot=n_boot, seed=0)[0] for p in probes}, seconds


def _summary(head) -> dict:
    out = {"measurable_domains": head.measurable_domains, "warnings": head.warnings}
    for name in (*QUANTITIES, "baseline_ap"):
        est = getattr(head, name)
        out[name] = (
            None if est is None else [round(est.value, 2), round(est.ci_low, 2), round(est.ci_high, 2)]
        )
    out["per_domain"] = {
        d: {
            "measurable": dh.measurable,
            "refit_null": None if dh.refit_null is None else round(dh.refit_null.value, 2),
            "unfamiliar_excess": None
            if dh.unfamiliar_excess is None
            else round(dh.unfamiliar_excess.value, 2),
            "familiar_excess": None if dh.familiar_excess is None else round(dh.familiar_excess.value, 2),
            "unfamiliar_retraction": None
            if dh.unfamiliar_retraction is None
            else round(dh.unfamiliar_retraction.value, 2),
            "familiar_retraction": None
            if dh.familiar_retraction is None
            else round(dh.familiar_retraction.value, 2),
            "baseline_ap": round(dh.baseline_ap.value, 3),
            "chance_ap": round(dh.chance_ap, 3),
        }
        for d, dh in sorted(head.per_domain.items())
    }
    return out


def _moves(base, other) -> dict:
    """|change| / CI half-width per headline value (per domain too); < 1 means inside the noise."""
    out = {}
    pairs = [("all", base, other)] + [(d, base.per_domain[d], other.per_domain[d]) for d in base.per_domain]
    for where, a_obj, b_obj in pairs:
        for name in QUANTITIES:
            a, b = getattr(a_obj, name), getattr(b_obj, name)
            if a is None or b is None:
                continue
            half = max((a.ci_high - a.ci_low) / 2, 1e-9)
            out[f"{where}.{name}"] = round(abs(a.value - b.value) / half, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--probes", default="mean-diff,logistic")
    parser.add_argument("--refits", type=int, default=N_REFITS)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    probes = args.probes.split(",")
    release = get_release("truthstab")
    loaded = load_model(args.model, None, "auto", "cpu", False, "auto")
    frames = {d: load_frame(release, domain=d) for d in release.domains}
    policy = layer_policy("auto", args.model, loaded.spec.n_layers)
    config = RunConfig(run="probe", model=args.model, probes=probes, device="cpu")  # seed 0, fixed mode
    inputs = gather_probe_inputs(config, loaded, frames, release.sha256, policy, needs_bags=False)
    acts, layers = inputs.acts, inputs.layers
    base, seconds = _headlines(acts, layers, probes, args.refits, args.bootstrap)
    jittered, _ = _headlines(
        {d: _jitter(a, 2.0**-8, 1) for d, a in acts.items()}, layers, probes, args.refits, args.bootstrap
    )
    shuffled, _ = _headlines({d: _shuffled(a, 1) for d, a in acts.items()}, layers, probes, args.refits, 200)
    summary = {
        "model": loaded.spec.id,
        "revision_sha": loaded.spec.revision_sha,
        "dataset": f"{release.name}@{release.version}",
        "layers": layers,
        "n_refits": args.refits,
        "probe_stage_seconds": round(seconds, 1),
        "probes": {
            p: {
                "headline": _summary(base[p]),
                "bfloat16_noise_moves": _moves(base[p], jittered[p]),
                "shuffled_labels": _summary(shuffled[p]),
            }
            for p in probes
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({p: summary["probes"][p]["headline"] for p in probes}, indent=1))


if __name__ == "__main__":
    main()
