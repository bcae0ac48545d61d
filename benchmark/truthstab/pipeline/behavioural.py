"""The behavioural track's stage of a score: zero-shot answers, when asked for and the model can take them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from truthstab.pipeline.config import RunConfig

if TYPE_CHECKING:
    import pandas as pd

    from truthstab.behaviour.report import BehaviouralReport
    from truthstab.models.loading import LoadedModel


def behavioural_stage(
    config: RunConfig,
    loaded: LoadedModel,
    frames: Mapping[str, pd.DataFrame],
    progress: bool,
    echo: Callable[[str], None] | None,
) -> tuple[BehaviouralReport | None, str | None]:
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
        batch_size=config.batch,
        progress=progress,
    )
    return report, None
