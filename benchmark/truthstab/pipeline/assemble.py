"""Result assembly: the headline, and the versioned result record of a score, from its stages' products."""

from __future__ import annotations

from typing import TYPE_CHECKING

from truthstab.fileio import utcnow
from truthstab.pipeline.state import ScoreState

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd

    from truthstab.results import Headline, ProtocolRecord, Result
    from truthstab.results.probe import LayerSweep, ProtocolReport

#: The probe the headline uses: the first of these that ran (else the first probe given).
PRIMARY_PROBE_ORDER = ("mean-diff", "logistic", "sawmil")
#: How the statements' activations are pooled, recorded in every result.
POOLING = "statement tokens: last token and mean; sAwMIL bags of all statement tokens"


def primary_probe(probes: list[str]) -> str:
    """The probe the headline uses: the first of PRIMARY_PROBE_ORDER that ran, else the first probe given."""
    for name in PRIMARY_PROBE_ORDER:
        if name in probes:
            return name
    return probes[0]


def now_utc() -> datetime:
    """The creation time recorded in results (seconds resolution)."""
    return utcnow().replace(microsecond=0)


def probe_predictions(report: ProtocolReport) -> pd.DataFrame:
    """The per-statement predictions of the probe stage, as the side file and the headline read them."""
    predictions = report.predictions_frame()
    predictions.insert(4, "split", "test")
    return predictions


def run_headline(state: ScoreState, predictions: pd.DataFrame, probe: str) -> tuple[Headline, dict]:
    """The fit-aware headline of ``probe`` and its bootstrap draws, with a note on quantised weights."""
    from truthstab.headline import compute_headline

    config = state.config
    headline, draws = compute_headline(predictions, probe, n_boot=config.n_bootstrap, seed=config.seed)
    if state.loaded.spec.quantization_note:
        headline.warnings.append(f"weights: {state.loaded.spec.quantization_note}")
    return headline, draws


def layer_curves(curves: dict[str, LayerSweep], n_layers: int) -> dict[str, list[float | None]]:
    """Calibration AP per decoder block (None where a block was not swept), per domain."""
    out = {}
    for domain, sweep in sorted(curves.items()):
        values: list[float | None] = [None] * n_layers
        for layer, value in zip(sweep.layers, sweep.scores, strict=True):
            values[layer] = None if value is None else float(value)
        out[domain] = values
    return out


def protocol_record(state: ScoreState, probe: str) -> ProtocolRecord:
    """The result's protocol section: every setting that decides the numbers."""
    from truthstab.results import ProtocolRecord

    config = state.config
    return ProtocolRecord(
        mode=config.protocol,
        probes=list(config.probes),
        primary_probe=probe,
        layer_policy=state.policy.name,
        layers=dict(sorted(state.inputs.layers.items())),
        seed=config.seed,
        n_bootstrap=config.n_bootstrap,
        n_refits=config.n_refits,
        batch_size=config.batch_size,
        padding_side=str(getattr(state.loaded.tokenizer, "padding_side", "right")),
        pooling=POOLING,
        options={
            "max_per_kind": config.max_per_kind,
            "sample_fraction": config.sample_fraction,
            "domains": sorted(state.frames),
            "chat_template": config.chat_template,
            "noise_rows": config.noise_rows,
            "tracks": list(config.tracks),
        },
    )


def assemble_result(
    state: ScoreState,
    predictions: pd.DataFrame,
    probe: str,
    headline: Headline,
    draws: dict,
    timings: dict[str, float],
) -> tuple[Result, pd.DataFrame | None]:
    """The result record (its figures still to be drawn) and the behavioural answers' frame, or None.

    ``headline`` and ``draws`` are :func:`run_headline`'s; ``timings`` the stages' so far.
    """
    from truthstab.provenance import environment_record
    from truthstab.results import DatasetRecord, Result
    from truthstab.run_layout import BEHAVIOUR_FILE, PREDICTIONS_FILE

    spec, release, report = state.loaded.spec, state.release, state.report
    result = Result(
        created_at=now_utc(),
        model=spec,
        dataset=DatasetRecord(
            name=release.name, version=release.version, sha256=release.sha256, domains=sorted(state.frames)
        ),
        harness=state.harness,
        protocol=protocol_record(state, probe),
        environment=environment_record(spec.device, state.loaded.tokenizer),
        timings={**timings, **{f"protocol.{k}": v for k, v in report.timings.items()}},
        headline=headline,
        headline_bootstrap=draws,
        metrics=report.metrics(),
        predictions_file=PREDICTIONS_FILE,
    )
    result.behavioural_skipped = state.behaviour_skipped
    if state.behaviour is None:
        return result, None
    from truthstab.behaviour.agreement import track_agreement

    answers = state.behaviour.predictions_frame()
    result.behavioural = state.behaviour.metrics()
    result.timings |= {f"behaviour.{k}": v for k, v in state.behaviour.timings.items()}
    result.behavioural_file = BEHAVIOUR_FILE
    result.track_agreement = track_agreement(predictions, answers, probe)
    return result, answers
