"""Extraction speed and memory on the real default model (SmolLM2-135M-Instruct, Q4_1 dequantised).

Run by `make bench` (``--benchmark-enable --benchmark-only``). Every figure is a ratio to a baseline
measured in the same run on the same statements, so machine load cancels out as far as it can:

- ours vs the reference approach (docs/method.md §12.5: each chat-templated statement padded to 100 tokens,
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

from truthstab.activations.extract import AUTO_CPU_BATCH, _Runner, encode_statements, extract_activations
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


def bare_forward(loaded, texts: list[str], batch_size: int = AUTO_CPU_BATCH) -> None:
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


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): on a shared machine CPU time is the steadier measure."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


@pytest.fixture(scope="module")
def texts():
    return bench_statements(N_STATEMENTS)


def test_extraction_speed_vs_reference_and_bare_forward(benchmark, smollm2_loaded, texts):
    lm, n = smollm2_loaded, len(texts)
    n_ref = min(n, 36)  # the reference is slow: time it on 3 of its batches, compare statements/s
    runs = {
        "ours_1": lambda: extract_activations(lm, texts, layers=[LAYER]),
        "ours_all": lambda: extract_activations(lm, texts),
        "bare": lambda: bare_forward(lm, texts),
        "reference_1": lambda: reference_extract(lm, texts[:n_ref], [LAYER]),
    }
    best = {k: [float("inf"), float("inf")] for k in runs}
    for _ in range(2):  # interleaved rounds, best of each: load from other processes hits all alike
        for name, fn in runs.items():
            best[name] = [min(old, new) for old, new in zip(best[name], _timed(fn), strict=True)]
    figures: dict = {"statements": n, "reference_statements": n_ref, "threads": torch.get_num_threads()}
    for clock, col in (("wall", 0), ("cpu", 1)):
        rate = {k: (n_ref if k == "reference_1" else n) / v[col] for k, v in best.items()}
        figures[f"statements_per_{clock}_s"] = {k: round(v, 1) for k, v in rate.items()}
        figures[f"{clock}: ours_vs_reference_one_layer"] = round(rate["ours_1"] / rate["reference_1"], 2)
        figures[f"{clock}: ours_all_layers_vs_reference_one_layer"] = round(
            rate["ours_all"] / rate["reference_1"], 2
        )
        figures[f"{clock}: ours_all_layers_vs_bare_forward"] = round(rate["ours_all"] / rate["bare"], 3)
    figures["load_average"] = os.getloadavg()[0]
    print(f"\n[bench] SmolLM2-135M (Q4_1 dequantised, float32, CPU): {figures}")
    benchmark.extra_info.update(figures)
    benchmark.pedantic(lambda: extract_activations(lm, texts, layers=[LAYER]), rounds=1, iterations=1)


def _sampled_release(release, out_dir: Path, per_domain: int) -> Path:
    """A release of ``per_domain`` evenly spaced statements of each domain of ``release``."""
    from truthstab.data.registry import load_statements
    from truthstab.data.release import CardInfo, write_release

    by_domain: dict[str, list] = {}
    for row in load_statements(release):
        by_domain.setdefault(row.domain, []).append(row)
    rows = [r for rs in by_domain.values() for r in rs[:: max(1, len(rs) // per_domain)][:per_domain]]
    card = CardInfo(
        pretty_name="bench sample",
        license="cc-by-4.0",
        summary=f"A sample of {release.ref} for the RSS bench.",
        sources=[],
        generation="tests/benchmarks/test_extract_bench.py",
        limitations="A sample.",
    )
    return write_release(rows, "bench-sample", "1.0.0", out_dir, {"sampled_from": release.ref}, card)


def test_peak_rss_of_release_extraction(benchmark, tmp_path):
    """Peak RSS of the CLI extracting every layer of every domain into a fresh store, in a subprocess.

    The whole default release takes about an hour on 2 CPU cores, so by default this runs on an evenly
    spaced sample (TRUTHSTAB_BENCH_RSS_PER_DOMAIN statements per domain, 100) and prints the size of the
    arrays a whole-release domain adds; TRUTHSTAB_BENCH_FULL=1 runs the whole release.
    """
    from truthstab.data.registry import get_release

    try:
        release = get_release("truthstab")
    except TruthstabError as exc:
        pytest.skip(f"no default release installed ({exc})")
    per_domain = int(os.environ.get("TRUTHSTAB_BENCH_RSS_PER_DOMAIN", "100"))
    full = os.environ.get("TRUTHSTAB_BENCH_FULL") == "1"
    target = release.path if full else _sampled_release(release, tmp_path / "release", per_domain)
    cmd = [
        str(Path(sys.executable).parent / "truthstab"),
        "activations",
        "extract",
        "smollm2-135m",
        "--dataset",
        str(target),
        "--cache-dir",
        str(tmp_path / "store"),
        "--json",
    ]

    def run() -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    start = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    largest = max(e.rows for e in _domain_rows(release))
    figures = {
        "release": release.ref if full else f"{per_domain}/domain sample of {release.ref}",
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak_mib),
        # float32 last + mean for 30 layers x 576 dims: what the largest whole domain adds when read back
        "largest_domain_rows": largest,
        "largest_domain_arrays_mib": round(largest * 30 * 576 * 2 * 4 / 2**20),
    }
    print(f"\n[bench] release extraction: {figures}")
    benchmark.extra_info.update(figures)


def _domain_rows(release):
    """(domain, rows) per domain from the manifest's file entries."""
    from collections import Counter
    from types import SimpleNamespace

    counts: Counter[str] = Counter()
    for entry in release.manifest.files:
        counts[entry.domain] += entry.rows
    return [SimpleNamespace(domain=d, rows=n) for d, n in counts.items()]
