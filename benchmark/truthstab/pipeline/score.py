"""The score: dataset -> model -> activations -> layer choice -> probes -> behavioural track -> result.

Every stage is restartable: activations come from the resumable on-disk store, the probe stage is
deterministic given its seed, and the run folder is written to a temporary sibling and renamed into place,
so an interrupted run leaves nothing half-written and a rerun gives identical numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from truthstab.pipeline.assemble import (
    assemble_result,
    layer_curves,
    primary_probe,
    probe_predictions,
    run_headline,
)
from truthstab.pipeline.behavioural import behavioural_stage
from truthstab.pipeline.config import RunConfig
from truthstab.pipeline.dataset import load_frames
from truthstab.pipeline.drawing import draw_figures
from truthstab.pipeline.inputs import gather_probe_inputs
from truthstab.pipeline.layers import layer_policy
from truthstab.pipeline.model import load_run_model
from truthstab.pipeline.probing import check_probes, needs_bags, run_probes
from truthstab.pipeline.state import ScoreState
from truthstab.pipeline.timing import StageTimer
from truthstab.pipeline.write import run_folder, run_folder_path, write_run_files
from truthstab.results import Result
from truthstab.run_layout import RESULT_FILE

#: The timed stages of a score, as its display counts them.
N_STAGES = 7


class ScoreOutput(BaseModel):
    """What a scoring run produced."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    result_path: Path
    run_dir: Path
    result: Result


def score(
    config: RunConfig, progress: bool = True, echo: Callable[[str], None] | None = print
) -> ScoreOutput:
    """Score one model on one release and write its result folder; see the module docstring."""
    config.require("score")
    check_probes(config.probes)
    return run_pipeline(config, progress=progress, echo=echo)


def run_pipeline(config: RunConfig, progress: bool, echo: Callable[[str], None] | None) -> ScoreOutput:
    """The stages of :func:`score`, timed."""
    from truthstab.provenance import harness_record

    harness = harness_record()  # the code's state when the run starts, not when it ends
    bags = needs_bags(config)
    timer = StageTimer(N_STAGES, echo)
    with timer.stage("dataset"):
        release, frames = load_frames(config)
    with timer.stage("model"):
        loaded = load_run_model(config)
    policy = layer_policy(config.layers, config.model, loaded.spec.n_layers)
    # Three timed stages: activations, layer choice, chosen layers.
    inputs = gather_probe_inputs(config, loaded, frames, release.sha256, policy, bags, progress, timer.stage)
    with timer.stage("probes and metrics"):
        report = run_probes(config, inputs, policy, progress)
    behaviour, skipped = behavioural_stage(config, loaded, frames, progress, echo)
    state = ScoreState(config, harness, release, frames, loaded, policy, inputs, report, behaviour, skipped)
    with timer.stage("result"):
        return write_result_folder(state, timer.timings)


def write_result_folder(state: ScoreState, timings: dict[str, float]) -> ScoreOutput:
    """The result stage: headline, result record, figures, side files and report card, in one folder
    that appears complete or not at all."""
    predictions = probe_predictions(state.report)
    probe = primary_probe(list(state.config.probes))
    headline, draws = run_headline(state, predictions, probe)
    final = run_folder_path(state)
    with run_folder(final) as folder:
        sweeps = layer_curves(state.inputs.curves, state.loaded.spec.n_layers)
        result, answers = assemble_result(state, predictions, probe, headline, draws, timings)
        result.figures = draw_figures(state, probe, sweeps, folder)
        write_run_files(folder, result, predictions, answers)
    return ScoreOutput(result_path=final / RESULT_FILE, run_dir=final, result=result)
