"""Matplotlib figures of a scored run (PNG and SVG), drawn from plain tables so any result can be redrawn.

Figures are ``matplotlib.figure.Figure`` objects drawn without pyplot, so importing this module neither
picks a backend nor touches pyplot's global state (a notebook that imports truthstab keeps its own).

Inputs are tidy DataFrames / dicts extracted from a result (see ``truthstab.results.card.metric_table``), not
the protocol's internal objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from truthstab.tasks import BEHAVIOUR_PROMPT, Task

#: Figure labels of the perturbation tasks, by task id.
TASK_LABELS = {int(t): t.label for t in Task if t is not Task.BASELINE}

# Fixed metadata so that the same figure gives the same SVG bytes.
_SVG_META = {"Date": None, "Creator": "truthstab"}
_PNG_META = {"Software": "truthstab"}


def _save(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight", metadata=_PNG_META)
    with matplotlib.rc_context({"svg.hashsalt": "truthstab"}):
        fig.savefig(paths[1], bbox_inches="tight", metadata=_SVG_META)
    return paths


def flip_bars(table: pd.DataFrame, probe: str, out_dir: Path) -> list[Path]:
    """Retraction and expansion rates (baseline denominators, 95 % CI) per perturbation and domain.

    ``table`` columns: domain, probe, task, retraction, retraction_low, retraction_high, expansion,
    expansion_low, expansion_high (rates in [0, 1]).
    """
    data = table[(table["probe"] == probe) & (table["task"] != Task.BASELINE)]
    domains = sorted(data["domain"].unique())
    tasks = sorted(data["task"].unique())
    fig = Figure(figsize=(11, 3.8))
    axes = fig.subplots(1, 2, sharey=False)
    width = 0.8 / max(len(domains), 1)
    for ax, metric in zip(axes, ("retraction", "expansion"), strict=True):
        for i, domain in enumerate(domains):
            rows = data[data["domain"] == domain].set_index("task").reindex(tasks)
            values = 100 * rows[metric].to_numpy(dtype=float)
            low = 100 * rows[f"{metric}_low"].to_numpy(dtype=float)
            high = 100 * rows[f"{metric}_high"].to_numpy(dtype=float)
            err = np.nan_to_num(np.vstack([values - low, high - values]), nan=0.0).clip(min=0)
            ax.bar(np.arange(len(tasks)) + i * width, values, width, yerr=err, capsize=2, label=domain)
        ax.set_xticks(np.arange(len(tasks)) + width * (len(domains) - 1) / 2)
        ax.set_xticklabels([TASK_LABELS.get(int(t), str(t)) for t in tasks], rotation=15)
        ax.set_ylabel(f"{metric} rate (%)")
        ax.set_title(f"{metric.capitalize()}s of true test statements ({probe})")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(title="domain")
    return _save(fig, out_dir, "flip_rates")


#: The perturbations both tracks share, as (probe task, behavioural prompt).
SHARED_PERTURBATIONS = tuple((int(t), p) for t, p in BEHAVIOUR_PROMPT.items() if t is not Task.BASELINE)


def _rates_pct(frame: pd.DataFrame, keys: list, cols: tuple[str, str, str]) -> np.ndarray:
    """(3, len(keys)) value, low, high in percent of the rows ``keys`` of ``frame`` (NaN where absent)."""
    out = np.full((3, len(keys)), np.nan)
    for j, key in enumerate(keys):
        if key in frame.index:
            row = frame.loc[key]
            out[:, j] = [100 * float(row[c]) if pd.notna(row[c]) else np.nan for c in cols]
    return out


def track_flip_bars(
    probe_table: pd.DataFrame, behaviour_table: pd.DataFrame, probe: str, out_dir: Path
) -> list[Path]:
    """Retraction rates of both tracks side by side, per domain and perturbation (95 % CI).

    ``probe_table``: domain, probe, task, retraction, retraction_low, retraction_high (the full-data fits);
    ``behaviour_table``: :meth:`BehaviouralReport.metrics_frame` (retraction_rate_base and its bounds).
    Rates in [0, 1]; both over the true test statements the track's baseline called True.
    """
    probes = probe_table[probe_table["probe"] == probe].set_index(["domain", "task"])
    answers = behaviour_table.set_index(["domain", "prompt"])
    domains = sorted(set(probes.index.get_level_values(0)) & set(answers.index.get_level_values(0)))
    if not domains:
        return []
    fig = Figure(figsize=(4.2 * len(domains), 3.8))
    axes = fig.subplots(1, len(domains), sharey=True, squeeze=False)
    x = np.arange(len(SHARED_PERTURBATIONS))
    behaviour_cols = ("retraction_rate_base", "retraction_rate_base_low", "retraction_rate_base_high")
    for ax, domain in zip(axes[0], domains, strict=True):
        tracks = (
            (
                "representational",
                _rates_pct(
                    probes,
                    [(domain, t) for t, _ in SHARED_PERTURBATIONS],
                    ("retraction", "retraction_low", "retraction_high"),
                ),
            ),
            (
                "behavioural",
                _rates_pct(answers, [(domain, p) for _, p in SHARED_PERTURBATIONS], behaviour_cols),
            ),
        )
        for i, (label, (values, low, high)) in enumerate(tracks):
            err = np.nan_to_num(np.vstack([values - low, high - values]), nan=0.0).clip(min=0)
            where = x + (i - 0.5) * 0.38
            ax.bar(where, values, 0.38, yerr=err, capsize=2, label=label, color=f"C{i}")
            for xi in where[~np.isfinite(values)]:  # an undefined rate is marked, not drawn as zero
                ax.text(
                    xi, 0.5, "undefined", rotation=90, ha="center", va="bottom", fontsize=7, color=f"C{i}"
                )
        ax.set_xticks(x)
        ax.set_xticklabels([TASK_LABELS[t] for t, _ in SHARED_PERTURBATIONS], rotation=15)
        ax.set_title(domain)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("retraction rate (%)")
    axes[0][0].legend(title=f"track (probe: {probe})", fontsize=8)
    fig.suptitle("True statements retracted: the probe's boundary vs the model's answers")
    return _save(fig, out_dir, "track_flip_rates")


def cosine_heatmap(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Cosine between baseline and perturbed weight vectors, one row per (probe, domain)."""
    data = table[table["task"] != Task.BASELINE]
    pivot = data.pivot_table(index=["probe", "domain"], columns="task", values="cosine", aggfunc="first")
    fig = Figure(figsize=(7, 0.45 * len(pivot) + 1.5))
    ax = fig.subplots()
    im = ax.imshow(pivot.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdBu", aspect="auto")
    ax.set_xticks(range(len(pivot.columns)))
    ax.set_xticklabels([TASK_LABELS.get(int(t), str(t)) for t in pivot.columns], rotation=15)
    ax.set_yticks(range(len(pivot.index)))
    ax.set_yticklabels([f"{p} / {d}" for p, d in pivot.index])
    for (r, c), value in np.ndenumerate(pivot.to_numpy(dtype=float)):
        if np.isfinite(value):
            ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="cosine(w0, wk)")
    ax.set_title("Boundary rotation")
    return _save(fig, out_dir, "boundary_cosine")


def sweep_curves(
    curves: Mapping[str, Sequence[float]], chosen: Mapping[str, int], out_dir: Path
) -> list[Path]:
    """Calibration-split average precision of the baseline probe per layer, chosen layer marked."""
    fig = Figure(figsize=(7, 3.8))
    ax = fig.subplots()
    for domain in sorted(curves):
        values = np.array([np.nan if v is None else v for v in curves[domain]], dtype=float)
        line = ax.plot(np.arange(len(values)), values, marker=".", label=domain)[0]
        if domain in chosen and 0 <= chosen[domain] < len(values):
            ax.scatter([chosen[domain]], [values[chosen[domain]]], s=80, color=line.get_color(), zorder=3)
    ax.set_xlabel("decoder block (0-based)")
    ax.set_ylabel("calibration AP (baseline task)")
    ax.set_title("Layer sweep")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out_dir, "layer_sweep")


def wasserstein_heatmaps(
    matrices: Mapping[str, tuple[Sequence[str], np.ndarray]], out_dir: Path
) -> list[Path]:
    """Sliced Wasserstein-1 distances between the kinds' standardised last-token clouds, one panel a domain."""
    domains = sorted(matrices)
    fig = Figure(figsize=(4.2 * len(domains), 3.8))
    axes = fig.subplots(1, len(domains), squeeze=False)
    for ax, domain in zip(axes[0], domains, strict=True):
        kinds, matrix = matrices[domain]
        matrix = np.asarray(matrix, dtype=float)
        im = ax.imshow(matrix, cmap="viridis")
        ax.set_xticks(range(len(kinds)))
        ax.set_xticklabels(kinds, rotation=45, ha="right")
        ax.set_yticks(range(len(kinds)))
        ax.set_yticklabels(kinds)
        for (r, c), value in np.ndenumerate(matrix):
            ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white")
        ax.set_title(domain)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("Sliced Wasserstein-1 between statement kinds")
    return _save(fig, out_dir, "kind_wasserstein")
