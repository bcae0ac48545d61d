"""The score pipeline: dataset -> model -> activations -> layer choice -> probes -> metrics -> result.

Every stage is restartable: activations come from the resumable on-disk store, the probe stage is
deterministic given its seed, and the run folder is written to a temporary sibling and renamed into place,
so an interrupted run leaves nothing half-written and a rerun gives identical numbers.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from truthstab.errors import ProbeError
from truthstab.fileio import utcnow
from truthstab.fitaware import MIN_REFITS, N_REFITS
from truthstab.results import Result

#: The built-in probes; the default run fits the two linear ones (sAwMIL on request: see docs/method.md,
#: "Choosing the headline probe").
PROBE_NAMES = ("sawmil", "mean-diff", "logistic")
#: Fewest bootstrap resamples a run accepts (fewer give meaningless 95 % intervals).
MIN_BOOTSTRAP = 10
#: Environment variable naming the folder `truthstab score` writes runs to when --out is not given.
RESULTS_ENV = "TRUTHSTAB_RESULTS"


def default_results_dir() -> Path:
    """Where runs go without --out: $TRUTHSTAB_RESULTS, else the user data folder (platformdirs, when
    installed), else ./results (git-ignored in the repository). Never the committed submissions/ folder,
    so a first run leaves the repository unmodified."""
    env = os.environ.get(RESULTS_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:
        return Path("results")
    return Path(platformdirs.user_data_dir("truthstab")) / "results"


DEFAULT_PROBES = ("mean-diff", "logistic")
PRIMARY_PROBE_ORDER = ("mean-diff", "logistic", "sawmil")


class ScoreConfig(BaseModel):
    """Everything that defines a scoring run (recorded in the result's protocol section)."""

    model_config = ConfigDict(extra="forbid")

    model: str = "smollm2-135m"
    revision: str | None = None
    dataset: str = "truthstab"
    probes: list[str] = Field(default_factory=lambda: list(DEFAULT_PROBES))
    layers: str = "auto"
    protocol: Literal["fixed", "faithful"] = "fixed"
    dtype: str = "auto"
    device: str = "auto"
    batch_size: str = "auto"
    seed: int = 0
    n_bootstrap: int = Field(default=1000, ge=MIN_BOOTSTRAP)
    n_refits: int = Field(default=N_REFITS, ge=0, description="bootstrap refits per domain and probe")
    noise_rows: Literal["keep", "drop"] = "keep"
    tracks: list[Literal["representational", "behavioural"]] = Field(
        default_factory=lambda: ["representational", "behavioural"],
        description="representational (the probes; always run) and behavioural (zero-shot answers; causal "
        "LMs only, encoders skip it with a note)",
    )
    domains: list[str] | None = None
    max_per_kind: int | None = Field(
        default=None, ge=1, description="cap statements per domain, kind and split"
    )
    sample_fraction: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="seeded share of each domain, kind and split (keeps the proportions)",
    )
    out: Path = Field(default_factory=default_results_dir)
    trust_remote_code: bool = False
    chat_template: Literal["auto", "on", "off"] = "auto"
    cache_dir: Path | None = None

    @field_validator("probes")
    @classmethod
    def _probes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one probe is needed")
        return value

    @field_validator("n_refits")
    @classmethod
    def _refits(cls, value: int) -> int:
        if value == 1:
            raise ValueError(f"must be 0 (off) or at least {MIN_REFITS}: a refit null needs two fits")
        return value

    @field_validator("layers")
    @classmethod
    def _layers(cls, value: str) -> str:
        if value in ("auto", "paper") or re.fullmatch(
            r"\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*", value
        ):
            return value
        raise ValueError(
            f"layers must be auto, paper or a list of layers and ranges like 12 or 8-14, not {value!r}"
        )

    @field_validator("batch_size")
    @classmethod
    def _batch(cls, value: str) -> str:
        if value == "auto" or (value.isdigit() and int(value) > 0):
            return value
        raise ValueError(f"batch size must be auto or a positive integer, not {value!r}")


class ScoreOutput(BaseModel):
    """What a scoring run produced."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    result_path: Path
    run_dir: Path
    result: Result


class StageTimer:
    """Times the pipeline's stages and reports them on one running display."""

    def __init__(self, n_stages: int, echo: Callable[[str], None] | None) -> None:
        self.n_stages = n_stages
        self.echo = echo
        self.timings: dict[str, float] = {}
        self._index = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._index += 1
        if self.echo:
            self.echo(f"[{self._index}/{self.n_stages}] {name} ...")
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        if self.echo:
            self.echo(f"[{self._index}/{self.n_stages}] {name}: done in {self.timings[name]:.1f} s")


def primary_probe(probes: list[str]) -> str:
    """The probe the headline uses: the first of PRIMARY_PROBE_ORDER that ran, else the first probe given."""
    for name in PRIMARY_PROBE_ORDER:
        if name in probes:
            return name
    return probes[0]


def replace_dir(tmp: Path, final: Path) -> None:
    """Move a fully written folder into place, replacing an older run of the same tag."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{time.time_ns()}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def new_tmp_dir(parent: Path, tag: str) -> Path:
    """A temporary folder beside the final one (same file system, so the rename is atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".tmp-{tag}-", dir=parent))


def now_utc() -> datetime:
    """The creation time recorded in results (seconds resolution)."""
    return utcnow().replace(microsecond=0)


def check_probes(probes: list[str]) -> None:
    """Every probe is a known name or a ``module:Class`` plug-in."""
    for name in probes:
        if name not in PROBE_NAMES and ":" not in name:
            raise ProbeError(f"unknown probe {name!r}: use {', '.join(PROBE_NAMES)} or module:Class")


def _subsample(frame, config: ScoreConfig):
    """A seeded sample of every (kind, split) group, for quick runs; the whole frame otherwise.

    ``sample_fraction`` keeps the release's proportions of kinds (which set how strongly a perturbation
    pulls on the boundary); ``max_per_kind`` caps each group, which equalises them.
    """
    if not (config.max_per_kind or config.sample_fraction):
        return frame
    shuffled = frame.sample(frac=1.0, random_state=config.seed)
    groups = shuffled.groupby(["kind", "split"], sort=True)
    if config.sample_fraction:
        sizes = groups["id"].transform("size")
        keep = groups.cumcount() < (sizes * config.sample_fraction).round().clip(lower=1)
        shuffled = shuffled[keep]
        groups = shuffled.groupby(["kind", "split"], sort=True)
    if config.max_per_kind:
        shuffled = groups.head(config.max_per_kind)
    return shuffled.sort_values("id").reset_index(drop=True)


def _subset_tag(config: ScoreConfig, frames: dict, release) -> str:
    """How a partial run sampled the release, for its folder name (empty for a full run)."""
    parts = []
    if config.sample_fraction:
        parts.append(f"frac{config.sample_fraction:g}")
    if config.max_per_kind:
        parts.append(f"max{config.max_per_kind}")
    if sorted(frames) != sorted(release.domains):
        parts.append("+".join(sorted(frames)))
    return "_".join(parts)


def _load_frames(config: ScoreConfig):
    """The release and its statements per domain (optionally capped per kind and split, seeded)."""
    from truthstab.data.registry import get_release, load_frame
    from truthstab.errors import DatasetError

    release = get_release(config.dataset)
    domains = config.domains or list(release.domains)
    unknown = sorted(set(domains) - set(release.domains))
    if unknown:
        raise DatasetError(
            f"release {release.ref} has no domain(s) {unknown}; it has {sorted(release.domains)}"
        )
    frames = {}
    for domain in domains:
        frame = load_frame(release, domain=domain)
        frames[domain] = _subsample(frame, config)
    return release, frames


def _sweep_curves(curves: dict, n_layers: int) -> dict[str, list[float | None]]:
    """Calibration AP per decoder block (None where a block was not swept), per domain."""
    out = {}
    for domain, sweep in sorted(curves.items()):
        values: list[float | None] = [None] * n_layers
        for layer, value in zip(sweep.layers, sweep.scores, strict=True):
            values[layer] = None if value is None else float(value)
        out[domain] = values
    return out


def _behavioural_stage(config: ScoreConfig, loaded, frames: dict, progress: bool, echo):
    """(the behavioural track's report, None) when asked for and supported; (None, why) for a model that
    cannot take it (an encoder, a context too short for the prompt): a printed and recorded note, not an
    error; (None, None) when not asked for."""
    if "behavioural" not in config.tracks:
        return None, None
    from truthstab.behaviour.run import behavioural_support, length_support, run_behavioural

    reason = behavioural_support(loaded.spec) or length_support(loaded, frames)
    if reason is not None:
        if echo:
            echo(f"note: {reason}")
        return None, reason
    if echo:
        echo("behavioural track: asking the model about every true test statement under each prompt ...")
    report = run_behavioural(
        loaded,
        frames,
        seed=config.seed,
        n_bootstrap=config.n_bootstrap,
        batch_size="auto" if config.batch_size == "auto" else int(config.batch_size),
        progress=progress,
    )
    return report, None


def run_pipeline(config: ScoreConfig, progress: bool, echo: Callable[[str], None] | None) -> ScoreOutput:
    """The stages of :func:`score`, timed."""
    import numpy as np

    from truthstab.activations.store import ActivationStore
    from truthstab.figures import (
        cosine_heatmap,
        flip_bars,
        sweep_curves,
        track_flip_bars,
        wasserstein_heatmaps,
    )
    from truthstab.headline import compute_headline
    from truthstab.models.loading import load_model
    from truthstab.probe_inputs import gather_probe_inputs, layer_policy
    from truthstab.probes import input_kind, make_probe
    from truthstab.protocol import run_protocol
    from truthstab.provenance import environment_record, harness_record
    from truthstab.report import report_card
    from truthstab.results import DatasetRecord, ProtocolRecord, write_result
    from truthstab.run_layout import (
        BEHAVIOUR_FILE,
        FIGURES_DIR,
        PREDICTIONS_FILE,
        REPORT_FILE,
        RESULT_FILE,
        run_dir,
        run_tag,
    )

    harness = harness_record()  # the code's state when the run starts, not when it ends
    needs_bags = any(input_kind(make_probe(p, config.seed)) == "bags" for p in config.probes)
    timer = StageTimer(7, echo)
    with timer.stage("dataset"):
        release, frames = _load_frames(config)
    with timer.stage("model"):
        loaded = load_model(
            config.model,
            revision=config.revision,
            dtype=config.dtype,
            device=config.device,
            trust_remote_code=config.trust_remote_code,
            chat_template=config.chat_template,
        )
        spec = loaded.spec
    policy = layer_policy(config.layers, config.model, spec.n_layers)
    inputs = gather_probe_inputs(
        ActivationStore(config.cache_dir),
        loaded,
        frames,
        release.sha256,
        policy,
        needs_bags=needs_bags,
        seed=config.seed,
        mode=config.protocol,
        batch_size="auto" if config.batch_size == "auto" else int(config.batch_size),
        progress=progress,
        stage=timer.stage,
    )
    acts, chosen, curves = inputs.acts, inputs.layers, inputs.curves
    with timer.stage("probes and metrics"):
        report = run_protocol(
            acts,
            config.probes,
            layers=chosen if policy.chooses_fixed else None,
            mode=config.protocol,
            seed=config.seed,
            n_bootstrap=config.n_bootstrap,
            sweep=False,
            curves=curves,
            progress=progress,
            n_refits=config.n_refits,
            noise_rows=config.noise_rows,
        )
    behaviour, behaviour_skipped = _behavioural_stage(config, loaded, frames, progress, echo)
    with timer.stage("result"):
        predictions = report.predictions_frame()
        predictions.insert(4, "split", "test")
        probe = primary_probe([str(p) for p in config.probes])
        headline, draws = compute_headline(predictions, probe, n_boot=config.n_bootstrap, seed=config.seed)
        if spec.quantization_note:
            headline.warnings.append(f"weights: {spec.quantization_note}")
        tag = run_tag(
            release.name, release.version, config.protocol, spec.dtype, _subset_tag(config, frames, release)
        )
        final = run_dir(config.out, spec.id, spec.revision_sha, tag)
        tmp = new_tmp_dir(final.parent, tag)
        try:
            sweeps = _sweep_curves(curves, spec.n_layers)
            result = Result(
                created_at=now_utc(),
                model=spec,
                dataset=DatasetRecord(
                    name=release.name, version=release.version, sha256=release.sha256, domains=sorted(frames)
                ),
                harness=harness,
                protocol=ProtocolRecord(
                    mode=config.protocol,
                    probes=[str(p) for p in config.probes],
                    primary_probe=probe,
                    layer_policy=policy.name,
                    layers=dict(sorted(chosen.items())),
                    seed=config.seed,
                    n_bootstrap=config.n_bootstrap,
                    n_refits=config.n_refits,
                    batch_size=config.batch_size,
                    padding_side=str(getattr(loaded.tokenizer, "padding_side", "right")),
                    pooling="statement tokens: last token and mean; sAwMIL bags of all statement tokens",
                    options={
                        "max_per_kind": config.max_per_kind,
                        "sample_fraction": config.sample_fraction,
                        "domains": sorted(frames),
                        "chat_template": config.chat_template,
                        "noise_rows": config.noise_rows,
                        "tracks": list(config.tracks),
                    },
                ),
                environment=environment_record(spec.device, loaded.tokenizer),
                timings={**timer.timings, **{f"protocol.{k}": v for k, v in report.timings.items()}},
                headline=headline,
                headline_bootstrap=draws,
                metrics=report.metrics(),
                predictions_file=PREDICTIONS_FILE,
            )
            predictions.to_parquet(tmp / PREDICTIONS_FILE, index=False)
            result.behavioural_skipped = behaviour_skipped
            if behaviour is not None:
                from truthstab.behaviour.agreement import track_agreement

                answers = behaviour.predictions_frame()
                result.behavioural = behaviour
                result.behavioural_file = BEHAVIOUR_FILE
                result.track_agreement = track_agreement(predictions, answers, probe)
                answers.to_parquet(tmp / BEHAVIOUR_FILE, index=False)
            table = report.metrics_frame().rename(
                columns={
                    "retraction_rate_base": "retraction",
                    "retraction_rate_base_low": "retraction_low",
                    "retraction_rate_base_high": "retraction_high",
                    "expansion_rate_base": "expansion",
                    "rotation_cosine": "cosine",
                }
            )
            table = table.rename(
                columns={
                    "expansion_rate_base_low": "expansion_low",
                    "expansion_rate_base_high": "expansion_high",
                }
            )
            fig_dir = tmp / FIGURES_DIR
            figures = flip_bars(table, probe, fig_dir) + cosine_heatmap(table, fig_dir)
            figures += sweep_curves(sweeps, chosen, fig_dir)
            if behaviour is not None:
                figures += track_flip_bars(table, behaviour.metrics_frame(), probe, fig_dir)
            kinds_matrices = {}
            for g in report.geometry:
                kinds = sorted({k for pair in g.distances for k in (pair.a, pair.b)})
                m = np.zeros((len(kinds), len(kinds)))
                for pair in g.distances:
                    i, j = kinds.index(pair.a), kinds.index(pair.b)
                    m[i, j] = m[j, i] = pair.distance
                kinds_matrices[g.domain] = (kinds, m)
            figures += wasserstein_heatmaps(kinds_matrices, fig_dir)
            result.figures = sorted(str(p.relative_to(tmp)) for p in figures)
            write_result(result, tmp / RESULT_FILE)
            (tmp / REPORT_FILE).write_text(report_card(result), encoding="utf-8")
            replace_dir(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return ScoreOutput(result_path=final / RESULT_FILE, run_dir=final, result=result)


__all__ = ["ScoreConfig", "ScoreOutput", "score"]


def score(
    config: ScoreConfig, progress: bool = True, echo: Callable[[str], None] | None = print
) -> ScoreOutput:
    """Score one model on one release and write its result folder; see the module docstring."""
    check_probes(config.probes)
    return run_pipeline(config, progress=progress, echo=echo)
