"""`truthstab score --tracks representational,behavioural` end to end through the real command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from release_helpers import write_tiny
from test_behaviour import PROMPT_WORDS
from tinymodels import build_tiny_gpt2, build_tiny_llama
from truthstab.cli import main
from truthstab.results import read_result
from truthstab.results.card import report_card


@pytest.fixture(scope="module")
def long_models(tmp_path_factory):
    """A tiny chat model and a tiny base model whose context fits the behavioural prompts."""
    root = tmp_path_factory.mktemp("long")
    return {
        "chat": build_tiny_llama(root / "chat", max_positions=1024, extra_corpus=PROMPT_WORDS),
        "base": build_tiny_gpt2(root / "base", max_positions=1024, extra_corpus=PROMPT_WORDS),
    }


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    return write_tiny(tmp_path_factory.mktemp("rel"), name="tiny", version="0.0.1", per=8)


def _score(model_dir, release_dir, tmp_path, *extra):
    args = ["score", str(model_dir), "--dataset", str(release_dir), "--out", str(tmp_path / "out")]
    args += [
        "--cache-dir",
        str(tmp_path / "cache"),
        "--bootstrap",
        "30",
        "--batch-size",
        "8",
        "--refits",
        "2",
    ]
    args += ["--probes", "mean-diff", "--quiet", "--tracks", "representational,behavioural", *extra]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return read_result(next((tmp_path / "out").rglob("result.json")))


@pytest.mark.parametrize("kind", ["chat", "base"])
def test_both_tracks_land_in_one_result(kind, long_models, release_dir, tmp_path):
    result = _score(long_models[kind], release_dir, tmp_path)
    beh = result.behavioural
    assert beh is not None and beh.layout.startswith("chat" if kind == "chat" else "plain")
    assert sorted(d.domain for d in beh.domains) == sorted(result.dataset.domains)
    answers = pd.read_parquet(next((tmp_path / "out").rglob(result.behavioural_file)))
    n_true = sum(d.n_true_test for d in beh.domains)
    assert len(answers) == n_true * len(beh.prompts)
    assert set(answers["answer"]) <= {"a", "b", "c"} and answers["p_outside"].between(0, 1).all()
    # Stored once: the answers live in the side file, the seed in the protocol record (schema 3).
    stored = json.loads(next((tmp_path / "out").rglob("result.json")).read_text(encoding="utf-8"))
    assert not {"answers", "seed", "n_bootstrap", "timings"} & set(stored["behavioural"])
    assert any(k.startswith("behaviour.") for k in stored["timings"])
    # The agreement of the tracks counts every statement both baselines keep exactly once.
    for a in result.track_agreement:
        assert a.both + a.probe_only + a.behaviour_only + a.neither == a.n_both_true
    card = report_card(result)
    assert "Behavioural track" in card and "Behavioural stability" in card
    head = beh.headline
    assert head is not None and set(head.per_domain) == set(result.dataset.domains)
    for dom in head.per_domain.values():  # measurable or says why: never a silent number
        assert dom.measurable or dom.not_measurable
    assert "figures/track_flip_rates.png" in result.figures
    assert next((tmp_path / "out").rglob("track_flip_rates.png")).stat().st_size > 0
    assert result.behavioural_skipped is None
    env = result.environment  # what the numbers' precision and token ids depend on
    assert env.accelerator["torch_threads"] >= 1 and env.accelerator["cuda_available"] in (True, False)
    assert env.tokenizer["class"] and env.tokenizer["vocab_size"] > 10 and env.tokenizer["padding_side"]


def test_an_encoder_skips_the_behavioural_track_with_a_note(tiny_bert_dir, release_dir, tmp_path):
    args = ["score", str(tiny_bert_dir), "--dataset", str(release_dir), "--out", str(tmp_path / "out")]
    args += [
        "--cache-dir",
        str(tmp_path / "cache"),
        "--bootstrap",
        "20",
        "--refits",
        "2",
        "--batch-size",
        "8",
    ]
    args += ["--probes", "mean-diff", "--tracks", "representational,behavioural"]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "note:" in res.stderr and "encoder" in res.stderr and "behavioural track is skipped" in res.stderr
    result = read_result(next((tmp_path / "out").rglob("result.json")))
    assert result.behavioural is None and "encoder" in result.behavioural_skipped


def test_both_tracks_are_the_default_and_a_short_context_skips_with_a_note(
    tiny_llama_dir, release_dir, tmp_path
):
    # the shared tiny Llama takes 256 tokens: fewer than the behavioural prompt without any context
    args = ["score", str(tiny_llama_dir), "--dataset", str(release_dir), "--out", str(tmp_path / "out")]
    args += ["--cache-dir", str(tmp_path / "cache"), "--bootstrap", "20", "--refits", "2"]
    res = CliRunner().invoke(main, [*args, "--probes", "mean-diff"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "note:" in res.stderr and "takes at most 256 tokens" in res.stderr
    result = read_result(next((tmp_path / "out").rglob("result.json")))
    assert result.protocol.options["tracks"] == [
        "representational",
        "behavioural",
    ]
    assert result.behavioural is None and "behavioural track is skipped" in result.behavioural_skipped


def test_an_unknown_track_is_a_one_line_error(tiny_llama_dir, release_dir):
    res = CliRunner().invoke(
        main, ["score", str(tiny_llama_dir), "--dataset", str(release_dir), "--tracks", "vibes"]
    )
    assert res.exit_code != 0 and "--tracks" in res.output and "Traceback" not in res.output


def test_the_board_shows_both_tracks_and_why_an_encoder_has_no_answers(
    long_models, tiny_bert_dir, release_dir, tmp_path, monkeypatch
):
    import json

    from truthstab.data import registry

    subs = tmp_path / "out"
    _score(long_models["chat"], release_dir, tmp_path)
    _score(tiny_bert_dir, release_dir, tmp_path)
    monkeypatch.setenv(registry.ENV_ROOTS, str(release_dir.parent))
    board_dir = tmp_path / "board"
    res = CliRunner().invoke(main, ["leaderboard", "build", "--results", str(subs), "--out", str(board_dir)])
    assert res.exit_code == 0, res.output
    rows = {
        r["model_kind"]: r
        for r in json.loads((board_dir / "leaderboard.json").read_text())["boards"][0]["rows"]
    }
    chat, encoder = rows["instruct"], rows["encoder"]
    result = read_result(subs / chat["source"])
    head = result.behavioural.headline
    assert chat["behavioural_note"] is None
    assert chat["scores"]["outside_mass"]["value"] == pytest.approx(head.outside_mass.value)
    assert chat["behavioural_measurable_domains"] == head.measurable_domains
    for domain, entry in chat["domains"].items():
        assert entry["behavioural_measurable"] is head.per_domain[domain].measurable
        if not entry["behavioural_measurable"]:
            assert (
                entry["behavioural_not_measurable"]
                and entry["scores"]["behavioural_stability"]["value"] is None
            )
    assert (
        "encoder" in encoder["behavioural_note"]
        and encoder["scores"]["behavioural_stability"]["value"] is None
    )
    shown = CliRunner().invoke(main, ["leaderboard", "show", "--dir", str(board_dir)])
    assert shown.exit_code == 0 and "Behavioural" in shown.output and "none (encoder)" in shown.output
    expected = "not measurable" if not head.measurable_domains else f"{head.truth_stability.value:.1f}"
    chat_line = next(line for line in shown.output.splitlines() if "instruct" in line)
    assert expected in chat_line
    csv_text = (board_dir / "leaderboard.csv").read_text()
    assert "behavioural_stability_ci_low" in csv_text.splitlines()[0] and "predicts no next token" in csv_text
