"""The behavioural track on tiny random models saved and reloaded through the real loading path: prompts
(plain and chat), option-letter scoring, the shared-prefix cache against full passes, padding invariance,
context fitting, errors, and the metrics on hand-built answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from tinymodels import build_tiny_gemma3, build_tiny_gpt2, build_tiny_llama, statements
from truthstab.activations import prefix as prefix_mod
from truthstab.behaviour import PROMPTS, BehaviouralReport, forward
from truthstab.behaviour import prompts as P
from truthstab.behaviour.answers import option_probabilities, option_token_ids
from truthstab.behaviour.fitting import encode_prompts, fit_prompts, max_length
from truthstab.behaviour.forward import answer_probabilities, forward_plan, reuses_prefix
from truthstab.behaviour.metrics import answer_shares, bootstrap_matrix, flip_metrics
from truthstab.behaviour.report import Estimate
from truthstab.behaviour.run import behavioural_support, run_behavioural
from truthstab.errors import DatasetError, ModelError, ProbeError
from truthstab.models.loading import load_model
from truthstab.models.templates import pinned_date

#: Prompt words for the tiny tokenizers, so prompts stay short enough for quick tests.
PROMPT_WORDS = (P.SYSTEM, P.OPTIONS, P.BELIEVE, P.QUESTION, f"{P.RESPOND} {P.ANSWER_START}", "a b c")
KINDS = ("true", "false", "synthetic", "fictional")


def release_frame(n: int = 48, seed: int = 0) -> pd.DataFrame:
    """A release-shaped domain frame: kinds cycle, a third of the rows in test, the rest in train."""
    rows = []
    for i, text in enumerate(statements(n)):
        kind = KINDS[i % 4]
        fiction = ("true" if (i // 4 + seed) % 2 else "false") if kind == "fictional" else ""
        split = "test" if i % 3 == 0 else "train"
        rows.append(
            {
                "id": f"{seed}-{i:03d}",
                "kind": kind,
                "split": split,
                "statement": text,
                "fiction_truth": fiction,
            }
        )
    return pd.DataFrame(rows)


FRAMES = {"medicine": release_frame(48, 1), "cities": release_frame(48, 0)}


def _sharpen(lm, scale: float = 6.0):
    """Scale a random model's attention and output weights, which are initialised so small that attention is
    nearly uniform and every next token about equally likely: then a wrong position, mask or cache would
    hardly move the answer probabilities, and the exactness tests could not fail."""
    with torch.no_grad():
        for name, param in lm.model.named_parameters():
            if any(k in name for k in ("q_proj", "k_proj", "c_attn", "lm_head", "wte")):
                param.mul_(scale)
    return lm


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    folder = build_tiny_llama(tmp_path_factory.mktemp("chat"), max_positions=1024, extra_corpus=PROMPT_WORDS)
    return _sharpen(load_model(str(folder)))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = build_tiny_gpt2(tmp_path_factory.mktemp("base"), max_positions=1024, extra_corpus=PROMPT_WORDS)
    return _sharpen(load_model(str(folder)))


def _true_test(frame: pd.DataFrame) -> list[str]:
    return frame[(frame.kind == "true") & (frame.split == "test")]["statement"].tolist()


# --------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("name", ["chat", "base"])
def test_end_to_end_report_and_predictions(name, request):
    lm = request.getfixturevalue(name)
    report = run_behavioural(lm, FRAMES, seed=3, n_bootstrap=200, batch_size=4)
    assert [d.domain for d in report.domains] == ["cities", "medicine"]
    assert report.layout == ("chat" if name == "chat" else "plain")
    pred = report.predictions_frame()
    n_true = {d: len(_true_test(f)) for d, f in FRAMES.items()}
    assert len(pred) == sum(n_true.values()) * len(PROMPTS)
    probs = pred[["p_a", "p_b", "p_c", "p_outside"]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    assert (pred["answer"] == np.array(["a", "b", "c"])[probs[:, :3].argmax(1)]).all()
    assert (pred["prediction"] == (pred["answer"] == "a")).all()
    for dom in report.domains:
        frame = FRAMES[dom.domain]
        here = pred[pred.domain == dom.domain]
        base_pred = here[here.prompt == "baseline"]["prediction"].to_numpy()
        assert dom.prompts[0].prompt == "baseline" and dom.prompts[0].flips is None
        for p in dom.prompts[1:]:
            pk = here[here.prompt == p.prompt]["prediction"].to_numpy()
            assert p.flips.retraction_count == int((base_pred & ~pk).sum())
            assert p.flips.expansion_count == int((~base_pred & pk).sum())
            pool = P.context_pool(frame, p.prompt)
            assert p.context.ids == [i for i in pool["id"] if i in set(p.context.ids)]  # release order
            assert p.context.n_kept == p.context.n_drawn == min(P.K_CONTEXT, len(pool))
            assert p.context.prefix_cache and p.context.prefix_tokens > 20
        shares = dom.prompts[0].shares
        assert shares.a.value + shares.b.value + shares.c.value == pytest.approx(1.0)
    again = run_behavioural(lm, FRAMES, seed=3, n_bootstrap=200, batch_size=7)
    # another batch size: the same answers, probabilities to float tolerance, the same metrics
    pd.testing.assert_frame_equal(again.predictions_frame(), pred, check_exact=False, rtol=1e-4)
    pd.testing.assert_frame_equal(again.metrics_frame(), report.metrics_frame())
    restored = BehaviouralReport.model_validate_json(report.model_dump_json())
    assert restored.predictions_frame().equals(pred)


def test_context_is_seeded_and_drawn_from_the_right_training_pool():
    frame = release_frame(400)
    train = frame[frame.split == "train"]
    for prompt, rows in [
        ("synthetic", train[train.kind == "synthetic"]),
        ("fictional", train[train.kind == "fictional"]),
        ("fictional-true", train[(train.kind == "fictional") & (train.fiction_truth == "true")]),
        ("control", train[train.kind == "true"]),
    ]:
        drawn = P.draw_context(frame, "cities", prompt, seed=0, k=10)
        assert len(drawn) == 10 and set(drawn.id) <= set(rows.id)
        assert list(drawn.index) == sorted(drawn.index)  # release order
        assert drawn.equals(P.draw_context(frame, "cities", prompt, seed=0, k=10))
        assert not drawn.equals(P.draw_context(frame, "cities", prompt, seed=1, k=10))
        assert P.draw_context(frame, "cities", prompt, seed=0, k=10**4).equals(rows)  # pool < K: all
    assert P.draw_context(frame, "cities", "baseline", seed=0).empty


# --------------------------------------------------------------------------- prompts


def test_chat_prompt_continues_the_assistant_turn(chat):
    tok = chat.tokenizer
    text = _true_test(FRAMES["cities"])[0]
    parts = P.build_prompt(chat, ["The city of Oslo is located in Norway."])
    prompt = parts.before + text + parts.after
    content = f"{P.question_block(['The city of Oslo is located in Norway.'])}{text}\n{P.OPTIONS}"
    messages = [
        {"role": "system", "content": P.SYSTEM},
        {"role": "user", "content": content},
        {"role": "assistant", "content": P.ANSWER_START},
    ]
    with pinned_date():
        rendered = tok.apply_chat_template(messages, tokenize=False, continue_final_message=True)
    # transformers strips the continued message's trailing space; the option letter must follow "is "
    assert prompt.rstrip(" ") == rendered.rstrip(" ") and prompt.endswith("The final answer is ")
    assert "<|end|>" not in prompt.split("<|assistant|>")[1]
    assert "26 July 2024" in prompt  # the template's date is pinned
    ids = encode_prompts(chat, [text], ["The city of Oslo is located in Norway."])
    full = ids.shared_prefix + ids.ids[0]
    assert full[0] == tok.bos_token_id and full.count(tok.bos_token_id) == 1  # no double BOS
    assert tok.decode(full).endswith("The final answer is ")


def test_base_prompt_is_plain_text(base):
    parts = P.build_prompt(base, [])
    assert parts.before == "Is the following statement correct?\n"
    assert parts.after.endswith("Please respond with the corresponding letter. The final answer is ")
    assert "<|" not in parts.before + parts.after


def test_no_chat_template_asked_for_one(tmp_path):
    folder = build_tiny_llama(tmp_path / "plain", chat_template=False, extra_corpus=PROMPT_WORDS)
    with pytest.raises(ModelError, match="no chat template"):  # the loader refuses, as for extraction
        load_model(str(folder), chat_template="on")
    lm = load_model(str(folder))
    forced = type(lm)(lm.model, lm.tokenizer, lm.spec.model_copy(update={"uses_chat_template": True}))
    with pytest.raises(ModelError, match="chat_template='off'"):
        run_behavioural(forced, FRAMES, n_bootstrap=10)


def test_encoders_are_skipped_with_a_reason(tiny_bert_dir, chat):
    bert = load_model(str(tiny_bert_dir))
    assert "encoder" in behavioural_support(bert.spec)
    assert behavioural_support(chat.spec) is None
    with pytest.raises(ProbeError, match="encoder"):
        run_behavioural(bert, FRAMES)


# --------------------------------------------------------------------------- exactness


def _plain_answer(lm, prompt_text: str, option_ids) -> np.ndarray:
    """P(a, b, c, outside) from one plain forward over the whole prompt: none of our batching code."""
    chat = lm.spec.uses_chat_template
    ids = lm.tokenizer(prompt_text, add_special_tokens=not chat)["input_ids"]
    with torch.inference_mode():
        logits = lm.model(torch.tensor([ids])).logits[:, -1]
    return option_probabilities(logits, option_ids)[0]


@pytest.mark.parametrize("plan", ["packed", "padded"])
@pytest.mark.parametrize("name", ["chat", "base"])
def test_cached_prefix_equals_a_full_pass(name, plan, request):
    lm = request.getfixturevalue(name)
    texts, context = _true_test(FRAMES["cities"]), P.draw_context(FRAMES["cities"], "c", "control", 0)
    ctx = context["statement"].tolist()
    ids = option_token_ids(lm.tokenizer)
    cached = encode_prompts(lm, texts, ctx, share_prefix=True)
    full = encode_prompts(lm, texts, ctx, share_prefix=False)
    assert len(cached.shared_prefix) > 20 and not full.shared_prefix
    fast = answer_probabilities(lm, cached, ids, batch_size=3, plan=plan)
    slow = answer_probabilities(lm, full, ids, batch_size=3, plan="padded")
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-7)
    parts = P.build_prompt(lm, ctx)
    for i in (0, len(texts) - 1):
        ref = _plain_answer(lm, parts.before + texts[i] + parts.after, ids)
        np.testing.assert_allclose(fast[i], ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["chat", "base"])
def test_padding_and_batch_size_do_not_change_answers(name, request):
    lm = request.getfixturevalue(name)
    texts = statements(30)  # token lengths differ, so batches are padded
    ids = option_token_ids(lm.tokenizer)
    enc = encode_prompts(lm, texts, texts[:5])
    assert len({len(s) for s in enc.ids}) > 2
    ref = answer_probabilities(lm, enc, ids, batch_size=1, plan="padded")
    for size, side in [(32, "left"), (32, "right"), (7, "right"), (4, "left")]:
        got = answer_probabilities(lm, enc, ids, batch_size=size, padding_side=side, plan="padded")
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    for size in (1, 4, 30, "auto"):  # which statements share a packed row does not matter either
        got = answer_probabilities(lm, enc, ids, batch_size=size, plan="packed")
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("window", "reused"), [(16, False), (512, True)])
def test_sliding_window_layers_reuse_the_prefix_only_when_exact(window, reused, tmp_path):
    # a sliding layer's cache keeps only its window: a longer prompt cannot reuse the prefix exactly
    lm = _sharpen(load_model(str(build_tiny_gemma3(tmp_path / "g", window, extra_corpus=PROMPT_WORDS))))
    texts, ids = statements(12), option_token_ids(lm.tokenizer)
    cached, full = (
        encode_prompts(lm, texts, texts[:5]),
        encode_prompts(lm, texts, texts[:5], share_prefix=False),
    )
    assert len(cached.shared_prefix) > 16 and reuses_prefix(lm.model, cached) is reused
    ref = answer_probabilities(lm, full, ids, batch_size=1, plan="padded")
    got = answer_probabilities(lm, cached, ids, batch_size=5, plan="padded")
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    # packing reuses the prefix whatever the window: its mask names every key's true position
    assert forward_plan(lm, cached) == "packed"
    got = answer_probabilities(lm, cached, ids, batch_size=5, plan="packed")
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["chat", "base"])
def test_packing_is_the_default_and_its_check_catches_a_leaky_mask(name, request, monkeypatch):
    lm = request.getfixturevalue(name)
    ids = option_token_ids(lm.tokenizer)
    enc = encode_prompts(lm, statements(6), statements(8))
    assert forward_plan(lm, enc) == "packed"

    def leaky(model, batch, cached):  # a plain causal mask: packed statements would see each other
        mask = prefix_mod.packed_masks(model, batch, cached)
        return torch.zeros_like(mask) + torch.triu(
            torch.full(mask.shape[-2:], -1e30), 1 + mask.shape[-1] - mask.shape[-2]
        )

    monkeypatch.setattr(forward, "packed_masks", leaky)
    assert forward_plan(lm, enc) == "padded"
    np.testing.assert_allclose(
        answer_probabilities(lm, enc, ids),
        answer_probabilities(
            lm, encode_prompts(lm, statements(6), statements(8), share_prefix=False), ids, plan="padded"
        ),
        rtol=1e-5,
        atol=1e-7,
    )


# --------------------------------------------------------------------------- option letters


def _word_tokenizer(vocab: dict[str, int], split_spaces: bool) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = (
        pre_tokenizers.Split(" ", behavior="isolated") if split_spaces else pre_tokenizers.Whitespace()
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")


def test_option_ids_sum_both_forms_and_drop_shared_ids(chat):
    ids = option_token_ids(chat.tokenizer)
    enc = chat.tokenizer.encode
    for letter in "abc":
        forms = set(enc(letter, add_special_tokens=False)) | set(enc(f" {letter}", add_special_tokens=False))
        assert set(ids[letter]) == forms
        assert len(ids[letter]) == 2  # "a" and " a" are distinct tokens here: both count
    # " a" -> [" ", "a"]: the space piece is shared by every option and must not count for any
    spaced = _word_tokenizer({"[UNK]": 0, " ": 1, "a": 2, "b": 3, "c": 4}, split_spaces=True)
    assert option_token_ids(spaced) == {"a": [2], "b": [3], "c": [4]}


def test_option_letters_on_one_id_are_an_error():
    unk_only = _word_tokenizer({"[UNK]": 0, "x": 1}, split_spaces=False)
    with pytest.raises(ModelError, match="option letter"):
        option_token_ids(unk_only)


def test_option_probabilities_sum_forms_and_keep_the_outside_mass():
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.15, 0.05, 0.2]]))
    got = option_probabilities(logits, {"a": [0, 3], "b": [1], "c": [4]})
    np.testing.assert_allclose(got[0], [0.25, 0.2, 0.05, 0.5], atol=1e-6)


# --------------------------------------------------------------------------- context length


def test_context_is_truncated_from_the_end_to_fit(tmp_path):
    folder = build_tiny_llama(tmp_path / "short", max_positions=160, extra_corpus=PROMPT_WORDS)
    lm = load_model(str(folder))
    assert max_length(lm) == 160
    texts, drawn = _true_test(FRAMES["cities"]), P.draw_context(FRAMES["cities"], "c", "control", 0)
    ctx = drawn["statement"].tolist()
    fitted = fit_prompts(lm, texts, ctx)
    assert 0 < fitted.n_kept < len(ctx) and "dropped from the end" in fitted.note
    longest = len(fitted.encoded.shared_prefix) + max(map(len, fitted.encoded.ids))
    assert longest <= 160
    one_more = encode_prompts(lm, texts, ctx[: fitted.n_kept + 1])
    assert len(one_more.shared_prefix) + max(map(len, one_more.ids)) > 160  # kept as many as fit
    report = run_behavioural(lm, {"cities": FRAMES["cities"]}, n_bootstrap=20)
    control = report.domains[0].prompts[-1].context
    assert control.truncated and control.n_kept == fitted.n_kept
    assert control.ids == drawn["id"].tolist()[: fitted.n_kept] and control.max_prompt_tokens <= 160


def test_a_model_too_short_for_any_prompt_is_an_error(tmp_path):
    lm = load_model(str(build_tiny_llama(tmp_path / "tiny", max_positions=40, extra_corpus=PROMPT_WORDS)))
    with pytest.raises(ModelError, match="at most 40 tokens"):
        run_behavioural(lm, FRAMES, n_bootstrap=10)


# --------------------------------------------------------------------------- metrics


def test_flip_metrics_on_hand_built_answers():
    base = np.array(list("aaabca"))
    pert = np.array(list("abcaaa"))
    w = bootstrap_matrix(6, "cities", seed=0, n_bootstrap=500)
    f = flip_metrics(base, pert, w)
    assert (f.n_true, f.n_base_true, f.n_base_false) == (6, 4, 2)
    assert (f.retraction_count, f.expansion_count) == (2, 2)  # a->b, a->c; b->a, c->a
    assert f.retraction_rate_all.value == pytest.approx(2 / 6)
    assert f.retraction_rate_base.value == pytest.approx(2 / 4)
    assert f.expansion_rate_base.value == pytest.approx(1.0)
    assert f.retraction_rate_base.ci_low < 0.5 < f.retraction_rate_base.ci_high
    none_true = flip_metrics(np.array(list("bbc")), np.array(list("abc")), bootstrap_matrix(3, "c", 0, 50))
    undefined = none_true.retraction_rate_base
    assert undefined.value is None and undefined.ci_low is None and undefined.ci_high is None
    assert "called no true test statement True" in undefined.reason
    assert none_true.expansion_rate_base.value == pytest.approx(1 / 3)


def test_both_tracks_count_flips_with_one_type_and_one_rule():
    """A probe's predictions and the behavioural answers that say the same give the same FlipMetrics."""
    from truthstab.flips import FlipMetrics

    base, pert = np.array(list("aaabca")), np.array(list("abcaaa"))
    w = bootstrap_matrix(6, "cities", seed=0, n_bootstrap=200)
    assert flip_metrics(base, pert, w) == FlipMetrics.from_predictions(base == "a", pert == "a", w)
    all_true = FlipMetrics.from_predictions(np.ones(4, bool), np.ones(4, bool), np.ones((5, 4)))
    assert all_true.expansion_rate_base == all_true.expansion_rate_base.undefined(
        "the baseline called every true test statement True"
    )


def test_answer_shares_and_the_shared_resample_matrix():
    answers = np.array(list("aabcaa"))
    w = bootstrap_matrix(6, "cities", seed=0, n_bootstrap=300)
    s = answer_shares(answers, np.full(6, 0.25), w)
    assert (s.a.value, s.b.value, s.c.value) == pytest.approx((4 / 6, 1 / 6, 1 / 6))
    assert s.outside_mass.value == pytest.approx(0.25) and s.outside_mass.ci_low == pytest.approx(0.25)
    # paired: the same (seed, domain) gives the same matrix, another domain another one
    np.testing.assert_array_equal(w, bootstrap_matrix(6, "cities", seed=0, n_bootstrap=300))
    assert not np.array_equal(w, bootstrap_matrix(6, "medicine", seed=0, n_bootstrap=300))


def test_report_refuses_nan_and_unknown_fields():
    with pytest.raises(ValueError):
        Estimate(value=float("nan"), ci_low=None, ci_high=None)
    with pytest.raises(ValueError):
        Estimate(value=0.1, ci_low=0.0, ci_high=0.2, extra=1)
    assert json.loads(Estimate(value=None, ci_low=None, ci_high=None, reason="why").model_dump_json())[
        "reason"
    ]


def test_bad_inputs_are_clear_errors(base):
    with pytest.raises(ProbeError, match="start with 'baseline'"):
        run_behavioural(base, FRAMES, prompts=("synthetic",))
    no_test = {"cities": FRAMES["cities"].assign(split="train")}
    with pytest.raises(DatasetError, match="no true test statements"):
        run_behavioural(base, no_test)
    with pytest.raises(DatasetError, match="lack columns"):
        run_behavioural(base, {"cities": FRAMES["cities"].drop(columns="fiction_truth")})


def test_auto_batch_size_bounds_the_prefix_copy(chat, monkeypatch):
    from truthstab.activations.prefix import SharedPrefix

    enc = encode_prompts(chat, statements(4), statements(20))
    cached = SharedPrefix(chat.model, enc.shared_prefix)
    per_row = sum(k.numel() * 4 + v.numel() * 4 for k, v in cached.kv)  # float32 keys and values
    assert forward.auto_batch_size(None) == forward.auto_batch_size(cached) == forward.AUTO_MAX_ROWS
    monkeypatch.setattr(forward, "AUTO_CACHE_BYTES", 10 * per_row)
    assert forward.auto_batch_size(cached) == 10
    monkeypatch.setattr(forward, "AUTO_CACHE_BYTES", per_row)
    assert forward.auto_batch_size(cached) == forward.AUTO_MIN_ROWS


# --------------------------------------------------------------------------- headline


def _answers(domain: str, prompt: str, letters: list[str], outside: float = 0.5):
    from truthstab.behaviour.report import StatementAnswers

    n = len(letters)
    return StatementAnswers(
        domain=domain,
        prompt=prompt,
        task=P.PROBE_TASK[prompt],
        ids=[f"{domain}-{i:03d}" for i in range(n)],
        p_a=[0.1] * n,
        p_b=[0.1] * n,
        p_c=[0.1] * n,
        p_outside=[outside] * n,
        answers=letters,
    )


def _retracting(n_base_true: int, retracted: int, n: int = 100) -> list[str]:
    """Answers where the first ``retracted`` of the ``n_base_true`` baseline-a statements are now b."""
    return ["b"] * retracted + ["a"] * (n_base_true - retracted) + ["b"] * (n - n_base_true)


def test_behavioural_headline_is_stability_against_the_control_prompt():
    from truthstab.behaviour.headline import behavioural_headline

    base = ["a"] * 80 + ["b"] * 20
    answers = [
        _answers("cities", "baseline", base, outside=0.9),
        _answers("cities", "synthetic", _retracting(80, 20)),
        _answers("cities", "fictional", _retracting(80, 10)),
        _answers("cities", "fictional-true", _retracting(80, 0)),
        _answers("cities", "control", _retracting(80, 4)),
        # medicine: the control alone retracts 20 %: not measurable, left out of the model's mean
        _answers("medicine", "baseline", base),
        _answers("medicine", "synthetic", _retracting(80, 40)),
        _answers("medicine", "fictional", _retracting(80, 40)),
        _answers("medicine", "control", _retracting(80, 16)),
    ]
    head = behavioural_headline(answers, seed=0, n_bootstrap=200)
    city = head.per_domain["cities"]
    assert city.measurable and city.n_baseline_true == 80
    assert city.unfamiliar_retraction.value == pytest.approx(25.0)
    assert city.control_retraction.value == pytest.approx(5.0)
    assert city.unfamiliar_excess.value == pytest.approx(20.0)
    assert city.familiar_excess.value == pytest.approx(7.5)
    assert city.truth_stability.value == pytest.approx(100 - (20 + 7.5) / 2)
    assert city.familiarity_gap.value == pytest.approx(12.5)
    assert city.outside_mass.value == pytest.approx(90.0)
    assert city.truth_stability.ci_low < city.truth_stability.value < city.truth_stability.ci_high
    med = head.per_domain["medicine"]
    assert not med.measurable and "20.0 %" in med.not_measurable[0]
    assert med.fictional_true_retraction.value is None  # that prompt was not run there
    assert head.measurable_domains == ["cities"]
    assert head.truth_stability.value == pytest.approx(city.truth_stability.value)
    assert head.outside_mass.value == pytest.approx(70.0)  # every domain: shown, not gated
    assert any("medicine" in w for w in head.warnings)
    # the same seed gives the same intervals; the draws are the run's paired resample matrix
    again = behavioural_headline(answers, seed=0, n_bootstrap=200)
    assert again == head


def test_behavioural_headline_says_why_when_nothing_is_measurable():
    from truthstab.behaviour.headline import behavioural_headline

    few = ["a"] * 10 + ["b"] * 90
    answers = [_answers("cities", p, few) for p in ("baseline", "synthetic", "fictional", "control")]
    head = behavioural_headline(answers, seed=0, n_bootstrap=50)
    assert head.measurable_domains == [] and head.truth_stability.value is None
    assert "only 10" in head.per_domain["cities"].not_measurable[0]
    never = [_answers("cities", p, ["c"] * 100) for p in ("baseline", "synthetic", "fictional", "control")]
    reasons = behavioural_headline(never, seed=0, n_bootstrap=50).per_domain["cities"].not_measurable
    assert len(reasons) == 1 and "only 0" in reasons[0] and "nan" not in reasons[0]  # one reason, no NaN text
    assert head.truth_stability.reason and "no domain is measurable" in head.truth_stability.reason
    partial = behavioural_headline(answers[:2], seed=0, n_bootstrap=50)
    assert "not run" in partial.per_domain["cities"].not_measurable[0]


def test_each_prompts_prefix_is_computed_once(chat, monkeypatch):
    """The packing check and the run share one prefix cache per (domain, prompt) (a spy on the real class)."""
    from truthstab.behaviour import forward as F

    made = []
    real = F.SharedPrefix

    def counting(model, ids, *args, **kwargs):
        made.append(len(ids))
        return real(model, ids, *args, **kwargs)

    monkeypatch.setattr(F, "SharedPrefix", counting)
    report = run_behavioural(chat, FRAMES, seed=3, n_bootstrap=20)
    plans = {p.context.forward for d in report.domains for p in d.prompts}
    assert plans == {"packed"}
    assert len(made) == sum(len(d.prompts) for d in report.domains)  # one per (domain, prompt)
