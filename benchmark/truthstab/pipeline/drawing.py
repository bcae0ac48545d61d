"""The figures stage of a score: which figures a run draws, from its metric tables, into its run folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from truthstab.pipeline.state import ScoreState

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from truthstab.results.probe import ProtocolReport

#: The probe stage's metric columns under the names truthstab.figures reads.
FIGURE_COLUMNS = {
    "retraction_rate_base": "retraction",
    "retraction_rate_base_low": "retraction_low",
    "retraction_rate_base_high": "retraction_high",
    "expansion_rate_base": "expansion",
    "expansion_rate_base_low": "expansion_low",
    "expansion_rate_base_high": "expansion_high",
    "rotation_cosine": "cosine",
}


def metric_table(report: ProtocolReport) -> pd.DataFrame:
    """The probe stage's metrics, one row per (domain, probe, task), with the figures' column names."""
    return report.metrics_frame().rename(columns=FIGURE_COLUMNS)


def wasserstein_matrices(report: ProtocolReport) -> dict[str, tuple[list[str], np.ndarray]]:
    """Per domain, the statement kinds and their symmetric matrix of Wasserstein distances."""
    import numpy as np

    matrices = {}
    for g in report.geometry:
        kinds = sorted({k for pair in g.distances for k in (pair.a, pair.b)})
        m = np.zeros((len(kinds), len(kinds)))
        for pair in g.distances:
            i, j = kinds.index(pair.a), kinds.index(pair.b)
            m[i, j] = m[j, i] = pair.distance
        matrices[g.domain] = (kinds, m)
    return matrices


def draw_figures(
    state: ScoreState, probe: str, sweeps: dict[str, list[float | None]], folder: Path
) -> list[str]:
    """Draw every figure of the run under ``folder``; their paths relative to it, sorted."""
    from truthstab.figures import (
        cosine_heatmap,
        flip_bars,
        sweep_curves,
        track_flip_bars,
        wasserstein_heatmaps,
    )
    from truthstab.run_layout import FIGURES_DIR

    table = metric_table(state.report)
    fig_dir = folder / FIGURES_DIR
    figures = flip_bars(table, probe, fig_dir) + cosine_heatmap(table, fig_dir)
    figures += sweep_curves(sweeps, state.inputs.layers, fig_dir)
    if state.behaviour is not None:
        figures += track_flip_bars(table, state.behaviour.metrics_frame(), probe, fig_dir)
    figures += wasserstein_heatmaps(wasserstein_matrices(state.report), fig_dir)
    return sorted(str(p.relative_to(folder)) for p in figures)
