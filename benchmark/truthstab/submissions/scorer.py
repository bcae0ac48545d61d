"""The queue's default scorer: one request in, `truthstab.scoring.score` run, the result JSON's path out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from truthstab.errors import SubmissionError
from truthstab.submissions.requests import Request

#: ScoreConfig fields the request decides; an evaluator's overrides may not change them.
REQUEST_FIELDS = frozenset({"model", "revision", "dtype", "chat_template", "out", "trust_remote_code"})


def default_score_request(request: Request, out_root: Path, **overrides: Any) -> Path:
    """Score a request with the real pipeline; its result lands in ``<out_root>/<org>__<name>/<sha>/<tag>/``.

    The revision is the resolved sha (never a branch), and ``trust_remote_code`` is on only for requests
    that declared custom code, which the queue runs only when the evaluator allowed it. ``overrides`` set
    the evaluator's other ScoreConfig fields (device, batch_size, dataset, ...); bind them with
    ``functools.partial`` to get a scorer for ``run_queue`` (a partial of this function pickles, for Ray).
    """
    from truthstab.scoring import ScoreConfig, score

    clash = REQUEST_FIELDS & overrides.keys()
    if clash:
        raise SubmissionError(f"the request decides {', '.join(sorted(clash))}; drop them from the overrides")
    config = ScoreConfig(
        model=request.model,
        revision=request.sha if request.source == "hub" else None,
        dtype=request.dtype,
        chat_template=request.chat_template,
        out=Path(out_root),
        trust_remote_code=request.custom_code,
        **overrides,
    )
    return Path(score(config, progress=False).result_path)
