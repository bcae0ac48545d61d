"""The writing stage of a score: the run folder, written beside its final place and renamed into it.

An interrupted or failed run leaves nothing half-written: every file goes to a temporary sibling folder
(same file system), which replaces an older run of the same tag only once it is complete.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from truthstab.fileio import replace_dir
from truthstab.pipeline.dataset import subset_tag
from truthstab.pipeline.state import ScoreState

if TYPE_CHECKING:
    import pandas as pd

    from truthstab.results import Result


def new_tmp_dir(parent: Path, tag: str) -> Path:
    """A temporary folder beside the final one (same file system, so the rename is atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".tmp-{tag}-", dir=parent))


def run_folder_path(state: ScoreState) -> Path:
    """Where the run goes: ``<out>/<model>/<revision sha>/<release>_<protocol>_<dtype>[_<sample>]``."""
    from truthstab.run_layout import run_dir, run_tag

    config, release, spec = state.config, state.release, state.loaded.spec
    tag = run_tag(
        release.name, release.version, config.protocol, spec.dtype, subset_tag(config, state.frames, release)
    )
    return run_dir(config.out, spec.id, spec.revision_sha, tag)


@contextmanager
def run_folder(final: Path) -> Iterator[Path]:
    """A temporary folder to write the run into; renamed to ``final`` when the block completes, removed
    when it raises (or is interrupted)."""
    tmp = new_tmp_dir(final.parent, final.name)
    try:
        yield tmp
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_run_files(
    folder: Path, result: Result, predictions: pd.DataFrame, answers: pd.DataFrame | None
) -> None:
    """The side files, result.json and the report card of a finished result (its figures already drawn)."""
    from truthstab.results import write_result
    from truthstab.results.card import report_card
    from truthstab.run_layout import BEHAVIOUR_FILE, PREDICTIONS_FILE, REPORT_FILE, RESULT_FILE

    predictions.to_parquet(folder / PREDICTIONS_FILE, index=False)
    if answers is not None:
        answers.to_parquet(folder / BEHAVIOUR_FILE, index=False)
    write_result(result, folder / RESULT_FILE)
    (folder / REPORT_FILE).write_text(report_card(result), encoding="utf-8")
