"""The queue's default scorer: one request in, `truthstab.scoring.score` run, the result JSON's path out."""

from __future__ import annotations

from pathlib import Path

from truthstab.submissions.requests import Request


def default_score_request(request: Request, out_root: Path) -> Path:
    """Score a request with the real pipeline; its result lands in ``<out_root>/<org>__<name>/<sha>/``.

    The revision is the resolved sha (never a branch), and ``trust_remote_code`` is on only for requests
    that declared custom code, which the queue runs only when the evaluator allowed it.
    """
    from truthstab.scoring import ScoreConfig, score

    config = ScoreConfig(
        model=request.model,
        revision=request.sha if request.source == "hub" else None,
        dtype=request.dtype,
        chat_template=request.chat_template,
        out=Path(out_root),
        trust_remote_code=request.custom_code,
    )
    return Path(score(config, progress=False).result_path)
