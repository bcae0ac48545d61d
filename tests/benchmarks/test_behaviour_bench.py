"""Behavioural-track speed on the real default model (SmolLM2-135M-Instruct, Q4_1 dequantised, CPU).

Run by `make bench`. Every figure is a ratio to a baseline measured in the same process on the same
statements (machine load cancels out as far as it can); nothing asserts wall-clock time:

- ours (the shared prefix run once, statements packed behind it) vs the same prompts run in full without
  the cache (target >= 5x), per statement of a perturbed prompt, the one-off prefix excluded and,
  separately, amortised at the real domain size;
- ours vs the previous engine: padded batches, each row with the prefix cache expanded;
- ours vs a bare forward over the statement tokens alone (no prompt, no context): the price of the
  prompt's own tokens and of attending to ~1,600 context tokens;
- an estimate of the whole default release (every true test statement x 5 prompts), from per-token costs
  measured here and the release's own token counts, in float32 and (second test) in bfloat16, with the
  share of answers bfloat16 changes.

TRUTHSTAB_BENCH_BEHAVIOUR_N statements (default 64: one "auto" batch; seeded sample of the cities true test statements) are
run by our path; TRUTHSTAB_BENCH_BEHAVIOUR_FULL_N (default 6) of them in full without the cache.

TRUTHSTAB_BENCH_BEHAVIOUR_RELEASE=1 adds the real thing instead of an estimate: the whole behavioural
track on the whole default release, timed (about 10 minutes in bfloat16 and 25 in float32 on 2 cores;
TRUTHSTAB_BENCH_BEHAVIOUR_DTYPE picks the dtype, default bfloat16).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import torch

from truthstab.activations.prefix import SharedPrefix, pad_batch
from truthstab.behaviour import PROMPTS
from truthstab.behaviour import prompts as P
from truthstab.behaviour.answers import option_token_ids
from truthstab.behaviour.fitting import encode_prompts, fit_prompts
from truthstab.behaviour.forward import answer_probabilities
from truthstab.behaviour.run import true_test_rows
from truthstab.errors import TruthstabError

pytestmark = pytest.mark.bench

N = int(os.environ.get("TRUTHSTAB_BENCH_BEHAVIOUR_N", "64"))
N_FULL = int(os.environ.get("TRUTHSTAB_BENCH_BEHAVIOUR_FULL_N", "6"))
BATCH = "auto"
BARE_BATCH = 64
TARGET_MINUTES = 10


@pytest.fixture(scope="module")
def frames():
    from truthstab.data.registry import get_release, load_frame

    try:
        release = get_release("truthstab")
    except TruthstabError as exc:
        pytest.skip(f"no default release installed ({exc})")
    return {d: load_frame(release, domain=d) for d in release.domains}


def _timed(fn) -> tuple[float, float, object]:
    """(wall s, CPU s of this process, result): on a shared machine CPU time is the steadier measure."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def bare_forward(loaded, texts: list[str]) -> None:
    """The model over each statement's own tokens only (its tokenizer's specials, no prompt, no context)."""
    enc = loaded.tokenizer(texts, add_special_tokens=True)["input_ids"]
    order = sorted(range(len(enc)), key=lambda i: -len(enc[i]))
    for start in range(0, len(order), BARE_BATCH):
        batch = pad_batch([enc[i] for i in order[start : start + BARE_BATCH]], 0, "left")
        with torch.inference_mode():
            loaded.model(
                input_ids=batch.input_ids,
                attention_mask=batch.attention_mask,
                position_ids=batch.position_ids,
                use_cache=False,
                logits_to_keep=1,
            )


def _tokens(enc) -> int:
    return sum(len(s) for s in enc.ids)


def test_behaviour_speed_vs_no_cache_and_bare_forward(benchmark, smollm2_loaded, frames):
    lm, cities = smollm2_loaded, frames["cities"]
    test = true_test_rows(cities)
    rng = np.random.default_rng(0)
    texts = test["statement"].to_numpy()[
        np.sort(rng.choice(len(test), size=min(N, len(test)), replace=False))
    ]
    texts = [str(t) for t in texts]
    ids = option_token_ids(lm.tokenizer)
    context = P.draw_context(cities, "cities", "synthetic", seed=0)["statement"].tolist()
    base_enc = fit_prompts(lm, texts, []).encoded
    pert_enc = fit_prompts(lm, texts, context).encoded
    full_enc = encode_prompts(lm, texts[:N_FULL], context, share_prefix=False)

    t = {}
    t["prefix"] = _timed(lambda: SharedPrefix(lm.model, pert_enc.shared_prefix))[:2]
    t["baseline"] = _timed(lambda: answer_probabilities(lm, base_enc, ids, BATCH, plan="packed"))[:2]
    wall, cpu, fast = _timed(lambda: answer_probabilities(lm, pert_enc, ids, BATCH, plan="packed"))
    t["perturbed"] = (wall - t["prefix"][0], cpu - t["prefix"][1])  # steady state: prefix excluded
    wall, cpu, padded = _timed(lambda: answer_probabilities(lm, pert_enc, ids, BATCH, plan="padded"))
    t["padded"] = (wall - t["prefix"][0], cpu - t["prefix"][1])
    wall, cpu, slow = _timed(lambda: answer_probabilities(lm, full_enc, ids, BATCH, plan="padded"))
    t["no_cache"] = (wall, cpu)
    t["bare"] = _timed(lambda: bare_forward(lm, texts))[:2]
    np.testing.assert_allclose(fast[:N_FULL], slow, rtol=1e-4, atol=1e-6)  # the speed is not bought
    np.testing.assert_allclose(fast, padded, rtol=1e-4, atol=1e-6)

    n = len(texts)
    per = {k: (v[0] / n, v[1] / n) for k, v in t.items() if k not in ("prefix", "no_cache")}
    per["no_cache"] = (t["no_cache"][0] / N_FULL, t["no_cache"][1] / N_FULL)
    domain_n = len(test)
    figures: dict = {
        "statements": n,
        "no_cache_statements": N_FULL,
        "threads": torch.get_num_threads(),
        "prefix_tokens": len(pert_enc.shared_prefix),
        "own_tokens_per_prompt": round(_tokens(pert_enc) / n, 1),
        "bare_tokens_per_statement": round(
            sum(len(x) for x in lm.tokenizer(texts, add_special_tokens=True)["input_ids"]) / n, 1
        ),
        "load_average": os.getloadavg()[0],
    }
    counts = _release_tokens(lm, frames)
    figures["release_prompts"] = counts["prompts"]
    for clock, col in (("wall", 0), ("cpu", 1)):
        figures[f"{clock}: seconds_per_statement"] = {k: round(v[col], 3) for k, v in per.items()}
        figures[f"{clock}: prefix_seconds"] = round(t["prefix"][col], 2)
        figures[f"{clock}: ours_vs_no_cache (steady state)"] = round(
            per["no_cache"][col] / per["perturbed"][col], 1
        )
        amortised = per["perturbed"][col] + t["prefix"][col] / domain_n
        figures[f"{clock}: ours_vs_no_cache (prefix amortised over {domain_n})"] = round(
            per["no_cache"][col] / amortised, 1
        )
        figures[f"{clock}: ours_vs_padded_prefix_cache"] = round(
            per["padded"][col] / per["perturbed"][col], 2
        )
        figures[f"{clock}: ours_perturbed_vs_bare_statement"] = round(
            per["bare"][col] / per["perturbed"][col], 3
        )
        figures[f"{clock}: ours_baseline_vs_bare_statement"] = round(
            per["bare"][col] / per["baseline"][col], 3
        )
        figures[f"{clock}: release_estimate_minutes"] = round(
            _estimate(counts, t, base_enc, pert_enc, col) / 60, 1
        )
    figures["target_minutes"] = TARGET_MINUTES
    print(f"\n[bench] behavioural track, SmolLM2-135M (float32, CPU): {figures}")
    benchmark.extra_info.update(figures)
    benchmark.pedantic(lambda: answer_probabilities(lm, base_enc, ids, BATCH), rounds=1, iterations=1)


def test_behaviour_speed_in_bfloat16(benchmark, smollm2_loaded, frames):
    """The same perturbed prompts in bfloat16 (what ``--dtype auto`` picks on a GPU; on a CPU with AMX its
    matrix products are native): speed relative to float32 in this process, and how many answers change."""
    from truthstab.behaviour.answers import answers_from
    from truthstab.models.loading import load_model

    lm32, cities = smollm2_loaded, frames["cities"]
    lm16 = load_model("smollm2-135m", device="cpu", dtype="bfloat16")
    test = true_test_rows(cities)
    texts = [str(t) for t in test["statement"].tolist()[:N]]
    ids = option_token_ids(lm32.tokenizer)
    context = P.draw_context(cities, "cities", "synthetic", seed=0)["statement"].tolist()
    encs = {k: fit_prompts(lm, texts, context).encoded for k, lm in (("32", lm32), ("16", lm16))}
    base = {k: fit_prompts(lm, texts, []).encoded for k, lm in (("32", lm32), ("16", lm16))}
    t, probs = {}, {}
    for key, lm in (("32", lm32), ("16", lm16)):
        t[f"prefix{key}"] = _timed(lambda lm=lm, k=key: SharedPrefix(lm.model, encs[k].shared_prefix))[:2]
        t[f"base{key}"] = _timed(lambda lm=lm, k=key: answer_probabilities(lm, base[k], ids, plan="packed"))[
            :2
        ]
        wall, cpu, probs[key] = _timed(
            lambda lm=lm, k=key: answer_probabilities(lm, encs[k], ids, plan="packed")
        )
        t[f"pert{key}"] = (wall - t[f"prefix{key}"][0], cpu - t[f"prefix{key}"][1])
    counts = _release_tokens(lm32, frames)
    figures = {
        "statements": len(texts),
        "answers_changed_by_bfloat16": int((answers_from(probs["32"]) != answers_from(probs["16"])).sum()),
        "max_probability_change": round(float(np.abs(probs["32"] - probs["16"]).max()), 4),
    }
    for clock, col in (("wall", 0), ("cpu", 1)):
        figures[f"{clock}: bfloat16_vs_float32_speed"] = round(t["pert32"][col] / t["pert16"][col], 2)
        for key, name in (("32", "float32"), ("16", "bfloat16")):
            timing = {"baseline": t[f"base{key}"], "perturbed": t[f"pert{key}"], "prefix": t[f"prefix{key}"]}
            figures[f"{clock}: release_estimate_minutes_{name}"] = round(
                _estimate(counts, timing, base[key], encs[key], col) / 60, 1
            )
    print(f"\n[bench] behavioural track, SmolLM2-135M, bfloat16 vs float32 (CPU): {figures}")
    benchmark.extra_info.update(figures)
    benchmark.pedantic(lambda: answer_probabilities(lm16, base["16"], ids), rounds=1, iterations=1)


def _release_tokens(lm, frames) -> dict[str, int]:
    """Token counts of the whole release's behavioural prompts (every true test statement x 5 prompts):
    own tokens of baseline and perturbed prompts, and the perturbed prompts' shared-prefix tokens."""
    counts = {"prompts": 0, "baseline": 0, "perturbed": 0, "prefix": 0}
    for domain, frame in frames.items():
        statements = true_test_rows(frame)["statement"].astype(str).tolist()
        for prompt in PROMPTS:
            context = P.draw_context(frame, domain, prompt, seed=0)["statement"].tolist()
            enc = fit_prompts(lm, statements, context).encoded
            counts["prompts"] += len(statements)
            counts["baseline" if prompt == "baseline" else "perturbed"] += _tokens(enc)
            counts["prefix"] += len(enc.shared_prefix) if context else 0
    return counts


def _estimate(counts: dict[str, int], t: dict, base_enc, pert_enc, col: int) -> float:
    """Seconds for the whole release: its own tokens at the per-token cost measured here for their kind
    (baseline: short prefix; perturbed: ~1,600-token prefix), plus every perturbed prefix run once."""
    per_tok_base = t["baseline"][col] / _tokens(base_enc)
    per_tok_pert = t["perturbed"][col] / _tokens(pert_enc)
    per_prefix_tok = t["prefix"][col] / len(pert_enc.shared_prefix)
    return (
        counts["baseline"] * per_tok_base
        + counts["perturbed"] * per_tok_pert
        + counts["prefix"] * per_prefix_tok
    )


@pytest.mark.skipif(
    not os.environ.get("TRUTHSTAB_BENCH_BEHAVIOUR_RELEASE"),
    reason="opt-in (TRUTHSTAB_BENCH_BEHAVIOUR_RELEASE=1): the whole release takes 10-25 minutes",
)
def test_behaviour_whole_release(benchmark, frames):
    """The behavioural track of SmolLM2-135M on every true test statement of the default release under
    every prompt, as `truthstab score` runs it: wall time against the 10-minute target, per stage."""
    from truthstab.behaviour.run import run_behavioural
    from truthstab.models.loading import load_model

    dtype = os.environ.get("TRUTHSTAB_BENCH_BEHAVIOUR_DTYPE", "bfloat16")
    lm = load_model("smollm2-135m", device="cpu", dtype=dtype)
    timed = {}

    def run():
        timed["wall"], timed["cpu"], timed["report"] = _timed(lambda: run_behavioural(lm, frames, seed=0))

    benchmark.pedantic(run, rounds=1, iterations=1)
    report = timed["report"]
    figures = {
        "dtype": dtype,
        "prompts": sum(len(a.ids) for a in report.answers),
        "wall_minutes": round(timed["wall"] / 60, 1),
        "cpu_minutes": round(timed["cpu"] / 60, 1),
        "target_minutes": TARGET_MINUTES,
        "load_average": os.getloadavg()[0],
        "stage_seconds": report.timings,
    }
    print(f"\n[bench] behavioural track, whole release, SmolLM2-135M ({dtype}, CPU): {figures}")
    benchmark.extra_info.update(figures)
