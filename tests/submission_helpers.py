"""Small model folders for submission tests: real safetensors files and model cards, no torch needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

#: Parameters in the folders `make_model_dir` writes (3 x 4 weight + 5 bias).
PARAMS = 17


def make_model_dir(
    path: Path,
    license: str | None = "mit",
    weights: bool = True,
    license_file: bool = False,
    config: dict | None = None,
    extra_files: dict[str, str] | None = None,
) -> Path:
    """A model folder with safetensors weights, config.json and a model card, varied by the arguments."""
    path.mkdir(parents=True, exist_ok=True)
    if weights:
        save_file(
            {"w": np.zeros((3, 4), dtype=np.float32), "b": np.ones(5, dtype=np.float32)},
            str(path / "model.safetensors"),
        )
    else:
        (path / "pytorch_model.bin").write_bytes(b"pickle would go here")
    (path / "config.json").write_text(json.dumps(config or {"model_type": "llama"}))
    card = (
        f"---\nlicense: {license}\n---\n# A test model\n" if license else "# A test model without metadata\n"
    )
    (path / "README.md").write_text(card)
    if license_file:
        (path / "LICENSE").write_text("Permission is hereby granted...\n")
    for name, text in (extra_files or {}).items():
        (path / name).write_text(text)
    return path


def make_hub_cache(cache: Path, repo_id: str, sha: str, revision: str = "main", **kwargs) -> Path:
    """A Hugging Face Hub cache with one snapshot of ``repo_id`` at ``sha``, ``revision`` pointing to it."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = make_model_dir(repo / "snapshots" / sha, **kwargs)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / revision).write_text(sha)
    return snapshot


def make_request(root: Path, name: str, seed: int = 0, custom_code: bool = False, age_s: float = 0.0):
    """Write a PENDING request for a real local model folder straight into a queue, skipping the checks.

    The folder lies beside the queue (``<root>-models/<name>``), its content varied by ``seed``, and the
    request carries its true content sha: the queue re-hashes a local folder before scoring it.
    """
    from datetime import timedelta

    from truthstab.fileio import utcnow
    from truthstab.submissions.requests import Request, create_request, request_id
    from truthstab.submissions.submit import local_content_sha

    folder = make_model_dir(
        root.parent / f"{root.name}-models" / name, config={"model_type": "llama", "seed": seed}
    )
    sha = local_content_sha(folder)
    request = Request(
        id=request_id("local", name, sha, "float32"),
        model=str(folder.resolve()),
        source="local",
        org="local",
        name=name,
        revision=sha,
        sha=sha,
        dtype="float32",
        params=PARAMS,
        license="mit",
        custom_code=custom_code,
        submitted_at=utcnow() - timedelta(seconds=age_s),
    )
    create_request(root / request.relpath, request)
    return request


def write_result(request, out_root: Path, note: str = "") -> Path:
    """What a scorer writes: ``<out_root>/<org>__<name>/<sha>/result.json``."""
    path = out_root / request.folder / request.sha / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": request.model, "sha": request.sha, "note": note}))
    return path
