"""The queue's default scorer: one request in, `truthstab.pipeline.score.score` run, the result JSON's path out."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from truthstab.errors import SubmissionError
from truthstab.fileio import apply_umask
from truthstab.submissions.queue import STAGE_LOGGER
from truthstab.submissions.requests import Request

#: RunConfig fields the request decides; an evaluator's overrides may not change them.
REQUEST_FIELDS = frozenset({"model", "revision", "dtype", "chat_template", "out", "trust_remote_code"})


def default_score_request(request: Request, out_root: Path, **overrides: Any) -> Path:
    """Score a request with the real pipeline; its result lands in ``<out_root>/<org>__<name>/<sha>/<tag>/``.

    The revision is the resolved sha (never a branch), and ``trust_remote_code`` is on only for requests
    that declared custom code, which the queue runs only when the evaluator allowed it. ``overrides`` set
    the evaluator's other RunConfig fields (device, batch_size, dataset, ...); bind them with
    ``functools.partial`` to get a scorer for ``run_queue`` (a partial of this function pickles, for Ray).
    """
    from truthstab.pipeline.config import RunConfig
    from truthstab.pipeline.score import score

    clash = REQUEST_FIELDS & overrides.keys()
    if clash:
        raise SubmissionError(f"the request decides {', '.join(sorted(clash))}; drop them from the overrides")
    config = RunConfig(
        model=request.model,
        revision=request.sha if request.source == "hub" else None,
        dtype=request.dtype,
        chat_template=request.chat_template,
        out=Path(out_root),
        trust_remote_code=request.custom_code,
        **overrides,
    )
    output = score(config, progress=False, echo=logging.getLogger(STAGE_LOGGER).info)
    # scoring writes its run folder through mkdtemp/mkstemp (0700/0600): give it the umask's modes
    apply_umask(output.run_dir)
    # The queue checked the sha before scoring; the loader hashes again, so a swap in between shows here.
    if output.result.model.revision_sha != request.sha:
        raise SubmissionError(
            f"model {request.model} changed while it was being scored (it loaded as sha "
            f"{output.result.model.revision_sha[:12]}, submitted as {request.sha[:12]}); submit it again"
        )
    return Path(output.result_path)
