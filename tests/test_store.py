"""The activation store on a tiny model: round trip, reuse, bag-only second entries, resume after an
interrupted run, checksums, list and clear."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import truthstab.activations.store as store_mod
from tinymodels import statements
from truthstab.activations.extract import extract_activations
from truthstab.activations.store import ActivationStore
from truthstab.errors import ActivationError
from truthstab.models.loading import load_model

SHA = "ab" * 32


@pytest.fixture(scope="module")
def llama(tiny_llama_dir):
    return load_model(str(tiny_llama_dir))


@pytest.fixture
def frame():
    texts = statements(20)
    return pd.DataFrame({"id": [f"{i:016x}" for i in range(20)], "statement": texts, "split": "train"})


class CountingExtract:
    """Wraps the real extract_activations, counting calls; optionally fails on call number ``fail_on``."""

    def __init__(self, fail_on: int | None = None):
        self.calls = 0
        self.fail_on = fail_on

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt("killed mid-run")
        return extract_activations(*args, **kwargs)


def test_round_trip_in_bfloat16(llama, frame, tmp_path):
    acts = ActivationStore(tmp_path).get_or_extract(llama, frame, SHA, "cities", bag_layers=[1], chunk_size=8)
    direct = extract_activations(llama, frame["statement"].tolist(), bag_layers=[1])
    assert acts.layers == (0, 1) and list(acts.statements["id"]) == list(frame["id"])
    for layer in (0, 1):
        assert acts.last[layer].dtype == np.float32
        # bf16 keeps 8 bits of mantissa: relative error below 2**-8
        np.testing.assert_allclose(acts.last[layer], direct.last[layer], rtol=2**-8, atol=1e-6)
        np.testing.assert_allclose(acts.mean[layer], direct.mean[layer], rtol=2**-8, atol=1e-6)
    np.testing.assert_array_equal(acts.bags[1].offsets, direct.bags[1].offsets)
    np.testing.assert_allclose(acts.bags[1].vectors, direct.bags[1].vectors, rtol=2**-8, atol=1e-6)
    assert (
        acts.meta["model"]["revision_sha"] == llama.spec.revision_sha
        and acts.meta["storage_dtype"] == "bfloat16"
    )
    chunks = sorted(p.name for p in tmp_path.glob("*/*/chunk-*.safetensors"))
    assert chunks == ["chunk-00000.safetensors", "chunk-00001.safetensors", "chunk-00002.safetensors"]


def test_second_call_reads_and_bag_request_extracts_only_bags(llama, frame, tmp_path, monkeypatch):
    store = ActivationStore(tmp_path)
    counter = CountingExtract()
    monkeypatch.setattr(store_mod, "extract_activations", counter)
    first = store.get_or_extract(llama, frame, SHA, "cities", chunk_size=8)  # the layer sweep
    assert counter.calls == 3 and first.bags == {}
    again = store.get_or_extract(llama, frame, SHA, "cities", layers=[1], chunk_size=8)
    assert counter.calls == 3, "a stored entry was extracted again"
    np.testing.assert_array_equal(again.last[1], first.last[1])
    withbags = store.get_or_extract(llama, frame, SHA, "cities", bag_layers=[1], chunk_size=8)
    assert counter.calls == 6 and len(withbags.bags[1]) == 20
    np.testing.assert_array_equal(withbags.last[0], first.last[0])
    entries = [json.loads(p.read_text()) for p in tmp_path.glob("*/*/index.json")]
    assert sorted((e["layers"], e["bag_layers"]) for e in entries) == [([], [1]), ([0, 1], [])]
    # another domain, dataset or statement list is another group
    store.get_or_extract(llama, frame.iloc[:5], SHA, "cities", chunk_size=8)
    store.get_or_extract(llama, frame.iloc[:5], "cd" * 32, "cities", chunk_size=8)
    assert len(list(tmp_path.iterdir())) == 3


def test_interrupted_run_resumes_at_the_next_chunk(llama, frame, tmp_path, monkeypatch):
    store = ActivationStore(tmp_path)
    monkeypatch.setattr(store_mod, "extract_activations", CountingExtract(fail_on=3))
    with pytest.raises(KeyboardInterrupt):
        store.get_or_extract(llama, frame, SHA, "cities", chunk_size=8)
    [row] = store.list()
    assert row["rows"] == "16/20" and not row["complete"]
    assert not list(tmp_path.glob("*/*/*.tmp")), "a temporary file was left behind"
    resumed = CountingExtract()
    monkeypatch.setattr(store_mod, "extract_activations", resumed)
    acts = store.get_or_extract(llama, frame, SHA, "cities", chunk_size=8)
    assert resumed.calls == 1  # only the last chunk
    assert store.list()[0]["complete"] and store.list()[0]["rows"] == "20/20"
    fresh = ActivationStore(tmp_path / "fresh").get_or_extract(llama, frame, SHA, "cities", chunk_size=8)
    np.testing.assert_array_equal(acts.last[1], fresh.last[1])


def test_corrupted_chunk_is_detected_and_clear_fixes_it(llama, frame, tmp_path):
    store = ActivationStore(tmp_path)
    store.get_or_extract(llama, frame, SHA, "cities", chunk_size=8)
    chunk = next(tmp_path.glob("*/*/chunk-00001.safetensors"))
    data = bytearray(chunk.read_bytes())
    data[-3] ^= 0xFF
    chunk.write_bytes(bytes(data))
    key = store.list()[0]["key"]
    with pytest.raises(ActivationError, match=rf"corrupted .*truthstab cache clear --key {key}"):
        store.get_or_extract(llama, frame, SHA, "cities", chunk_size=8)
    assert store.clear(key=key) == 1 and store.list() == []
    assert store.get_or_extract(llama, frame, SHA, "cities", chunk_size=8).last[0].shape == (20, 32)


def test_list_and_clear_by_model(llama, tiny_gpt2_dir, frame, tmp_path):
    store = ActivationStore(tmp_path)
    store.get_or_extract(llama, frame, SHA, "cities", layers=[0])
    store.get_or_extract(load_model(str(tiny_gpt2_dir)), frame, SHA, "cities", layers=[0, 1])
    rows = store.list()
    assert sorted(r["layers"] for r in rows) == ["0", "0,1"] and all(r["bytes"] > 0 for r in rows)
    assert store.clear(model=llama.spec.revision_sha[:10]) == 1
    assert [r["layers"] for r in store.list()] == ["0,1"]
    assert store.clear() == 1 and not any(tmp_path.iterdir())


def test_default_root_follows_truthstab_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUTHSTAB_CACHE", str(tmp_path))
    assert ActivationStore().root == tmp_path / "activations"


def test_frame_without_statements_is_refused(llama, tmp_path):
    with pytest.raises(ActivationError, match="no 'statement' column"):
        ActivationStore(tmp_path).get_or_extract(llama, pd.DataFrame({"text": ["x"]}), SHA, "cities")


def test_a_corrupt_index_is_listed_as_corrupt_not_fatal(tmp_path):
    from truthstab.activations.store import INDEX, ActivationStore

    entry = tmp_path / "groupkey" / "entrykey"
    entry.mkdir(parents=True)
    (entry / INDEX).write_text("{not json")
    rows = ActivationStore(tmp_path).list()
    assert [r["key"] for r in rows] == ["groupkey/entrykey"]
    assert rows[0]["complete"] == "corrupt"
