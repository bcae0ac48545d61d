"""Collect result files, keep the newest per (model, revision sha, dtype), split them into boards, rank.

Verification. Only a result scored on a known release is ranked: its dataset name, version, sha256 and
domains must match a release the registry (:mod:`truthstab.data.registry`) finds, and every domain it
scored must be one of that release's. Any other result (an invented release name, a modified copy of a
release, made-up domains) is refused and listed in ``Leaderboard.skipped`` with the reason, so a crafted
file can neither create a board nor become the board a visitor sees first.

Boards. Results on different dataset releases or protocol modes are never ranked together: there is one
board per (dataset name, dataset version, protocol mode). A run on part of a release (``--max-per-kind``,
``--domains``) scores other statements, so it gets a board of its own too (id suffix ``/max<N>`` and/or
``/<domain>+<domain>``), with a note saying so.

Rows. One row per model id on a board. A newer result (``created_at``) for the same (model id, revision
sha, dtype) replaces the older one, and the replaced file is listed in ``Leaderboard.replaced``. When a
model was scored more than once on a board (another dtype or revision), the run with the best provenance
is ranked: float32 before bfloat16 before float16 (the run closest to the model's own weights), then the
newest; the other runs are kept on the row as ``alternatives`` (shown in the detail view, never ranked),
so one model never takes two places in the ranking.

Rank groups. A model's rank group is 1 + the number of models on its board that are *significantly
better* than it (the rule Chatbot Arena uses): models that nothing beats share group 1, and a model is
never placed below another unless the data separate them. "A is significantly better than B" is decided

* by a **paired bootstrap** when both results carry bootstrap draws of the score with the same dataset
  sha256, the same seed, the same number of resamples and the same domains: the scorer draws its resamples of test
  statements from that seed, so resample i of A and resample i of B use the same statements and
  d_i = A_i - B_i is the bootstrap distribution of the difference. A beats B iff the 2.5th percentile
  of d is above zero (a two-sided 95 % test);
* otherwise by **CI overlap**: A beats B iff A's lower 95 % bound lies above B's upper bound. This is
  conservative (two scores whose intervals overlap slightly can still differ), so unpaired models are
  more often tied than paired ones.

Rows whose score is undefined (NaN) get no rank group and sort last.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from truthstab.errors import TruthstabError
from truthstab.estimate import Estimate
from truthstab.hub import is_hub_id
from truthstab.leaderboard import LeaderboardError
from truthstab.results import Result, read_result

#: Bump on an incompatible change of leaderboard.json.
LEADERBOARD_FORMAT = "1.0"

#: The headline quantities shown on the board, in column order.
METRICS = (
    "truth_stability",
    "unfamiliar_stability",
    "familiar_stability",
    "familiarity_gap",
    "refit_null",
    "baseline_ap",
)
#: The behavioural track's quantities on the board (from the result's behavioural headline): the answers'
#: truth stability against the control prompt, and the probability mass the model puts outside the letters.
BEHAVIOUR_METRICS = ("behavioural_stability", "outside_mass")
#: Per-domain quantities that are stability claims: blanked (None) where a domain is not measurable.
STABILITY_METRICS = ("truth_stability", "unfamiliar_stability", "familiar_stability", "familiarity_gap")
#: The score the board ranks by.
RANK_METRIC = "truth_stability"

#: Result files larger than this are not read (a result is a few hundred kB).
MAX_RESULT_BYTES = 64 * 1024 * 1024
#: Report cards larger than this are truncated on the page.
MAX_REPORT_CHARS = 200_000
#: Figures larger than this are not copied onto the board.
MAX_FIGURE_BYTES = 5 * 1024 * 1024

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: A board cell: the results' own interval type (value None when the result reports it undefined).
Score = Estimate


class DomainEntry(_Out):
    """One domain's scores of a row, with the row's rank group on that domain alone."""

    rank_group: int | None = None
    scores: dict[str, Score]
    measurable: bool = Field(default=True, description="False: the stability scores are None, see why")
    not_measurable: list[str] = Field(default_factory=list, description="why the domain is not measurable")
    chance_ap: float | None = Field(default=None, description="the baseline AP of a random score")
    behavioural_measurable: bool | None = Field(
        default=None, description="None: no behavioural track; False: its stability is None, see why"
    )
    behavioural_not_measurable: list[str] = Field(default_factory=list)


class Alternative(_Out):
    """Another run of a row's model on the same board: listed beside the row, not ranked."""

    revision_sha: str
    dtype: str
    created_at: str
    truth_stability: Score
    source: str = Field(description="the result file, relative to the results folder")


class Row(_Out):
    """One model on a board: its best-provenance run (see the module docstring)."""

    rank_group: int | None = None
    model_id: str
    model_alias: str | None
    hub_url: str | None = Field(description="the model's Hub page, only when the id is a valid Hub id")
    revision_sha: str
    revision_short: str
    n_parameters: int
    dtype: str
    model_kind: str = Field(description="base, instruct or encoder")
    architecture: str
    quantization_note: str | None
    scores: dict[str, Score]
    domains: dict[str, DomainEntry]
    measurable_domains: list[str] = Field(description="domains the row's model-level scores average")
    behavioural_measurable_domains: list[str] = Field(
        default_factory=list, description="domains the behavioural stability averages"
    )
    behavioural_note: str | None = Field(
        default=None, description="why the row has no behavioural scores (an encoder, skipped, not run)"
    )
    chance_ap: float | None = Field(default=None, description="mean over domains of the AP of chance")
    layers: dict[str, int]
    primary_probe: str
    dataset_sha256: str
    harness_version: str
    harness_git_hash: str | None
    harness_git_dirty: bool | None
    seed: int
    created_at: str
    warnings: list[str]
    source: str = Field(description="the result file, relative to the results folder")
    report_card: str | None = None
    figures: list[str] = Field(default_factory=list, description="figure files, relative to the board")
    alternatives: list[Alternative] = Field(
        default_factory=list, description="the model's other runs on this board (other dtype or revision)"
    )
    # Kept out of leaderboard.json: only the build needs them.
    draws: list[float] | None = Field(default=None, exclude=True)
    figure_sources: list[str] = Field(default_factory=list, exclude=True)


class Board(_Out):
    """The rows of one (dataset name, dataset version, protocol mode), ranked."""

    id: str
    dataset_name: str
    dataset_version: str
    protocol_mode: str
    subset: list[str] = Field(default_factory=list, description="empty, or the part of the release scored")
    smoke_test: bool = Field(
        default=False, description="a quick run on a sample of the release: wider intervals, not the ranking"
    )
    dataset_sha256: list[str]
    harness_versions: list[str]
    domains: list[str]
    tie_method: str = Field(description="how rank groups were decided on this board")
    notes: list[str] = Field(default_factory=list)
    rows: list[Row]


class Skipped(_Out):
    path: str
    reason: str


class Replaced(_Out):
    path: str
    replaced_by: str


class Leaderboard(_Out):
    """Everything ``truthstab leaderboard build`` writes, as one object."""

    format_version: str = LEADERBOARD_FORMAT
    built_from: str | None = Field(description="the newest result's created_at (not the build time)")
    boards: list[Board]
    skipped: list[Skipped] = Field(default_factory=list)
    replaced: list[Replaced] = Field(default_factory=list)

    def board(self, board_id: str | None) -> Board:
        """The board with this id (the first board when None); raises LeaderboardError if absent."""
        if not self.boards:
            raise LeaderboardError("the leaderboard has no boards; score a model and run the build again")
        if board_id is None:
            return self.boards[0]
        for board in self.boards:
            if board.id == board_id:
                return board
        known = ", ".join(b.id for b in self.boards)
        raise LeaderboardError(f"no board {board_id!r}; choose one of: {known}")


@dataclass
class _Loaded:
    path: Path
    rel: str
    result: Result


# ---------------------------------------------------------------------------------------------- collect


def find_result_files(results_dir: Path) -> tuple[list[Path], list[Skipped]]:
    """Every result file under ``results_dir``: ``result*.json`` (``truthstab score`` writes
    ``result.json``), so request and queue files beside results are not taken for results.

    Symbolic links are not followed (a submission folder must not point the build elsewhere)."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for folder, dirs, names in os.walk(results_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not (name.startswith("result") and name.endswith(".json")):
                continue
            path = Path(folder) / name
            if path.is_symlink():
                skipped.append(Skipped(path=str(path), reason="symbolic link, not followed"))
            else:
                files.append(path)
    return files, skipped


def load_results(results_dir: Path) -> tuple[list[_Loaded], list[Skipped]]:
    """Read and validate every result file; the bad ones are returned as skipped, with the reason."""
    files, skipped = find_result_files(results_dir)
    loaded: list[_Loaded] = []
    for path in files:
        rel = path.relative_to(results_dir).as_posix()
        try:
            if path.stat().st_size > MAX_RESULT_BYTES:
                raise TruthstabError(f"larger than {MAX_RESULT_BYTES} bytes")
            result = read_result(path)
        except TruthstabError as exc:
            skipped.append(Skipped(path=str(path), reason=str(exc)))
            continue
        except (OSError, ValueError, RecursionError) as exc:  # unreadable, or JSON nested absurdly deep
            skipped.append(Skipped(path=str(path), reason=f"cannot read: {exc}"))
            continue
        loaded.append(_Loaded(path=path, rel=rel, result=result))
    return loaded, skipped


def _when(result: Result) -> datetime:
    created = result.created_at
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def keep_newest(loaded: list[_Loaded]) -> tuple[list[_Loaded], list[Replaced]]:
    """One result per (board, model id, revision sha, dtype): the newest; ties broken by path."""
    best: dict[tuple[str, ...], _Loaded] = {}
    replaced: list[Replaced] = []
    for item in sorted(loaded, key=lambda x: (_when(x.result), x.rel)):
        r = item.result
        key = (_board_id(r), r.model.id, r.model.revision_sha, r.model.dtype)
        if key in best:
            replaced.append(Replaced(path=str(best[key].path), replaced_by=str(item.path)))
        best[key] = item
    return list(best.values()), replaced


#: Precision rank of a dtype for choosing a model's ranked run: lower is closer to the trained weights.
DTYPE_PREFERENCE = {"float32": 0, "bfloat16": 1, "float16": 2}


def provenance_key(item: _Loaded) -> tuple:
    """Sort key of a model's runs on one board, best first: the widest dtype, then the newest."""
    r = item.result
    return (DTYPE_PREFERENCE.get(r.model.dtype, len(DTYPE_PREFERENCE)), -_when(r).timestamp(), item.rel)


def one_run_per_model(kept: list[_Loaded]) -> list[tuple[_Loaded, list[_Loaded]]]:
    """Group runs by (board, model id): (the best-provenance run, the others best first)."""
    groups: dict[tuple[str, str], list[_Loaded]] = {}
    for item in kept:
        groups.setdefault((_board_id(item.result), item.result.model.id), []).append(item)
    chosen = []
    for runs in groups.values():
        runs.sort(key=provenance_key)
        chosen.append((runs[0], runs[1:]))
    return chosen


def _alternative(item: _Loaded) -> Alternative:
    r = item.result
    return Alternative(
        revision_sha=r.model.revision_sha,
        dtype=r.model.dtype,
        created_at=_when(r).isoformat(),
        truth_stability=_score(r.headline.truth_stability),
        source=item.rel,
    )


# ---------------------------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class KnownRelease:
    """The identity of a release a result must match to be ranked."""

    name: str
    version: str
    sha256: str
    domains: tuple[str, ...]


def known_releases() -> list[KnownRelease]:
    """Every release the dataset registry finds (broken release folders are left out)."""
    from truthstab.data.registry import scan_releases

    releases, _broken = scan_releases()
    return [KnownRelease(r.name, r.version, r.sha256, tuple(r.domains)) for r in releases]


def _shown(text: str, limit: int = 60) -> str:
    """An untrusted string quoted and bounded, for a refusal reason."""
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def release_problem(result: Result, releases: list[KnownRelease]) -> str | None:
    """Why ``result`` cannot be ranked against ``releases`` (None when it matches a known release)."""
    d = result.dataset
    same = [k for k in releases if k.name == d.name and k.version == d.version]
    if not same:
        known = ", ".join(f"{k.name}@{k.version}" for k in releases) or "none"
        return (
            f"not ranked: dataset {_shown(d.name)} version {_shown(d.version)} is not a known release "
            f"(known: {known}); score the model on a release `truthstab datasets list` shows"
        )
    release = same[0]
    ref = f"{release.name}@{release.version}"
    if d.sha256 != release.sha256:
        return (
            f"not ranked: dataset sha256 {_shown(d.sha256, 16)} differs from release {ref} "
            f"({release.sha256[:16]}...): it was scored on a modified copy; rescore on the published release"
        )
    if sorted(d.domains) != sorted(release.domains):
        return (
            f"not ranked: the result lists the domains {_shown(', '.join(sorted(d.domains)))} but release "
            f"{ref} has {', '.join(sorted(release.domains))}"
        )
    scored = set(result.protocol.options.get("domains") or []) | set(result.headline.per_domain)
    unknown = sorted(scored - set(release.domains))
    if unknown:
        return f"not ranked: scores domains {_shown(', '.join(unknown))} that release {ref} does not have"
    return None


def verify_results(
    loaded: list[_Loaded], releases: list[KnownRelease]
) -> tuple[list[_Loaded], list[Skipped]]:
    """Split loaded results into those on a known release and the refused ones (with the reason)."""
    ok: list[_Loaded] = []
    refused: list[Skipped] = []
    for item in loaded:
        problem = release_problem(item.result, releases)
        if problem:
            refused.append(Skipped(path=str(item.path), reason=problem))
        else:
            ok.append(item)
    return ok, refused


# ------------------------------------------------------------------------------------------------- rank


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def significantly_better(a: Score, b: Score, a_draws=None, b_draws=None) -> bool:
    """Whether score ``a`` is separably above ``b``: paired bootstrap when draws are given, else CI overlap.

    ``a_draws`` and ``b_draws`` must be paired (the same resampled statements at each index)."""
    if not (_finite(a.value) and _finite(b.value)):
        return False
    if a_draws is not None and b_draws is not None:
        diff = np.asarray(a_draws, dtype=float) - np.asarray(b_draws, dtype=float)
        diff = diff[np.isfinite(diff)]
        if diff.size:
            return bool(np.quantile(diff, 0.025) > 0)
    if not (_finite(a.ci_low) and _finite(b.ci_high)):
        return False
    return a.ci_low > b.ci_high


def rank_groups(
    scores: list[Score],
    draws: list[list[float] | None] | None = None,
    pair_keys: list[object] | None = None,
) -> tuple[list[int | None], set[str]]:
    """Rank group of each score: 1 + the number of scores significantly better than it (None: no score).

    ``draws[i]`` are the bootstrap draws of score i (or None) and ``pair_keys[i]`` says which draws are
    paired: two scores are compared by paired bootstrap only when both have draws of the same length
    and equal pair keys, by CI overlap otherwise. Also returns the comparison methods used."""
    n = len(scores)
    draws = draws if draws is not None else [None] * n
    pair_keys = pair_keys if pair_keys is not None else [None] * n
    groups: list[int | None] = []
    methods: set[str] = set()
    for i, s in enumerate(scores):
        if not _finite(s.value):
            groups.append(None)
            continue
        beaten_by = 0
        for j, t in enumerate(scores):
            if j == i or not _finite(t.value):
                continue
            di, dj = draws[i], draws[j]
            paired = di is not None and dj is not None and len(di) == len(dj) and pair_keys[i] == pair_keys[j]
            methods.add("paired bootstrap" if paired else "CI overlap")
            if significantly_better(t, s, dj if paired else None, di if paired else None):
                beaten_by += 1
        groups.append(1 + beaten_by)
    return groups, methods


def _rank_board(rows: list[Row], n_boot: list[int]) -> str:
    """Set the rank groups of the rows (overall and per domain), sort them; returns the tie method."""
    # The scorer draws resamples per domain from (seed, domain position) over the release's test
    # statements, so draws are paired exactly when dataset sha256, seed, resample count and domains agree.
    # The model-level draws average the measurable domains, so those must agree as well.
    keys = [
        (r.dataset_sha256, r.seed, n, tuple(r.measurable_domains)) for r, n in zip(rows, n_boot, strict=True)
    ]
    groups, methods = rank_groups([r.scores[RANK_METRIC] for r in rows], [r.draws for r in rows], keys)
    for row, group in zip(rows, groups, strict=True):
        row.rank_group = group
    for domain in sorted({d for r in rows for d in r.domains}):
        present = [r for r in rows if domain in r.domains]
        per, _ = rank_groups([r.domains[domain].scores[RANK_METRIC] for r in present])
        for row, group in zip(present, per, strict=True):
            row.domains[domain].rank_group = group
    rows.sort(key=_sort_key)
    if not methods:
        return "none (fewer than two scored models)"
    return " and ".join(sorted(methods, reverse=True))


def _sort_key(row: Row) -> tuple:
    value = row.scores[RANK_METRIC].value
    return (
        row.rank_group is None,
        row.rank_group or 0,
        -(value if _finite(value) else -math.inf),
        row.model_id,
        row.revision_sha,
        row.dtype,
    )


# -------------------------------------------------------------------------------------------------- rows


def _subset(result: Result) -> list[str]:
    """What part of the release a run scored, when not all of it (runs on parts are not comparable)."""
    parts = []
    cap = result.protocol.options.get("max_per_kind")
    fraction = result.protocol.options.get("sample_fraction")
    if fraction:
        parts.append(f"frac{float(fraction):g}")
    if cap:
        parts.append(f"max{int(cap)}")
    scored = sorted(result.protocol.options.get("domains") or result.headline.per_domain)
    if scored and scored != sorted(result.dataset.domains):
        parts.append("+".join(scored))
    return parts


def _board_id(result: Result) -> str:
    """``<dataset>-<version>/<mode>``, plus ``/max<N>`` and ``/<domains>`` for runs on part of a release."""
    d = result.dataset
    return "/".join([f"{d.name}-{d.version}", result.protocol.mode, *_subset(result)])


def _subset_note(result: Result) -> str | None:
    """The board note of a run on part of the release; a sampled run is labelled a smoke test."""
    from truthstab.results.card import sample_description

    scored = sorted(result.protocol.options.get("domains") or result.headline.per_domain)
    sample = sample_description(result)
    notes = [sample] if sample else []
    if scored and scored != sorted(result.dataset.domains):
        notes.append(f"only the domains {', '.join(scored)}")
    if not notes:
        return None
    text = "scored on part of the release: " + "; ".join(notes)
    if sample:
        text = f"Smoke test, {text}. Intervals are wider than a full run's; rank models on the full board"
    return text


def is_smoke_test(result: Result) -> bool:
    """Whether a run scored a sample of its release (``--sample-fraction`` or ``--max-per-kind``)."""
    options = result.protocol.options
    return bool(options.get("sample_fraction") or options.get("max_per_kind"))


def _score(est) -> Score:
    """A headline estimate as a board score; an undefined one (None: not measurable) stays empty."""

    def clean(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    if est is None:
        return Score(value=None, ci_low=None, ci_high=None)
    return Score(value=clean(est.value), ci_low=clean(est.ci_low), ci_high=clean(est.ci_high))


def safe_component(text: str, limit: int = 100) -> str:
    """``text`` made safe as one path component: only [A-Za-z0-9._-], no leading dot, bounded length."""
    cleaned = _UNSAFE.sub("_", text).lstrip(".")[:limit]
    return cleaned or "_"


def hub_url(model_id: str, source: str) -> str | None:
    """The Hub page of a model id, or None when the id is not a Hub id (local folder, odd characters)."""
    if source.lower().startswith("local") or not is_hub_id(model_id):
        return None
    return f"https://huggingface.co/{model_id}"


def figure_folder(board_id: str, row_model_id: str, sha: str, dtype: str) -> str:
    """The folder (relative to the board) that holds a row's copied figures.

    The board is part of the path: a model's full run and its quick run have the same model, sha and
    dtype, and each board must show its own run's figures."""
    return "/".join(
        [
            "figures",
            safe_component(board_id.replace("/", "_")),
            safe_component(row_model_id.replace("/", "__")),
            safe_component(sha),
            safe_component(dtype),
        ]
    )


#: Figures shown first in a row's details, in this order: the ones a reader looks at rather than reads.
FIGURE_ORDER = ("flip_rates.png", "layer_sweep.png")


def _figures(item: _Loaded, folder: str) -> tuple[list[str], list[str]]:
    """The row's PNG figures: (paths on the board, source paths). Only files inside the result folder."""
    base = item.path.parent.resolve()
    targets: list[str] = []
    sources: list[str] = []
    seen: set[str] = set()
    for rel in item.result.figures:
        src = (base / rel).resolve()
        if src.suffix.lower() != ".png" or not src.is_relative_to(base) or not src.is_file():
            continue
        if src.stat().st_size > MAX_FIGURE_BYTES:
            continue
        name = safe_component(src.name)
        if name in seen:
            continue
        seen.add(name)
        targets.append(f"{folder}/{name}")
        sources.append(str(src))
    order = sorted(range(len(targets)), key=lambda i: _figure_rank(targets[i]))
    return [targets[i] for i in order], [sources[i] for i in order]


def _figure_rank(target: str) -> tuple[int, str]:
    name = target.rsplit("/", 1)[-1]
    return (FIGURE_ORDER.index(name) if name in FIGURE_ORDER else len(FIGURE_ORDER), name)


def _report_card(item: _Loaded) -> str | None:
    path = item.path.parent / "report.md"
    if not path.is_file() or path.is_symlink():
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if len(text) > MAX_REPORT_CHARS:
        text = text[:MAX_REPORT_CHARS] + "\n\n(report card truncated)\n"
    return text


def _domain_entry(dh, bh=None) -> DomainEntry:
    """A domain's scores (``bh``: its behavioural headline, if any); the stability claims of a domain that
    is not measurable are left empty."""
    scores = {name: _score(getattr(dh, name)) for name in METRICS}
    if not dh.measurable:
        scores |= {name: Score(value=None, ci_low=None, ci_high=None) for name in STABILITY_METRICS}
    scores |= _behaviour_scores(bh)
    return DomainEntry(
        scores=scores,
        measurable=dh.measurable,
        not_measurable=list(dh.not_measurable),
        chance_ap=dh.chance_ap,
        behavioural_measurable=None if bh is None else bh.measurable,
        behavioural_not_measurable=[] if bh is None else list(bh.not_measurable),
    )


def _behaviour_score(est) -> Score:
    """A behavioural estimate (estimate, low, high) as a board score."""
    if est is None or est.value is None:
        return Score(value=None, ci_low=None, ci_high=None)
    return Score(value=est.value, ci_low=est.ci_low, ci_high=est.ci_high)


def _behaviour_scores(head) -> dict[str, Score]:
    """The board's behavioural scores of a headline (model or domain level); empty scores without one."""
    if head is None:
        return {name: Score(value=None, ci_low=None, ci_high=None) for name in BEHAVIOUR_METRICS}
    return {
        "behavioural_stability": _behaviour_score(head.truth_stability),
        "outside_mass": _behaviour_score(head.outside_mass),
    }


def behavioural_note(result: Result) -> str | None:
    """Why a result has no behavioural scores, or None when it has them."""
    if result.behavioural is not None and result.behavioural.headline is not None:
        return None
    if result.behavioural_skipped:
        return result.behavioural_skipped
    if result.model.is_encoder:
        return "an encoder predicts no next token, so it has no answers to score"
    if result.behavioural is not None:
        return "scored before the behavioural headline existed: re-score the model"
    return "the behavioural track was not run (score with --tracks representational,behavioural)"


def make_row(item: _Loaded, others: list[_Loaded] | None = None) -> Row:
    """The board row of one loaded result; ``others`` are the model's other runs on the board."""
    r = item.result
    m = r.model
    h = r.headline
    kind = "encoder" if m.is_encoder else ("instruct" if m.is_instruct else "base")
    warnings = list(h.warnings)
    # The headline already carries the weights note ("weights: ...") for converted weights: say it once.
    if m.quantization_note and not any(m.quantization_note in w for w in warnings):
        warnings.append(m.quantization_note)
    if r.harness.git_dirty:
        warnings.append("scored with uncommitted harness changes (git dirty)")
    folder = figure_folder(_board_id(r), m.id, m.revision_sha, m.dtype)
    targets, sources = _figures(item, folder)
    draws = r.headline_bootstrap.get(RANK_METRIC) or None
    bh = r.behavioural.headline if r.behavioural is not None else None
    return Row(
        model_id=m.id,
        model_alias=m.alias,
        hub_url=hub_url(m.id, m.source),
        revision_sha=m.revision_sha,
        revision_short=m.revision_sha[:8],
        n_parameters=m.n_parameters,
        dtype=m.dtype,
        model_kind=kind,
        architecture=m.architecture,
        quantization_note=m.quantization_note,
        scores={name: _score(getattr(h, name)) for name in METRICS} | _behaviour_scores(bh),
        domains={
            d: _domain_entry(dh, bh.per_domain.get(d) if bh else None)
            for d, dh in sorted(h.per_domain.items())
        },
        measurable_domains=list(h.measurable_domains),
        behavioural_measurable_domains=list(bh.measurable_domains) if bh else [],
        behavioural_note=behavioural_note(r),
        chance_ap=float(np.mean([dh.chance_ap for dh in h.per_domain.values()])) if h.per_domain else None,
        layers=dict(sorted(r.protocol.layers.items())),
        primary_probe=h.probe,
        dataset_sha256=r.dataset.sha256,
        harness_version=r.harness.version,
        harness_git_hash=r.harness.git_hash,
        harness_git_dirty=r.harness.git_dirty,
        seed=r.protocol.seed,
        created_at=_when(r).isoformat(),
        warnings=warnings,
        source=item.rel,
        report_card=_report_card(item),
        figures=targets,
        alternatives=[_alternative(o) for o in others or []],
        draws=[math.nan if x is None else float(x) for x in draws] if draws else None,
        figure_sources=sources,
    )


def _version_key(version: str) -> tuple:
    parts = re.split(r"[.+-]", version)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _make_board(runs: list[tuple[_Loaded, list[_Loaded]]]) -> Board:
    first = runs[0][0].result
    rows = [make_row(item, others) for item, others in runs]
    n_boot = [item.result.protocol.n_bootstrap for item, _ in runs]
    tie_method = _rank_board(rows, n_boot)
    shas = sorted({r.dataset_sha256 for r in rows})
    notes = [n for n in [_subset_note(first)] if n]
    if len(shas) > 1:
        notes.append(
            f"{len(shas)} different dataset sha256 values under one release name and version: a release "
            "must be immutable; results with different sha256 are compared by CI overlap only"
        )
    return Board(
        id=_board_id(first),
        dataset_name=first.dataset.name,
        dataset_version=first.dataset.version,
        protocol_mode=first.protocol.mode,
        subset=_subset(first),
        smoke_test=is_smoke_test(first),
        dataset_sha256=shas,
        harness_versions=sorted({r.harness_version for r in rows}, key=_version_key),
        domains=sorted({d for r in rows for d in r.domains}),
        tie_method=tie_method,
        notes=notes,
        rows=rows,
    )


def sort_boards(boards: list[Board]) -> None:
    """Whole-release boards first, then the fixed protocol, then the newest release, then by name.

    So the first board, the one a visitor sees by default, is the newest release scored in full with
    the fixed protocol whenever such a board exists. Stable sorts, least significant key first."""
    boards.sort(key=lambda b: (b.protocol_mode, b.subset))
    boards.sort(key=lambda b: b.dataset_name)
    boards.sort(key=lambda b: _version_key(b.dataset_version), reverse=True)
    boards.sort(key=lambda b: (bool(b.subset), b.protocol_mode != "fixed"))


def build_leaderboard(results_dir: str | Path, releases: list[KnownRelease] | None = None) -> Leaderboard:
    """Read every result file under ``results_dir`` and return the ranked boards.

    Only results on one of ``releases`` (default: every release the dataset registry finds) are ranked.
    Malformed, schema-incompatible and unverified files never stop the build: they are listed in
    ``skipped`` with their path and the reason."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise LeaderboardError(
            f"results folder {results_dir} does not exist; pass --results DIR (where `truthstab score` wrote)"
        )
    loaded, skipped = load_results(results_dir)
    loaded, refused = verify_results(loaded, known_releases() if releases is None else releases)
    skipped += refused
    kept, replaced = keep_newest(loaded)
    by_board: dict[str, list[tuple[_Loaded, list[_Loaded]]]] = {}
    for best, others in one_run_per_model(kept):
        by_board.setdefault(_board_id(best.result), []).append((best, others))
    boards = [_make_board(items) for items in by_board.values()]
    sort_boards(boards)
    newest = max((_when(i.result) for i in kept), default=None)
    return Leaderboard(
        built_from=newest.isoformat() if newest else None,
        boards=boards,
        skipped=skipped,
        replaced=replaced,
    )


def read_leaderboard(out_dir: str | Path) -> Leaderboard:
    """Read the leaderboard.json that ``build`` wrote into ``out_dir``."""
    path = Path(out_dir) / "leaderboard.json"
    if not path.is_file():
        raise LeaderboardError(
            f"no leaderboard at {path}; run `truthstab leaderboard build --out {out_dir}` first"
        )
    try:
        return Leaderboard.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise LeaderboardError(
            f"{path} is not a leaderboard this truthstab can read ({str(exc).splitlines()[0]}); "
            "rebuild it with `truthstab leaderboard build`"
        ) from exc
