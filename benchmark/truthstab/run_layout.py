"""Where a scored run is stored: ``<out>/<org>__<name>/<sha>/<run tag>/``.

``<org>__<name>`` is the layout submissions use. Inside a revision folder, one sub-folder per run tag
(dataset name and version, protocol mode, dtype) keeps runs that the leaderboard must not mix apart. The
folder holds ``result.json``, ``predictions.parquet``, ``report.md`` and ``figures/``.
"""

from __future__ import annotations

import re
from pathlib import Path

from truthstab.errors import TruthstabError

RESULT_FILE = "result.json"
PREDICTIONS_FILE = "predictions.parquet"
#: Per-statement answers of the behavioural track (one row per domain, prompt and true test statement).
BEHAVIOUR_FILE = "behaviour.parquet"
REPORT_FILE = "report.md"
FIGURES_DIR = "figures"

_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def safe_component(text: str, what: str) -> str:
    """``text`` if it is safe as one path component, else a TruthstabError naming the problem."""
    if not _COMPONENT.match(text) or ".." in text:
        raise TruthstabError(
            f"{what} {text!r} is not a safe name: use 1-96 characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, and no '..'"
        )
    return text


def model_folder(model_id: str) -> str:
    """``org__name`` for a Hub id ``org/name``; ``local__<folder>`` for a local path; ``<name>`` alone else."""
    if "/" in model_id and not Path(model_id).exists():
        org, _, name = model_id.partition("/")
        return f"{safe_component(org, 'organisation')}__{safe_component(name, 'model name')}"
    if Path(model_id).exists():
        return f"local__{safe_component(Path(model_id).resolve().name, 'model folder name')}"
    return safe_component(model_id, "model name")


def run_tag(dataset_name: str, dataset_version: str, protocol: str, dtype: str, subset: str = "") -> str:
    """The name of one run's folder inside a revision folder (``subset`` names a partial run's sample)."""
    tag = f"{dataset_name}-{dataset_version}_{protocol}_{dtype}" + (f"_{subset}" if subset else "")
    return safe_component(tag, "run tag")


def run_dir(out: Path, model_id: str, revision_sha: str, tag: str) -> Path:
    """The folder a run is written to."""
    return Path(out) / model_folder(model_id) / safe_component(revision_sha, "revision") / tag
