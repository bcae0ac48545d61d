"""Leaderboard build: rank groups with known answers, one row per model x sha x dtype, boards, bad files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from leaderboard_results import DOMAINS, make_result, paired_draws, releases, save, tiny_png
from truthstab.leaderboard import LeaderboardError
from truthstab.leaderboard.build import Score, build_leaderboard, hub_url, rank_groups, significantly_better


def S(value: float, half: float = 2.0) -> Score:
    return Score(value=value, ci_low=value - half, ci_high=value + half)


# ------------------------------------------------------------------------------------ rank groups


def test_ci_overlap_groups_known_answer():
    # A beats all; B and C overlap each other but both lie below A's interval; D is below everyone.
    groups, methods = rank_groups([S(90), S(85), S(84), S(70)])
    assert groups == [1, 2, 2, 4]
    assert methods == {"CI overlap"}


def test_rank_groups_are_not_transitive_chains():
    # A~B and B~C overlap, but A is separable from C: C is beaten by one model only.
    groups, _ = rank_groups([S(90, 3), S(86, 3), S(82, 3)])
    assert groups == [1, 1, 2]


def test_identical_scores_share_group_one():
    groups, _ = rank_groups([S(50), S(50), S(50)])
    assert groups == [1, 1, 1]


def test_paired_bootstrap_separates_what_ci_overlap_cannot():
    # Both intervals are wide (statement sampling noise), but the noise is shared: on every resample A is
    # exactly 1 point above B. The paired test separates them; CI overlap cannot.
    noise = np.random.default_rng(0).normal(size=1000)
    a, b = S(80, 5), S(79, 5)
    da, db = paired_draws(80, noise, spread=2.5), paired_draws(79, noise, spread=2.5)
    assert significantly_better(a, b, da, db)
    assert not significantly_better(b, a, db, da)
    assert not significantly_better(a, b)
    groups, methods = rank_groups([a, b], [da, db], ["k", "k"])
    assert groups == [1, 2]
    assert methods == {"paired bootstrap"}
    # Different pairing keys (another seed): the draws are not paired, fall back to CI overlap.
    groups, methods = rank_groups([a, b], [da, db], ["seed0", "seed1"])
    assert groups == [1, 1]
    assert methods == {"CI overlap"}


def test_paired_bootstrap_ties_a_noisy_difference():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=1000)
    da = paired_draws(80, noise, 2.0)
    db = [
        x + float(e) for x, e in zip(paired_draws(79.9, noise, 2.0), rng.normal(0, 3, size=1000), strict=True)
    ]
    assert not significantly_better(S(80), S(79.9), da, db)


def test_undefined_score_has_no_group():
    nan = Score(value=None, ci_low=None, ci_high=None)
    groups, _ = rank_groups([S(60), nan, S(10)])
    assert groups == [1, None, 2]


# ------------------------------------------------------------------------------------------ build


def test_build_ranks_rows_on_one_board(tmp_path):
    noise = np.random.default_rng(0).normal(size=500)
    save(tmp_path, make_result("org/top", 90, 2, draws=paired_draws(90, noise)))
    save(tmp_path, make_result("org/mid", 80, 5, sha="b" * 40, draws=paired_draws(80, noise)))
    save(tmp_path, make_result("org/mid2", 79, 5, sha="c" * 40, draws=paired_draws(79, noise)))
    save(tmp_path, make_result("org/nodraws", 78, 5, sha="e" * 40))
    lb = build_leaderboard(tmp_path)
    assert [b.id for b in lb.boards] == ["truthstab-1.0.0/fixed"]
    rows = lb.boards[0].rows
    # top beats all (paired: +10; CI: 88 > 83). mid beats mid2 by exactly 1 on every paired resample.
    # nodraws (73-83) overlaps mid (75-85) and mid2 (74-84): compared by CI overlap, beaten by top only.
    assert [(r.model_id, r.rank_group) for r in rows] == [
        ("org/top", 1),
        ("org/mid", 2),
        ("org/nodraws", 2),
        ("org/mid2", 3),
    ]
    assert lb.boards[0].tie_method == "paired bootstrap and CI overlap"
    assert not lb.skipped


def test_rows_sorted_by_group_then_score(tmp_path):
    save(tmp_path, make_result("org/b", 70, 20, sha="b" * 40))
    save(tmp_path, make_result("org/a", 75, 20, sha="a" * 40))
    save(tmp_path, make_result("org/c", 10, 1, sha="c" * 40))
    rows = build_leaderboard(tmp_path).boards[0].rows
    assert [(r.model_id, r.rank_group) for r in rows] == [("org/a", 1), ("org/b", 1), ("org/c", 3)]


def test_newest_result_replaces_older_for_same_model_sha_dtype(tmp_path):
    old = make_result("org/m", 50, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    new = make_result("org/m", 70, created_at=datetime(2026, 2, 1, tzinfo=UTC))
    p_old = save(tmp_path, old, "result-old.json")
    p_new = save(tmp_path, new, "result-new.json")
    lb = build_leaderboard(tmp_path)
    assert [r.scores["truth_stability"].value for r in lb.boards[0].rows] == [70]
    assert [(x.path, x.replaced_by) for x in lb.replaced] == [(str(p_old), str(p_new))]


def test_one_ranked_row_per_model_the_others_listed_as_alternatives(tmp_path):
    # The same model in bfloat16 (newer, better score) and float32, and at another revision (newest):
    # one ranked row, the float32 run (closest to the weights), the other two listed beside it.
    save(tmp_path, make_result("org/m", 60, created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    save(tmp_path, make_result("org/m", 90, dtype="bfloat16", created_at=datetime(2026, 3, 1, tzinfo=UTC)))
    save(tmp_path, make_result("org/m", 40, sha="f" * 40, created_at=datetime(2026, 2, 1, tzinfo=UTC)))
    save(tmp_path, make_result("org/other", 50, sha="b" * 40))
    rows = build_leaderboard(tmp_path).boards[0].rows
    assert sorted(r.model_id for r in rows) == ["org/m", "org/other"]
    m = next(r for r in rows if r.model_id == "org/m")
    # float32 first; of the two float32 runs the newer revision (f...) wins.
    assert (m.dtype, m.revision_sha[:1], m.scores["truth_stability"].value) == ("float32", "f", 40)
    assert [(a.dtype, a.revision_sha[:1], a.truth_stability.value) for a in m.alternatives] == [
        ("float32", "a", 60),
        ("bfloat16", "a", 90),
    ]
    assert all(a.source.endswith("result.json") for a in m.alternatives)


def test_dataset_versions_and_protocols_get_separate_boards(tmp_path):
    save(tmp_path, make_result("org/a", 90, dataset_version="1.0.0"))
    save(tmp_path, make_result("org/a", 10, dataset_version="1.1.0", sha="b" * 40))
    save(tmp_path, make_result("org/a", 50, mode="faithful", sha="c" * 40))
    save(tmp_path, make_result("org/b", 95, dataset_version="1.10.0", sha="e" * 40))
    lb = build_leaderboard(tmp_path, releases("1.0.0", "1.1.0", "1.10.0"))
    # Newest release first (1.10.0 > 1.1.0 numerically), then the fixed mode before faithful.
    assert [b.id for b in lb.boards] == [
        "truthstab-1.10.0/fixed",
        "truthstab-1.1.0/fixed",
        "truthstab-1.0.0/fixed",
        "truthstab-1.0.0/faithful",
    ]
    for board in lb.boards:
        assert len(board.rows) == 1 and board.rows[0].rank_group == 1


def test_runs_on_part_of_a_release_get_their_own_board(tmp_path):
    save(tmp_path, make_result("org/full", 50))
    save(tmp_path, make_result("org/quick", 90, sha="b" * 40, max_per_kind=60))
    save(
        tmp_path,
        make_result("org/cities", 95, sha="c" * 40, domain_truth={"cities": 95}, release_domains=DOMAINS),
    )
    lb = build_leaderboard(tmp_path)
    boards = {b.id: [r.model_id for r in b.rows] for b in lb.boards}
    assert boards == {
        "truthstab-1.0.0/fixed": ["org/full"],
        "truthstab-1.0.0/fixed/cities": ["org/cities"],
        "truthstab-1.0.0/fixed/max60": ["org/quick"],
    }
    assert lb.boards[0].id == "truthstab-1.0.0/fixed"  # the whole-release board comes first
    quick = next(b for b in lb.boards if b.subset == ["max60"])
    assert quick.notes == [
        "Smoke test, scored on part of the release: at most 60 statements per domain, kind and split. "
        "Intervals are wider than a full run's; rank models on the full board"
    ]
    assert quick.smoke_test and not lb.boards[0].smoke_test


def test_per_domain_rank_groups(tmp_path):
    save(tmp_path, make_result("org/a", 80, domain_truth={"cities": 90, "medicine": 70}))
    save(tmp_path, make_result("org/b", 80, sha="b" * 40, domain_truth={"cities": 60, "medicine": 71}))
    rows = {r.model_id: r for r in build_leaderboard(tmp_path).boards[0].rows}
    assert rows["org/a"].domains["cities"].rank_group == 1
    assert rows["org/b"].domains["cities"].rank_group == 2
    assert rows["org/a"].domains["medicine"].rank_group == 1  # 70 vs 71 +- 2: a tie
    assert rows["org/b"].domains["medicine"].rank_group == 1
    assert rows["org/a"].rank_group == rows["org/b"].rank_group == 1


def test_row_fields(tmp_path):
    save(tmp_path, make_result("org/enc", 60, is_encoder=True, is_instruct=False, n_parameters=22_713_216))
    save(tmp_path, make_result("org/base", 60, sha="b" * 40, is_instruct=False, warnings=["near chance"]))
    rows = {r.model_id: r for r in build_leaderboard(tmp_path).boards[0].rows}
    enc, base = rows["org/enc"], rows["org/base"]
    assert (enc.model_kind, base.model_kind) == ("encoder", "base")
    assert enc.revision_short == "aaaaaaaa" and enc.n_parameters == 22_713_216
    assert enc.hub_url == "https://huggingface.co/org/enc"
    assert base.warnings == ["near chance"]
    assert enc.layers == {"cities": 12, "definitions": 12, "medicine": 12}
    assert enc.source.endswith("/result.json")


@pytest.mark.parametrize(
    ("model_id", "source", "expected"),
    [
        (
            "HuggingFaceTB/SmolLM2-135M-Instruct",
            "hub",
            "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
        ),
        ("gpt2", "hub", None),  # not org/name: we do not guess
        ("/home/me/model", "local", None),
        ("org/model", "local", None),
        ("org/../../evil", "hub", None),
        ("<img src=x onerror=alert(1)>", "hub", None),
        ('org/a"onmouseover=x', "hub", None),
    ],
)
def test_hub_url_only_for_valid_hub_ids(model_id, source, expected):
    assert hub_url(model_id, source) == expected


def test_nan_score_is_unranked_and_last(tmp_path):
    r = make_result("org/nan", 50).model_dump(mode="json")
    r["headline"]["truth_stability"] = None  # not measurable: no score, not a bad one
    folder = tmp_path / "org__nan"
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps(r))
    save(tmp_path, make_result("org/ok", 10, sha="b" * 40))
    rows = build_leaderboard(tmp_path).boards[0].rows
    assert [(r.model_id, r.rank_group) for r in rows] == [("org/ok", 1), ("org/nan", None)]
    assert rows[1].scores["truth_stability"].value is None


# ------------------------------------------------------------------------------------ bad input


def test_malformed_and_incompatible_files_are_skipped_by_path(tmp_path):
    good = save(tmp_path, make_result("org/good", 70))
    bad = tmp_path / "org__bad" / "sha"
    bad.mkdir(parents=True)
    (bad / "result-broken.json").write_text("{not json")
    (bad / "result-array.json").write_text("[1, 2]")
    (bad / "result-binary.json").write_bytes(b"\xff\xfe\x00garbage")
    data = json.loads(good.read_text())
    data["schema_version"] = "4.0"
    (bad / "result-future.json").write_text(json.dumps(data))
    del data["headline"]
    data["schema_version"] = "1.0"
    (bad / "result-nohead.json").write_text(json.dumps(data))
    (bad / "result-deep.json").write_text("[" * 100_000 + "]" * 100_000)
    # A submission request beside results is not a result and is not reported.
    (bad / "request-abc-float32.json").write_text('{"status": "PENDING"}')
    (bad / "status.json").write_text("{}")
    lb = build_leaderboard(tmp_path)
    assert [r.model_id for r in lb.boards[0].rows] == ["org/good"]
    skipped = {s.path.split("/")[-1]: s.reason for s in lb.skipped}
    assert set(skipped) == {
        "result-broken.json",
        "result-array.json",
        "result-binary.json",
        "result-future.json",
        "result-nohead.json",
        "result-deep.json",
    }
    assert "not valid JSON" in skipped["result-broken.json"]
    assert "incompatible" in skipped["result-future.json"]
    assert "headline" in skipped["result-nohead.json"]
    assert all(s.path.startswith(str(tmp_path)) for s in lb.skipped)


def test_symlinked_result_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = save(outside, make_result("org/elsewhere", 70))
    results = tmp_path / "results"
    results.mkdir()
    (results / "result.json").symlink_to(target)
    lb = build_leaderboard(results)
    assert lb.boards == []
    assert [s.reason for s in lb.skipped] == ["symbolic link, not followed"]


def test_missing_results_folder_is_a_clear_error(tmp_path):
    with pytest.raises(LeaderboardError, match="does not exist; pass --results"):
        build_leaderboard(tmp_path / "nope")


def test_figures_only_png_inside_the_result_folder(tmp_path):
    (tmp_path / "secret.png").write_bytes(tiny_png())
    r = make_result("org/fig", 70, figures=["bars.png", "bars.svg", "../../secret.png", "missing.png"])
    path = save(tmp_path, r)
    (path.parent / "bars.png").write_bytes(tiny_png())
    (path.parent / "bars.svg").write_text("<svg/>")
    row = build_leaderboard(tmp_path).boards[0].rows[0]
    assert row.figures == [f"figures/truthstab-1.0.0_fixed/org__fig/{'a' * 40}/float32/bars.png"]
    assert row.figure_sources == [str((path.parent / "bars.png").resolve())]


def test_report_card_is_read_from_beside_the_result(tmp_path):
    path = save(tmp_path, make_result("org/card", 70))
    (path.parent / "report.md").write_text("# Report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    row = build_leaderboard(tmp_path).boards[0].rows[0]
    assert row.report_card.startswith("# Report")


# ------------------------------------------------------------------------------ known releases only


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"dataset_name": "<img src=x onerror=alert(1)>"}, "is not a known release"),
        ({"dataset_name": "aaa-first"}, "is not a known release"),
        ({"dataset_version": "9.9.9"}, "is not a known release"),
        ({"dataset_sha": "d" * 64}, "modified copy"),
        ({"release_domains": ("cities", "astrology")}, "has cities, definitions, medicine"),
        ({"domain_truth": {"cities": 99, "astrology": 99}}, "does not have"),
    ],
)
def test_results_off_a_known_release_are_refused_with_a_reason(tmp_path, changes, reason):
    save(tmp_path, make_result("org/honest", 50))
    forged = save(tmp_path, make_result("org/forged", 99, sha="f" * 40, **changes))
    lb = build_leaderboard(tmp_path)
    # The forged result makes no board of its own and is not ranked anywhere.
    assert [b.id for b in lb.boards] == ["truthstab-1.0.0/fixed"]
    assert [r.model_id for r in lb.boards[0].rows] == ["org/honest"]
    assert [s.path for s in lb.skipped] == [str(forged)]
    assert lb.skipped[0].reason.startswith("not ranked: ") and reason in lb.skipped[0].reason
    assert "<img" not in lb.skipped[0].reason or "'<img" in lb.skipped[0].reason  # quoted, never bare


def test_default_board_is_the_newest_full_fixed_release(tmp_path):
    # Quick runs, the faithful mode and an older release are all present; a newer release is scored
    # only in a quick run. The first (default) board is the newest release scored in full, fixed.
    save(tmp_path, make_result("org/a", 50, dataset_version="1.0.0"))
    save(tmp_path, make_result("org/a", 50, dataset_version="1.1.0", sha="b" * 40))
    save(tmp_path, make_result("org/a", 50, dataset_version="1.1.0", sha="c" * 40, mode="faithful"))
    save(tmp_path, make_result("org/a", 50, dataset_version="2.0.0", sha="e" * 40, max_per_kind=5))
    lb = build_leaderboard(tmp_path, releases("1.0.0", "1.1.0", "2.0.0"))
    assert lb.boards[0].id == "truthstab-1.1.0/fixed"
    assert lb.board(None).id == "truthstab-1.1.0/fixed"
    assert lb.boards[-1].id == "truthstab-2.0.0/fixed/max5"


def test_weights_note_is_one_warning(tmp_path):
    note = "Q4_K_M GGUF weights dequantised to float32"
    save(tmp_path, make_result("org/gguf", 60, quantization_note=note, warnings=[f"weights: {note}"]))
    save(tmp_path, make_result("org/plain", 60, sha="b" * 40, quantization_note=note))
    rows = {r.model_id: r for r in build_leaderboard(tmp_path).boards[0].rows}
    assert rows["org/gguf"].warnings == [f"weights: {note}"]
    assert rows["org/plain"].warnings == [note]  # not in the headline: still shown, once


def test_full_and_quick_runs_keep_their_own_figures(tmp_path):
    # The same model, sha and dtype on two boards: each board's row points at its own run's figures.
    names = ["figures/bars.png", "figures/flip_rates.png", "figures/layer_sweep.png"]
    for run, cap in (("full", None), ("quick", 60)):
        path = save(tmp_path / run, make_result("org/m", 50, figures=names, max_per_kind=cap))
        (path.parent / "figures").mkdir()
        for name in names:
            (path.parent / name).write_bytes(tiny_png(size=8 if run == "full" else 16))
    lb = build_leaderboard(tmp_path)
    full, quick = (b.rows[0] for b in lb.boards)
    assert not set(full.figures) & set(quick.figures)
    assert all("/full/" in src for src in full.figure_sources)
    assert all("/quick/" in src for src in quick.figure_sources)
    # The figures a person looks at come first.
    assert [f.rsplit("/", 1)[-1] for f in full.figures] == ["flip_rates.png", "layer_sweep.png", "bars.png"]


def test_a_schema_1_result_is_skipped_with_a_re_score_message(tmp_path):
    good = save(tmp_path, make_result("org/new", 70))
    old = json.loads(good.read_text())
    old["schema_version"] = "1.0"
    folder = tmp_path / "org__old" / "sha" / "run"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(old))
    lb = build_leaderboard(tmp_path)
    assert [r.model_id for r in lb.boards[0].rows] == ["org/new"]
    (reason,) = [s.reason for s in lb.skipped if "org__old" in s.path]
    assert "predates fit-aware stability" in reason and "re-score" in reason
