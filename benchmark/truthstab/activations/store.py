"""The on-disk activation store: computed once, resumable, verified on load.

Layout under the root (``$TRUTHSTAB_CACHE/activations`` or ``~/.cache/truthstab/activations``)::

    <group>/            one per (model revision sha, dtype, chat template hash, dataset sha256, domain,
                        statement list digest, extractor version): everything that changes the numbers
      <entry>/          one per (pooled layers, bag layers) asked for
        index.json      the entry's description and its committed chunks (sha256 each), rewritten atomically
        chunk-00000.safetensors   rows 0..511: last.L, mean.L (bf16), bag.L.vectors (bf16), bag.L.offsets

Values are stored as bfloat16: float32's range in 16 bits (float16 overflows on models with massive
activations, docs/method.md §4). A chunk file is written under a temporary name and renamed, and only then
listed in the index, so a killed run leaves at most an unlisted temporary file: the next run resumes at
the first unlisted chunk. Every chunk's sha256 is checked when it is read.

The probe stage asks first for all layers without bags (the layer sweep), then for bags of one layer: the
second call finds the pooled layers in the first entry and extracts only the bags, into a second entry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from filelock import FileLock
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from truthstab.activations.extract import extract_activations
from truthstab.activations.types import ActivationSet, TokenBags
from truthstab.errors import ActivationError
from truthstab.fileio import atomic_write, atomic_write_json, cache_root, sha256_file
from truthstab.models.loading import LoadedModel

#: Bumped whenever extraction or the file format changes what an entry holds.
STORE_VERSION = 1
CHUNK_SIZE = 512
INDEX = "index.json"


class ActivationStore:
    """Activations on disk, keyed by everything that determines them."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else cache_root() / "activations"

    def get_or_extract(
        self,
        loaded: LoadedModel,
        statements_df: pd.DataFrame,
        dataset_sha256: str,
        domain: str,
        layers: Sequence[int] | None = None,
        bag_layers: Sequence[int] = (),
        batch_size: int | str = "auto",
        progress: bool = False,
        chunk_size: int = CHUNK_SIZE,
    ) -> ActivationSet:
        """The activations of ``statements_df`` (its ``statement`` column, in row order), from the store or
        extracted now (only what is missing) and stored.

        ``layers``: pooled (last + mean) layers, None for all; ``bag_layers``: layers whose token bags are
        wanted as well.
        """
        frame, group, pooled, bags = self.ensure(
            loaded,
            statements_df,
            dataset_sha256,
            domain,
            layers,
            bag_layers,
            batch_size,
            progress,
            chunk_size,
        )
        return _assemble(group, _complete_entries(group), frame, pooled, bags)

    def ensure(
        self,
        loaded: LoadedModel,
        statements_df: pd.DataFrame,
        dataset_sha256: str,
        domain: str,
        layers: Sequence[int] | None = None,
        bag_layers: Sequence[int] = (),
        batch_size: int | str = "auto",
        progress: bool = False,
        chunk_size: int = CHUNK_SIZE,
    ) -> tuple[pd.DataFrame, Path, tuple[int, ...], tuple[int, ...]]:
        """Extract and store whatever of ``layers`` / ``bag_layers`` the store lacks, reading nothing back.

        Returns (statements, group folder, pooled layers, bag layers). With it a caller can extract every
        layer once and then read them one at a time (:meth:`get_or_extract` with one layer), so the peak
        memory holds one layer, not all.
        """
        if "statement" not in statements_df.columns:
            raise ActivationError(
                "the statements table has no 'statement' column: pass a release's data frame"
            )
        frame = statements_df.reset_index(drop=True)
        n_layers = loaded.spec.n_layers
        pooled = tuple(range(n_layers)) if layers is None else tuple(sorted(set(layers)))
        bags = tuple(sorted(set(bag_layers)))
        group = self.root / _group_key(loaded, frame, dataset_sha256, domain)
        have = _complete_entries(group)
        need_pooled = tuple(layer for layer in pooled if not any(layer in e["layers"] for e in have))
        need_bags = tuple(layer for layer in bags if not any(layer in e["bag_layers"] for e in have))
        if need_pooled or need_bags:
            desc = _description(loaded, frame, dataset_sha256, domain, need_pooled, need_bags, chunk_size)
            self._fill(
                group / _entry_key(need_pooled, need_bags, chunk_size),
                desc,
                loaded,
                frame,
                batch_size,
                progress,
            )
        return frame, group, pooled, bags

    def _fill(self, entry: Path, desc: dict, loaded, frame: pd.DataFrame, batch_size, progress: bool) -> None:
        """Extract and commit every chunk of ``entry`` not committed yet (resuming a killed run)."""
        from tqdm.auto import tqdm

        entry.mkdir(parents=True, exist_ok=True)
        with FileLock(str(entry / ".lock")):
            index = _read_index(entry) or {**desc, "chunks": [], "complete": False}
            n, size = len(frame), desc["chunk_size"]
            done = {c["start"] for c in index["chunks"]}
            bar = tqdm(total=n, disable=not progress, unit="stmt", desc="activations", smoothing=0.1)
            bar.update(sum(c["stop"] - c["start"] for c in index["chunks"]))
            texts = frame["statement"].astype(str).tolist()
            for start in range(0, n, size):
                if start in done:
                    continue
                stop = min(start + size, n)
                ext = extract_activations(
                    loaded,
                    texts[start:stop],
                    layers=desc["layers"],
                    bag_layers=desc["bag_layers"],
                    batch_size=batch_size,
                    on_progress=bar.update,
                )
                name = f"chunk-{start // size:05d}.safetensors"
                digest = _write_chunk(entry / name, ext)
                index["chunks"].append({"file": name, "start": start, "stop": stop, "sha256": digest})
                index["extraction"] = ext.meta
                atomic_write_json(entry / INDEX, index)
            bar.close()
            index["complete"] = True
            index["completed_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            atomic_write_json(entry / INDEX, index)

    def list(self) -> list[dict]:
        """Every entry (complete or partial) with its model, dataset, domain, layers, progress and size."""
        rows = []
        for index_path in sorted(self.root.glob(f"*/*/{INDEX}")):
            entry = index_path.parent
            try:
                index = _read_index(entry)
            except ActivationError:
                # One damaged entry must not hide the others: list it as corrupt so `cache clear --key` can remove it.
                rows.append(_corrupt_row(entry))
                continue
            if index is None:
                continue
            rows.append(
                {
                    "key": f"{entry.parent.name}/{entry.name}",
                    "model": index["model"]["alias"] or index["model"]["id"],
                    "revision": index["model"]["revision_sha"][:12],
                    "dtype": index["model"]["dtype"],
                    "dataset_sha256": index["dataset_sha256"][:12],
                    "domain": index["domain"],
                    "layers": _compact(index["layers"]),
                    "bag_layers": _compact(index["bag_layers"]),
                    "rows": f"{sum(c['stop'] - c['start'] for c in index['chunks'])}/{index['n_statements']}",
                    "complete": index["complete"],
                    "bytes": sum(p.stat().st_size for p in entry.iterdir() if p.is_file()),
                }
            )
        return rows

    def clear(self, model: str | None = None, key: str | None = None) -> int:
        """Delete entries: all, those of a model (alias, id or revision sha prefix), or one key (prefix).

        Returns the number of entries removed.
        """
        removed = 0
        for row in self.list():
            index = _read_index(self.root / row["key"])
            spec = index["model"] if index else {}
            names = {spec.get("alias"), spec.get("id")}
            if (
                model is not None
                and model not in names
                and not spec.get("revision_sha", "").startswith(model)
            ):
                continue
            if key is not None and not row["key"].startswith(key):
                continue
            shutil.rmtree(self.root / row["key"], ignore_errors=True)
            removed += 1
        for group in self.root.glob("*") if self.root.exists() else []:
            if group.is_dir() and not any(group.iterdir()):
                group.rmdir()
        return removed


def _group_key(loaded: LoadedModel, frame: pd.DataFrame, dataset_sha256: str, domain: str) -> str:
    spec = loaded.spec
    parts = [
        f"v{STORE_VERSION}",
        spec.revision_sha,
        spec.dtype,
        spec.chat_template_sha256,
        spec.architecture,
        dataset_sha256,
        domain,
        _statements_digest(frame),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def _entry_key(layers: tuple[int, ...], bag_layers: tuple[int, ...], chunk_size: int) -> str:
    text = f"{list(layers)}|{list(bag_layers)}|{chunk_size}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _statements_digest(frame: pd.DataFrame) -> str:
    """sha256 over the statement texts (and ids if present), in order: the rows this entry belongs to."""
    ids = frame["id"].astype(str) if "id" in frame.columns else pd.Series([""] * len(frame))
    joined = "\x1e".join(f"{i}\x1f{s}" for i, s in zip(ids, frame["statement"].astype(str), strict=True))
    return hashlib.sha256(joined.encode()).hexdigest()


def _description(loaded, frame, dataset_sha256, domain, layers, bag_layers, chunk_size) -> dict:
    return {
        "store_version": STORE_VERSION,
        "model": loaded.spec.model_dump(),
        "dataset_sha256": dataset_sha256,
        "domain": domain,
        "statements_sha256": _statements_digest(frame),
        "n_statements": len(frame),
        "layers": list(layers),
        "bag_layers": list(bag_layers),
        "chunk_size": chunk_size,
        "storage_dtype": "bfloat16",
    }


def _write_chunk(path: Path, ext) -> str:
    """Write one chunk atomically (temporary name, then rename); return its sha256."""
    tensors = {}
    for layer in ext.layers:
        tensors[f"last.{layer}"] = torch.from_numpy(ext.last[layer]).to(torch.bfloat16)
        tensors[f"mean.{layer}"] = torch.from_numpy(ext.mean[layer]).to(torch.bfloat16)
    for layer, bags in ext.bags.items():
        tensors[f"bag.{layer}.vectors"] = torch.from_numpy(bags.vectors).to(torch.bfloat16)
        tensors[f"bag.{layer}.offsets"] = torch.from_numpy(bags.offsets)
    digests = []

    def write(tmp: Path) -> None:
        save_file(tensors, str(tmp))
        digests.append(sha256_file(tmp))

    atomic_write(path, write)
    return digests[0]


#: Chunk files whose checksum this process has verified, by (path, size, mtime): reading one layer at a
#: time reads a chunk once per layer, and hashing it every time would cost more than the read.
_VERIFIED: set[tuple[str, int, int]] = set()


def _read_chunk(entry: Path, chunk: dict, names: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    """The tensors ``names`` of one chunk (all when None), after verifying the chunk's checksum."""
    path = entry / chunk["file"]
    stat = path.stat() if path.exists() else None
    key = (str(path), stat.st_size, stat.st_mtime_ns) if stat else None
    if key not in _VERIFIED:
        if stat is None or sha256_file(path) != chunk["sha256"]:
            raise ActivationError(
                f"activation store entry {entry.parent.name}/{entry.name} is corrupted ({chunk['file']} fails "
                f"its checksum): run `truthstab cache clear --key {entry.parent.name}/{entry.name}` and "
                "extract again"
            )
        _VERIFIED.add(key)
    if names is None:
        return load_file(path)
    with safe_open(path, framework="pt") as fh:
        return {name: fh.get_tensor(name) for name in names}


def _assemble(group: Path, entries: list[dict], frame, pooled, bags) -> ActivationSet:
    """Read the requested layers from the complete entries of a group into one ActivationSet.

    Chunks are read (and verified) one at a time into preallocated float32 arrays, so the peak memory is
    the result plus one chunk.
    """
    last, mean, bag_sets, sources = {}, {}, {}, []
    for entry_index in entries:
        entry = group / entry_index["_dir"]
        my_pooled = [layer for layer in pooled if layer in entry_index["layers"] and layer not in last]
        my_bags = [layer for layer in bags if layer in entry_index["bag_layers"] and layer not in bag_sets]
        if not my_pooled and not my_bags:
            continue
        sources.append(f"{group.name}/{entry.name}")
        bag_parts: dict[int, list] = {layer: [] for layer in my_bags}
        names = [f"{kind}.{layer}" for layer in my_pooled for kind in ("last", "mean")]
        names += [f"bag.{layer}.{part}" for layer in my_bags for part in ("vectors", "offsets")]
        for chunk in sorted(entry_index["chunks"], key=lambda c: c["start"]):
            tensors = _read_chunk(entry, chunk, names)
            rows = slice(chunk["start"], chunk["stop"])
            for layer in my_pooled:
                for table, name in ((last, "last"), (mean, "mean")):
                    block = tensors[f"{name}.{layer}"].float().numpy()
                    if layer not in table:
                        table[layer] = np.empty((len(frame), block.shape[1]), np.float32)
                    table[layer][rows] = block
            for layer in my_bags:
                bag_parts[layer].append((tensors[f"bag.{layer}.vectors"], tensors[f"bag.{layer}.offsets"]))
        for layer, parts in bag_parts.items():
            bag_sets[layer] = _join_bags(parts)
    first = entries[0] if entries else {}
    meta = {
        "model": first.get("model", {}),
        "dataset_sha256": first.get("dataset_sha256", ""),
        "domain": first.get("domain", ""),
        "store_entries": sources,
        "storage_dtype": "bfloat16",
        "extraction": first.get("extraction", {}),
    }
    return ActivationSet(
        statements=frame, layers=tuple(pooled), last=last, mean=mean, bags=bag_sets, meta=meta
    )


def _join_bags(parts: list[tuple[torch.Tensor, torch.Tensor]]) -> TokenBags:
    vectors = torch.cat([v for v, _ in parts]).float().numpy()
    offsets, base = [np.zeros(1, np.int64)], 0
    for vecs, offs in parts:
        offsets.append(offs.numpy()[1:] + base)
        base += len(vecs)
    return TokenBags(vectors=vectors, offsets=np.concatenate(offsets))


def _complete_entries(group: Path) -> list[dict]:
    """Indexes of the group's complete entries, each with its folder name under ``_dir``."""
    out = []
    for index_path in sorted(group.glob(f"*/{INDEX}")) if group.exists() else []:
        index = _read_index(index_path.parent)
        if index and index.get("complete") and index.get("store_version") == STORE_VERSION:
            out.append({**index, "_dir": index_path.parent.name})
    return out


def _corrupt_row(entry: Path) -> dict:
    """A listing row for an entry whose index cannot be read."""
    return {
        "key": f"{entry.parent.name}/{entry.name}",
        "model": "?",
        "revision": "?",
        "dtype": "?",
        "dataset_sha256": "?",
        "domain": "?",
        "layers": "?",
        "bag_layers": "?",
        "rows": "?",
        "complete": "corrupt",
        "bytes": sum(p.stat().st_size for p in entry.iterdir() if p.is_file()),
    }


def _read_index(entry: Path) -> dict | None:
    try:
        return json.loads((entry / INDEX).read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ActivationError(
            f"activation store index {entry / INDEX} is unreadable: run `truthstab cache clear --key "
            f"{entry.parent.name}/{entry.name}`"
        ) from exc


def _compact(layers: list[int]) -> str:
    """'0-29' for a contiguous run, else the comma list; '-' for none."""
    if not layers:
        return "-"
    if layers == list(range(layers[0], layers[-1] + 1)) and len(layers) > 2:
        return f"{layers[0]}-{layers[-1]}"
    return ",".join(map(str, layers))
