"""Extraction speed and memory on the real default model (SmolLM2-135M-Instruct, Q4_1 dequantised).

Run by `make bench` (``--benchmark-enable --benchmark-only``). Every figure is a ratio to a baseline
measured in the same run on the same statements, so machine load cancels out as far as it can:

- ours vs the reference approach (method.md §12.5: each chat-templated statement padded to 100 tokens,
  batches of 12, one full forward pass per wanted layer reading ``hidden_states``), for one layer, the
  paper's setting (target >= 5x);
- ours vs a bare forward pass over exactly the inputs we feed (same sorted batches, shared-prefix cache,
  every layer, no outputs kept): our overhead (target >= 0.9);
- peak RSS of `truthstab activations extract smollm2-135m` over the default release, in a subprocess.

Nothing here asserts wall-clock time; the figures are printed and stored in the benchmark's extra_info.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from truthstab.activations.extract import _Runner, encode_statements, extract_activations
from truthstab.errors import TruthstabError
from truthstab.models.templates import render_user_turn

N_STATEMENTS = int(os.environ.get("TRUTHSTAB_BENCH_N", "160"))
LAYER = 15  # a mid-depth layer, like the paper's fixed layers (36-75 % of depth)

CITIES = [
    ("Lyon", "France"),
    ("Osaka", "Japan"),
    ("Porto", "Portugal"),
    ("Quito", "Ecuador"),
    ("Cusco", "Peru"),
    ("Hamburg", "Germany"),
    ("Seville", "Spain"),
    ("Turin", "Italy"),
    ("Krakow", "Poland"),
    ("Bergen", "Norway"),
    ("Adelaide", "Australia"),
    ("Calgary", "Canada"),
    ("Mombasa", "Kenya"),
    ("Chiang Mai", "Thailand"),
    ("Cordoba", "Argentina"),
    ("Tabriz", "Iran"),
    ("Izmir", "Turkey"),
    ("Lahore", "Pakistan"),
    ("Daegu", "South Korea"),
    ("Fez", "Morocco"),
]


def bench_statements(n: int) -> list[str]:
    """Statements of the default release if it is installed, else generated city statements."""
    try:
        from truthstab.data.registry import load_frame

        texts = load_frame("truthstab")["statement"].tolist()
        if len(texts) >= n:
            step = len(texts) // n
            return texts[::step][:n]
    except TruthstabError as exc:  # no release yet: say so, use generated statements
        print(f"\n[bench] default release not available ({exc}); using generated statements")
    out = []
    for k in range(n):
        city, _ = CITIES[k % len(CITIES)]
        _, country = CITIES[(k * 7 + k // len(CITIES)) % len(CITIES)]
        out.append(f"The city of {city} is{' not' if k % 2 else ''} located in {country}.")
    return out


def reference_extract(loaded, texts: list[str], layers: list[int]) -> dict[int, torch.Tensor]:
    """The reference code's approach: pad to 100 tokens, batch 12, one forward per layer, last position
    of the padded sequence taken from ``hidden_states`` (its own choice; the cost is what matters here)."""
    tok = loaded.tokenizer
    full = [render_user_turn(tok, t) for t in texts]
    out = {}
    for layer in layers:
        rows = []
        for i in range(0, len(full), 12):
            enc = tok(
                full[i : i + 12], padding="max_length", max_length=100, truncation=True, return_tensors="pt"
            )
            with torch.inference_mode():
                hidden = loaded.model(**enc, output_hidden_states=True).hidden_states[layer + 1]
            rows.append(hidden[:, -1].float())
        out[layer] = torch.cat(rows)
    return out


def bare_forward(loaded, texts: list[str], batch_size: int = 32) -> None:
    """The model's forward over exactly what extraction feeds (sorted batches, shared prefix once), every
    layer, nothing kept: the physical limit of the same work."""
    enc = encode_statements(loaded, texts)
    runner = _Runner(loaded, [loaded.spec.n_layers - 1], enc.shared_prefix, "right")
    order = sorted(range(len(texts)), key=lambda i: -len(enc.ids[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        ids = [enc.ids[i] for i in batch]
        width = max(map(len, ids))
        input_ids = torch.zeros((len(ids), width), dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        positions = (mask.cumsum(1) - 1).clamp(min=0) + runner.prefix_len
        full_mask = torch.cat([torch.ones((len(ids), runner.prefix_len), dtype=torch.long), mask], dim=1)
        with torch.inference_mode():
            loaded.model.model(
                input_ids=input_ids,
                attention_mask=full_mask,
                position_ids=positions,
                **{runner.cache_kwarg: runner._expanded_cache(len(ids))},
                use_cache=True,
            )


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def texts():
    return bench_statements(N_STATEMENTS)


def test_extraction_speed_vs_reference_and_bare_forward(benchmark, smollm2_loaded, texts):
    lm, n = smollm2_loaded, len(texts)
    n_ref = min(n, 36)  # the reference is slow: time it on 3 of its batches, compare statements/s
    times: dict[str, list[float]] = {k: [] for k in ("ours_1", "ours_all", "bare", "reference_1")}
    for _ in range(2):  # interleaved rounds, best of each: load from other processes hits all alike
        times["ours_1"].append(_timed(lambda: extract_activations(lm, texts, layers=[LAYER])))
        times["ours_all"].append(_timed(lambda: extract_activations(lm, texts)))
        times["bare"].append(_timed(lambda: bare_forward(lm, texts)))
        times["reference_1"].append(_timed(lambda: reference_extract(lm, texts[:n_ref], [LAYER])))
    rate = {k: (n_ref if k == "reference_1" else n) / min(v) for k, v in times.items()}
    figures = {
        "statements": n,
        "statements_per_s": {k: round(v, 1) for k, v in rate.items()},
        "ours_vs_reference_one_layer": round(rate["ours_1"] / rate["reference_1"], 2),
        "ours_all_layers_vs_reference_one_layer": round(rate["ours_all"] / rate["reference_1"], 2),
        "ours_all_layers_vs_bare_forward": round(rate["ours_all"] / rate["bare"], 3),
        "threads": torch.get_num_threads(),
    }
    print(f"\n[bench] SmolLM2-135M (Q4_1 dequantised, float32, CPU): {figures}")
    benchmark.extra_info.update(figures)
    benchmark.pedantic(lambda: extract_activations(lm, texts, layers=[LAYER]), rounds=1, iterations=1)


def test_peak_rss_of_whole_release_extraction(benchmark, tmp_path):
    """Peak RSS of the CLI extracting the default release (every layer, every domain) into a fresh store."""
    from truthstab.errors import DatasetError

    try:
        from truthstab.data.registry import get_release

        release = get_release("truthstab")
    except DatasetError as exc:
        pytest.skip(f"no default release installed ({exc})")
    cmd = [
        str(Path(sys.executable).parent / "truthstab"),
        "activations",
        "extract",
        "smollm2-135m",
        "--dataset",
        release.ref,
        "--cache-dir",
        str(tmp_path),
        "--json",
    ]
    if os.environ.get("TRUTHSTAB_BENCH_DOMAIN"):
        cmd += ["--domain", os.environ["TRUTHSTAB_BENCH_DOMAIN"]]

    def run() -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    start = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = {
        "release": release.ref,
        "rows": release.manifest.rows,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak_mib),
    }
    print(f"\n[bench] whole-release extraction: {figures}")
    benchmark.extra_info.update(figures)
    assert Path(tmp_path).exists()
