"""Constructed result files for the leaderboard tests, valid against truthstab.results.Result.

A result's headline scores, intervals and bootstrap draws are set by hand so that the ranking and tie
groups have known answers.
"""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from truthstab.data.registry import get_release
from truthstab.leaderboard.build import KnownRelease
from truthstab.results import Result, write_result

DOMAINS = ("cities", "definitions", "medicine")
#: The committed release the constructed results claim, so the build (which ranks only results on a
#: known release) ranks them without any stand-in registry.
RELEASE_SHA = get_release("truthstab@1.0.0").sha256


def releases(*versions: str, sha: str = RELEASE_SHA) -> list[KnownRelease]:
    """Known releases ``truthstab@<version>`` with the three domains, for builds across versions."""
    return [KnownRelease("truthstab", v, sha, DOMAINS) for v in versions]


def estimate(value: float, half_width: float = 2.0) -> dict:
    return {"value": value, "ci_low": value - half_width, "ci_high": value + half_width}


def tiny_png(color: tuple[int, int, int] = (200, 40, 40), size: int = 8) -> bytes:
    """A real, valid PNG image (one colour), written without any imaging library."""
    raw = b"".join(b"\x00" + bytes(color) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_result(
    model_id: str = "org/model-a",
    truth: float = 80.0,
    half_width: float = 2.0,
    *,
    sha: str = "a" * 40,
    dtype: str = "float32",
    dataset_version: str = "1.0.0",
    dataset_sha: str = RELEASE_SHA,
    dataset_name: str = "truthstab",
    mode: str = "fixed",
    seed: int = 0,
    draws: list[float] | None = None,
    created_at: datetime | None = None,
    is_instruct: bool = True,
    is_encoder: bool = False,
    n_parameters: int = 134_515_008,
    domain_truth: dict[str, float] | None = None,
    source: str = "hub",
    harness_version: str = "0.1.0",
    warnings: list[str] | None = None,
    figures: list[str] | None = None,
    noise: float = 3.0,
    max_per_kind: int | None = None,
    release_domains: tuple[str, ...] | None = None,
    not_measurable: dict[str, str] | None = None,
    quantization_note: str | None = None,
) -> Result:
    """A schema-valid result whose headline truth stability is ``truth`` +- ``half_width``."""
    domain_truth = domain_truth or dict.fromkeys(DOMAINS, truth)
    not_measurable = not_measurable or {}
    per_domain = {
        d: {
            "unfamiliar_stability": estimate(v - 5),
            "familiar_stability": estimate(v + 5),
            "truth_stability": estimate(v, half_width),
            "familiarity_gap": estimate(10.0),
            "unfamiliar_excess": estimate(105 - v),
            "familiar_excess": estimate(95 - v),
            "unfamiliar_retraction": estimate(108 - v),
            "familiar_retraction": estimate(98 - v),
            "refit_null": estimate(3.0, 1.0),
            "noise_control": estimate(noise, 1.0),
            "baseline_ap": estimate(0.9, 0.02),
            "chance_ap": 0.4,
            "n_true_test": 100,
            "n_baseline_true": 90,
            "measurable": d not in not_measurable,
            "not_measurable": [not_measurable[d]] if d in not_measurable else [],
        }
        for d, v in domain_truth.items()
    }
    measured = sorted(d for d in domain_truth if d not in not_measurable)
    overall = {
        "truth_stability": estimate(truth, half_width),
        "unfamiliar_stability": estimate(truth - 5),
        "familiar_stability": estimate(truth + 5),
        "familiarity_gap": estimate(10.0),
        "unfamiliar_excess": estimate(105 - truth),
        "familiar_excess": estimate(95 - truth),
        "unfamiliar_retraction": estimate(108 - truth),
        "familiar_retraction": estimate(98 - truth),
        "refit_null": estimate(noise, 1.0),
        "noise_control": estimate(noise, 1.0),
    }
    if not measured:
        overall = dict.fromkeys(overall)
    data = {
        "created_at": created_at or datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        "model": {
            "id": model_id,
            "alias": None,
            "revision_sha": sha,
            "dtype": dtype,
            "device": "cpu",
            "architecture": "LlamaForCausalLM" if not is_encoder else "BertModel",
            "model_type": "llama" if not is_encoder else "bert",
            "is_encoder": is_encoder,
            "is_instruct": is_instruct,
            "uses_chat_template": is_instruct,
            "chat_template_sha256": "",
            "n_layers": 30,
            "hidden_size": 576,
            "n_parameters": n_parameters,
            "quantization_note": quantization_note or "",
            "source": source,
        },
        "dataset": {
            "name": dataset_name,
            "version": dataset_version,
            "sha256": dataset_sha,
            "domains": list(release_domains or DOMAINS),
        },
        "harness": {"version": harness_version, "git_hash": "0123456789ab", "git_dirty": False},
        "protocol": {
            "mode": mode,
            "probes": ["mean-diff", "logistic"],
            "primary_probe": "mean-diff",
            "layer_policy": "auto",
            "layers": dict.fromkeys(domain_truth, 12),
            "seed": seed,
            "n_bootstrap": len(draws) if draws else 1000,
            "n_refits": 10,
            "batch_size": "auto",
            "padding_side": "right",
            "pooling": "last",
            "options": {"chat_template": "auto", "domains": list(domain_truth), "max_per_kind": max_per_kind},
        },
        "environment": {"device": "cpu", "python": "3.11.7", "platform": "linux", "libraries": {}},
        "timings": {"total": 1.0},
        "headline": {
            "probe": "mean-diff",
            "n_refits": 10,
            "measurable_domains": measured,
            **overall,
            "baseline_ap": estimate(0.9, 0.02),
            "per_domain": per_domain,
            "warnings": warnings or [],
        },
        "headline_bootstrap": {"truth_stability": draws} if draws else {},
        "metrics": None,
        "predictions_file": "predictions.parquet",
        "figures": figures or [],
    }
    return Result.model_validate(data)


def paired_draws(center: float, noise: np.ndarray, spread: float = 0.3) -> list[float]:
    """Bootstrap draws sharing the statement-level ``noise`` (paired), shifted to ``center``."""
    return [float(center + spread * x) for x in noise]


def save(results_dir: Path, result: Result, name: str = "result.json") -> Path:
    """Write a result in the layout of `truthstab score`: <dir>/<org>__<name>/<sha>/<run tag>/result.json."""
    org_name = re.sub(r"[^A-Za-z0-9._-]", "_", result.model.id.replace("/", "__"))
    d, m = result.dataset, result.model
    tag = f"{d.name}-{d.version}_{result.protocol.mode}_{m.dtype}"
    folder = results_dir / org_name / m.revision_sha / tag
    return write_result(result, folder / name)
