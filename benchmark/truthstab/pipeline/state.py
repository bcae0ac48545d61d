"""What a score's stages produced, handed on to the result, its figures and its run folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from truthstab.pipeline.config import RunConfig
from truthstab.pipeline.inputs import ProbeInputs
from truthstab.pipeline.layers import LayerPolicy

if TYPE_CHECKING:
    import pandas as pd

    from truthstab.behaviour.report import BehaviouralReport
    from truthstab.data.registry import Release
    from truthstab.models.loading import LoadedModel
    from truthstab.results import HarnessRecord
    from truthstab.results.probe import ProtocolReport


@dataclass(frozen=True)
class ScoreState:
    """Everything a score run knows once its stages ran, up to (not including) the result.

    ``behaviour`` is None when the behavioural track did not run; ``behaviour_skipped`` then says why
    when the model could not take it (None when the track was not asked for).
    """

    config: RunConfig
    harness: HarnessRecord  # taken when the run started, not when it ends
    release: Release
    frames: dict[str, pd.DataFrame]
    loaded: LoadedModel
    policy: LayerPolicy
    inputs: ProbeInputs
    report: ProtocolReport
    behaviour: BehaviouralReport | None
    behaviour_skipped: str | None
