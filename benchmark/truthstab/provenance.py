"""Where a result came from: harness version and git state, environment and library versions."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from truthstab import __version__
from truthstab.results import EnvironmentRecord, HarnessRecord

#: Libraries whose versions can change the numbers of a run.
TRACKED_LIBRARIES = (
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
    "huggingface-hub",
    "numpy",
    "scipy",
    "scikit-learn",
    "sawmil",
    "pandas",
    "pyarrow",
    "gguf",
)


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def harness_record() -> HarnessRecord:
    """The harness version, and the git commit and dirty flag when running from a source checkout."""
    git_hash = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no", "--", "benchmark") if git_hash else None
    return HarnessRecord(
        version=__version__, git_hash=git_hash, git_dirty=None if status is None else bool(status)
    )


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that matter for the numbers (absent ones are left out)."""
    found = {}
    for name in TRACKED_LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def accelerator_facts() -> dict[str, str | int | bool | None]:
    """What the numbers' precision depends on: threads, CUDA (version, devices, capability) and whether the
    CPU multiplies bfloat16 natively. Empty when torch is not installed."""
    try:
        import torch
    except ImportError:
        return {}
    facts: dict[str, str | int | bool | None] = {
        "torch_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "cpu_native_bfloat16": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
    }
    if torch.cuda.is_available():
        facts["cuda_devices"] = ", ".join(
            torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
        )
        facts["cuda_capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
        facts["cudnn_version"] = torch.backends.cudnn.version()
    return facts


def tokenizer_facts(tokenizer) -> dict[str, str | int | bool | None]:
    """The tokenizer facts that change token ids or lengths (None: no tokenizer)."""
    if tokenizer is None:
        return {}
    limit = getattr(tokenizer, "model_max_length", None)
    return {
        "class": type(tokenizer).__name__,
        "vocab_size": len(tokenizer),
        "is_fast": bool(getattr(tokenizer, "is_fast", False)),
        "padding_side": getattr(tokenizer, "padding_side", None),
        "model_max_length": limit if isinstance(limit, int) and limit < 10**9 else None,
    }


def environment_record(device: str, tokenizer=None) -> EnvironmentRecord:
    """The machine a run executed on, and the tokenizer it used."""
    return EnvironmentRecord(
        device=device,
        python=sys.version.split()[0],
        platform=platform.platform(),
        libraries=library_versions(),
        accelerator=accelerator_facts(),
        tokenizer=tokenizer_facts(tokenizer),
    )
