"""Extraction on tiny random models: exactness against plain forward passes, padding and batch
invariance, the shared-prefix cache, layer selection, pooling over the statement's own tokens, errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from tinymodels import statements
from truthstab.activations.extract import decoder_blocks, encode_statements, extract_activations
from truthstab.errors import ActivationError
from truthstab.models.loading import load_model
from truthstab.models.templates import render_user_turn

TEXTS = statements(40)


@pytest.fixture(scope="module")
def llama(tiny_llama_dir):
    return load_model(str(tiny_llama_dir))


@pytest.fixture(scope="module")
def gpt2(tiny_gpt2_dir):
    return load_model(str(tiny_gpt2_dir))


@pytest.fixture(scope="module")
def bert(tiny_bert_dir):
    return load_model(str(tiny_bert_dir))


def _reference(lm, text: str, chat: bool):
    """Block outputs of one statement from a plain, unbatched forward with output_hidden_states."""
    full = render_user_turn(lm.tokenizer, text) if chat else text
    enc = lm.tokenizer(full, add_special_tokens=not chat, return_offsets_mapping=True)
    lo, hi = full.index(text), full.index(text) + len(text)
    own = [k for k, (a, b) in enumerate(enc["offset_mapping"]) if b > a and a < hi and b > lo]
    with torch.inference_mode():
        out = lm.model(torch.tensor([enc["input_ids"]]), output_hidden_states=True)
    return out.hidden_states, own


@pytest.mark.parametrize("name", ["llama", "gpt2", "bert"])
def test_matches_unbatched_forward_on_statement_tokens(name, request):
    lm = request.getfixturevalue(name)
    ext = extract_activations(lm, TEXTS, layers=[0], batch_size=16)
    for i in (0, 7, 13, 39):
        hidden, own = _reference(lm, TEXTS[i], chat=lm.spec.uses_chat_template)
        h = hidden[1][0]  # block 0's output (hidden_states[0] is the embeddings)
        np.testing.assert_allclose(ext.last[0][i], h[own[-1]].numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ext.mean[0][i], h[own].mean(0).numpy(), rtol=1e-4, atol=1e-5)
        assert ext.n_tokens[i] == len(own)


@pytest.mark.parametrize("name", ["llama", "gpt2", "bert"])
def test_same_vectors_at_batch_1_and_32_left_and_right_padding(name, request):
    lm = request.getfixturevalue(name)
    ref = extract_activations(lm, TEXTS, bag_layers=[1], batch_size=1, padding_side="right")
    for batch_size, side in [(32, "right"), (32, "left"), (5, "left")]:
        ext = extract_activations(lm, TEXTS, bag_layers=[1], batch_size=batch_size, padding_side=side)
        for layer in ref.layers:
            np.testing.assert_allclose(ext.last[layer], ref.last[layer], rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(ext.mean[layer], ref.mean[layer], rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(ext.bags[1].offsets, ref.bags[1].offsets)
        np.testing.assert_allclose(ext.bags[1].vectors, ref.bags[1].vectors, rtol=1e-4, atol=1e-5)


def test_shared_prefix_cache_equals_a_full_pass(llama):
    enc = encode_statements(llama, TEXTS)
    # the template prefix (BOS, system prompt with date, user header) is shared and run once
    assert len(enc.shared_prefix) > 5
    cached = extract_activations(llama, TEXTS, batch_size=32, prefix_cache=True)
    full = extract_activations(llama, TEXTS, batch_size=32, prefix_cache=False)
    assert cached.meta["prefix_cache"] and not full.meta["prefix_cache"]
    for layer in (0, 1):
        np.testing.assert_allclose(cached.last[layer], full.last[layer], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(cached.mean[layer], full.mean[layer], rtol=1e-4, atol=1e-5)


def test_one_bos_and_the_pinned_date_in_the_prefix(llama):
    enc = encode_statements(llama, TEXTS[:3])
    bos = llama.tokenizer.bos_token_id
    assert enc.shared_prefix[0] == bos and enc.shared_prefix.count(bos) == 1
    prefix_text = llama.tokenizer.decode(enc.shared_prefix)
    assert "26 July 2024" in prefix_text
    # causal models get nothing after the statement: the template's <|end|> suffix is not fed
    end = llama.tokenizer.convert_tokens_to_ids("<|end|>")
    assert all(end not in ids for ids in enc.ids)
    # base models: the tokenizer's own BOS, once, before the raw statement
    raw = encode_statements(load_model(llama.spec.id, chat_template="off"), TEXTS[:3])
    assert raw.shared_prefix == [bos]


def test_layer_selection_and_no_work_past_the_deepest_layer(llama):
    every = extract_activations(llama, TEXTS[:8])
    assert every.layers == (0, 1)
    calls = []
    handle = decoder_blocks(llama.model)[1].register_forward_hook(lambda *a: calls.append(1))
    try:
        only0 = extract_activations(llama, TEXTS[:8], layers=[0], batch_size=4, prefix_cache=False)
        assert calls == [], "block 1 ran although only layer 0 was asked for"
        # with the prefix cache, the shared prefix runs once through every block; batches stop at block 0
        cached0 = extract_activations(llama, TEXTS[:8], layers=[0], batch_size=4)
        assert calls == [1]
    finally:
        handle.remove()
    assert only0.layers == (0,) and set(only0.last) == {0}
    np.testing.assert_allclose(cached0.last[0], only0.last[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(only0.last[0], every.last[0], rtol=1e-5, atol=1e-6)
    bags_only = extract_activations(llama, TEXTS[:8], layers=[], bag_layers=[1])
    assert bags_only.layers == () and len(bags_only.bags[1]) == 8


def test_bags_hold_every_statement_token(gpt2):
    ext = extract_activations(gpt2, TEXTS[:10], layers=[1], bag_layers=[1], batch_size=3)
    bags = ext.bags[1]
    np.testing.assert_array_equal(bags.lengths(), ext.n_tokens)
    for i in range(10):
        np.testing.assert_allclose(bags.bag(i)[-1], ext.last[1][i], rtol=1e-6)
        np.testing.assert_allclose(bags.bag(i).mean(0), ext.mean[1][i], rtol=1e-4, atol=1e-6)


def test_encoder_pools_without_cls_and_sep(bert):
    enc = encode_statements(bert, ["The city of Lyon is located in France."])
    cls, sep = bert.tokenizer.cls_token_id, bert.tokenizer.sep_token_id
    own = enc.ids[0][enc.starts[0] : enc.ends[0]]
    assert enc.ids[0][0] == cls and enc.ids[0][-1] == sep and cls not in own and sep not in own


def test_non_finite_activations_are_an_error(gpt2):
    broken = copy.copy(gpt2)
    broken.model = copy.deepcopy(gpt2.model)
    with torch.no_grad():
        decoder_blocks(broken.model)[0].mlp.c_proj.bias.fill_(float("nan"))
    with pytest.raises(ActivationError, match="non-finite activations"):
        extract_activations(broken, TEXTS[:4])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": [2]}, "layer 2 does not exist"),
        ({"bag_layers": [-1]}, "layer -1 does not exist"),
        ({"layers": [], "bag_layers": []}, "no layers asked for"),
        ({"batch_size": 0}, "positive integer"),
        ({"padding_side": "middle"}, "left or right"),
    ],
)
def test_bad_requests(gpt2, kwargs, message):
    with pytest.raises(ActivationError, match=message):
        extract_activations(gpt2, TEXTS[:2], **kwargs)
    with pytest.raises(ActivationError, match="no statements"):
        extract_activations(gpt2, [])
