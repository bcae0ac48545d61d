"""The one run configuration that `truthstab score`, `truthstab probe run` and `truthstab activations
extract` build and hand to the pipeline, and the defaults their options share."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from truthstab.fitaware import MIN_REFITS, N_REFITS

#: The built-in probes; the default run fits the two linear ones (sAwMIL on request: see docs/method.md,
#: "Choosing the headline probe").
PROBE_NAMES = ("sawmil", "mean-diff", "logistic")
DEFAULT_PROBES = ("mean-diff", "logistic")
#: Fewest bootstrap resamples a run accepts (fewer give meaningless 95 % intervals).
MIN_BOOTSTRAP = 10
#: Environment variable naming the folder `truthstab score` writes runs to when --out is not given.
RESULTS_ENV = "TRUTHSTAB_RESULTS"

RunKind = Literal["score", "probe", "extract"]


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


def _checked_up_front(info: ValidationInfo) -> bool:
    """Whether this run checks the option now, before any model loads.

    A score does (its errors name the option, see :func:`truthstab.errors.option_error`); a probe run and
    an extraction check layers, probes and refits where they use them, against the loaded model, with
    the messages their commands have always printed.
    """
    return info.data.get("run", "score") == "score"


class RunConfig(BaseModel):
    """Everything that defines a run of the pipeline; a score records it in its result's protocol section.

    ``run`` says how far the pipeline goes: ``score`` (the whole run and its result folder), ``probe``
    (the probe stage's report, `truthstab probe run`) or ``extract`` (the activations alone, `truthstab
    activations extract`). Fields a run does not use keep their defaults.
    """

    model_config = ConfigDict(extra="forbid")

    # First, so that the validators below can read it (pydantic validates fields in this order).
    run: RunKind = Field(default="score", description="score, probe (the probe stage) or extract")
    model: str = "smollm2-135m"
    revision: str | None = None
    dataset: str = "truthstab"
    probes: list[str] = Field(default_factory=lambda: list(DEFAULT_PROBES))
    layers: str = Field(
        default="auto",
        description="score and probe: auto, paper or layers and ranges like 12 or 8-14; extract: all (its "
        "default) or such a list",
    )
    bag_layers: str = Field(default="", description="extract: layers whose token bags are stored too")
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
    report_file: Path | None = Field(
        default=None, description="probe: also write the full report here (JSON)"
    )
    trust_remote_code: bool = False
    chat_template: Literal["auto", "on", "off"] = "auto"
    cache_dir: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _extraction_reads_every_layer(cls, data: Any) -> Any:
        # An extraction's layers are a list to store, not a layer policy: its default is every layer.
        if isinstance(data, dict) and data.get("run") == "extract" and "layers" not in data:
            return {**data, "layers": "all"}
        return data

    @field_validator("probes")
    @classmethod
    def _probes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value and _checked_up_front(info):
            raise ValueError("at least one probe is needed")
        return value

    @field_validator("n_refits")
    @classmethod
    def _refits(cls, value: int, info: ValidationInfo) -> int:
        if value == 1 and _checked_up_front(info):
            raise ValueError(f"must be 0 (off) or at least {MIN_REFITS}: a refit null needs two fits")
        return value

    @field_validator("layers")
    @classmethod
    def _layers(cls, value: str, info: ValidationInfo) -> str:
        if not _checked_up_front(info) or value in ("auto", "paper"):
            return value
        if re.fullmatch(r"\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*", value):
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

    @property
    def batch(self) -> int | str:
        """The batch size as the stages take it: ``"auto"`` or a positive integer."""
        return "auto" if self.batch_size == "auto" else int(self.batch_size)

    def require(self, run: RunKind) -> None:
        """Refuse a configuration built for another kind of run (its options were checked differently)."""
        if self.run != run:
            raise ValueError(f"this configuration is for a {self.run!r} run, not a {run!r} run")
