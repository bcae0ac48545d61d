"""Write a built leaderboard: leaderboard.json, leaderboard.csv, leaderboard.md and a static index.html.

Every file is written into a temporary folder beside the output first and then moved into place with
``os.replace``, so a reader never sees a half-written board. The page is one self-contained file: inline
CSS and JavaScript, no network, the data embedded as JSON that cannot break out of its script element.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from tabulate import tabulate

from truthstab.fileio import replace_dir
from truthstab.leaderboard import LeaderboardError
from truthstab.leaderboard.build import (
    BEHAVIOUR_METRICS,
    METRICS,
    STABILITY_METRICS,
    Board,
    Leaderboard,
    Row,
    Score,
)

#: Every score column, representational then behavioural.
SCORE_METRICS = (*METRICS, *BEHAVIOUR_METRICS)

#: (key, header, explanation) of every column, shared by the page, the Markdown table and the terminal.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    (
        "rank_group",
        "Rank",
        "Rank group: 1 + the number of models whose truth stability is significantly higher (paired "
        "bootstrap over test statements when both results share dataset and seed, otherwise "
        "non-overlapping 95 % CIs). Models with the same number cannot be told apart.",
    ),
    ("model", "Model", "The scored model; linked to its Hugging Face Hub page when it is a Hub id."),
    ("revision", "Revision", "The resolved commit sha of the weights that were scored (first 8 characters)."),
    ("n_parameters", "Params", "Number of parameters."),
    (
        "dtype",
        "dtype",
        "The data type of the ranked run. A model scored more than once on a board takes one row: its "
        "float32 run before bfloat16 before float16, then the newest; the others are listed in its details.",
    ),
    (
        "model_kind",
        "Type",
        "base (pre-trained), instruct (chat-tuned, scored through its chat template) or encoder.",
    ),
    (
        "truth_stability",
        "Truth stability",
        "Mean of unfamiliar and familiar stability (higher is better; 100 = no more retraction than "
        "refitting the probe alone produces), averaged over the measurable domains, with its 95 % CI "
        "(joint bootstrap over statements and refits). Empty: no domain is measurable for the model.",
    ),
    (
        "unfamiliar_stability",
        "Unfamiliar",
        "100 minus the excess retraction (percentage points above the refit null) when synthetic "
        "(invented) statements are relabelled True (task 1), primary probe, measurable domains.",
    ),
    (
        "familiar_stability",
        "Familiar",
        "100 minus the excess retraction when fictional statements are relabelled True (task 2).",
    ),
    (
        "familiarity_gap",
        "Gap (pp)",
        "Unfamiliar minus familiar retraction rate, in percentage points: positive when invented "
        "statements move the truth boundary more than familiar fiction does.",
    ),
    (
        "refit_null",
        "Refit null",
        "The control: the share (%) of true statements that refitting the baseline probe on another "
        "bootstrap sample of the training rows retracts, with no label changed. A domain whose null "
        "exceeds 15 % is not measurable.",
    ),
    (
        "baseline_ap",
        "Baseline AP",
        "Average precision of the baseline True vs Not-True probe on the test split. Near the share of "
        "true statements means chance; a domain within 0.10 of its chance level is not measurable.",
    ),
    (
        "behavioural_stability",
        "Behavioural",
        "The behavioural track: the model itself is asked whether each true test statement is correct (a/b/c, "
        "zero-shot), plainly and after being told to believe invented or fictional statements. 100 minus the "
        "retractions of its own answers in excess of the control prompt's (a context of true statements), "
        "mean of unfamiliar and familiar, over the domains where that is measurable, with its 95 % CI "
        "(bootstrap over statements). Encoders have no answers to score.",
    ),
    (
        "outside_mass",
        "Outside %",
        "Behavioural track: the mean next-token probability (%) the model puts outside the option letters "
        "after 'The final answer is'. High means the model rarely answers with a letter and its answer is the "
        "best of a few unlikely tokens: read its behavioural score with that in mind.",
    ),
    ("layers", "Layers", "The layer probed in each domain (0-based decoder block)."),
    ("dataset", "Dataset", "The dataset release the model was scored on."),
    ("harness", "Harness", "The truthstab version that scored it."),
    ("date", "Date", "When the result was produced (UTC)."),
)

#: Decimal places per metric.
DIGITS = {"baseline_ap": 3}
#: Metrics shown with an explicit sign.
SIGNED = {"familiarity_gap"}

#: ``--sort`` choices: rank, a headline metric (full name or short alias), params, date or model. Scores
#: sort best first (refit null lowest first), rank ascending, params and date descending.
_SORT_METRIC = {
    "truth": "truth_stability",
    "unfamiliar": "unfamiliar_stability",
    "familiar": "familiar_stability",
    "gap": "familiarity_gap",
    "null": "refit_null",
    "ap": "baseline_ap",
    "behavioural": "behavioural_stability",
    "outside": "outside_mass",
    **{m: m for m in SCORE_METRICS},
}
SORT_KEYS = ("rank", *_SORT_METRIC, "params", "date", "model")

_PACKAGE = "truthstab.leaderboard"


# ------------------------------------------------------------------------------------------ formatting


def fmt_params(n: int | None) -> str:
    """135M, 1.7B: parameter counts the way model cards write them."""
    if n is None or n <= 0:
        return "—"
    if n >= 1e9:
        return f"{n / 1e9:.1f}B"
    if n >= 1e8:
        return f"{n / 1e6:.0f}M"
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    return f"{n / 1e3:.0f}k"


def fmt_score(score: Score | None, metric: str, with_ci: bool = True) -> str:
    """``87.3 [84.1, 90.2]``; an em dash when the value is undefined."""
    if score is None or score.value is None:
        return "—"
    digits = DIGITS.get(metric, 1)
    sign = "+" if metric in SIGNED else ""
    text = f"{score.value:{sign}.{digits}f}"
    if with_ci and score.ci_low is not None and score.ci_high is not None:
        text += f" [{score.ci_low:.{digits}f}, {score.ci_high:.{digits}f}]"
    return text


def fmt_layers(layers: dict[str, int]) -> str:
    return ", ".join(f"{d} {n}" for d, n in layers.items()) or "—"


def _behaviour_cell(row: Row, domain: str | None, score: Score | None, metric: str) -> str:
    """A behavioural score's text: why there is none (an encoder, not run), or "not measurable"."""
    if row.behavioural_note:
        return "none (encoder)" if row.model_kind == "encoder" else "not run"
    entry = row.domains.get(domain) if domain else None
    measurable = (
        entry.behavioural_measurable if entry is not None else bool(row.behavioural_measurable_domains)
    )
    if metric == "behavioural_stability" and not measurable:
        return "not measurable"
    return fmt_score(score, metric)


def _cell(row: Row, domain: str | None, score: Score | None, metric: str) -> str:
    """A score's text: "not measurable" for a stability claim that cannot be made, chance beside the AP."""
    if metric in BEHAVIOUR_METRICS:
        return _behaviour_cell(row, domain, score, metric)
    entry = row.domains.get(domain) if domain else None
    measurable = entry.measurable if entry is not None else bool(row.measurable_domains)
    if not measurable and metric in STABILITY_METRICS:
        return "not measurable"
    text = fmt_score(score, metric)
    chance = entry.chance_ap if entry is not None else row.chance_ap
    if metric == "baseline_ap" and chance is not None and score is not None and score.value is not None:
        text += f" (chance {chance:.3f})"
    return text


def _row_scores(row: Row, domain: str | None) -> tuple[int | None, dict[str, Score]]:
    if domain is None:
        return row.rank_group, row.scores
    entry = row.domains.get(domain)
    if entry is None:
        return None, {}
    return entry.rank_group, entry.scores


def _md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no links, no cell breaks."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#!":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


# ------------------------------------------------------------------------------------------------ tables


def sorted_rows(board: Board, sort: str = "rank", domain: str | None = None) -> list[Row]:
    """The board's rows in ``sort`` order (see SORT_KEYS); undefined values last."""
    if sort not in SORT_KEYS:
        raise LeaderboardError(f"unknown sort key {sort!r}; choose one of: {', '.join(SORT_KEYS)}")
    if domain is not None and domain not in board.domains:
        choices = ", ".join(board.domains) or "(none)"
        raise LeaderboardError(f"board {board.id} has no domain {domain!r}; choose one of: {choices}")
    rows = [r for r in board.rows if domain is None or domain in r.domains]
    if sort == "model":
        return sorted(rows, key=lambda r: (r.model_id.lower(), r.revision_sha, r.dtype))
    if sort == "params":
        return sorted(rows, key=lambda r: -r.n_parameters)
    if sort == "date":
        return sorted(rows, key=lambda r: r.created_at, reverse=True)
    if sort == "rank":

        def rank_key(r: Row) -> tuple:
            group, scores = _row_scores(r, domain)
            value = scores.get("truth_stability")
            v = value.value if value is not None and value.value is not None else float("-inf")
            return (group is None, group or 0, -v, r.model_id)

        return sorted(rows, key=rank_key)
    metric = _SORT_METRIC[sort]

    sign = 1.0 if metric in ("refit_null", "outside_mass") else -1.0  # low is the good end of these

    def metric_key(r: Row) -> tuple:
        score = _row_scores(r, domain)[1].get(metric)
        missing = score is None or score.value is None
        return (missing, sign * (score.value if not missing else 0.0), r.model_id)

    return sorted(rows, key=metric_key)


def table_rows(board: Board, rows: list[Row], domain: str | None, markdown: bool) -> list[list[str]]:
    """Cells of each row, in COLUMNS order, as text."""
    esc = _md_escape if markdown else (lambda s: " ".join(s.split()))
    out = []
    for row in rows:
        group, scores = _row_scores(row, domain)
        name = esc(row.model_id)
        if markdown and row.hub_url:
            name = f"[{name}]({row.hub_url})"
        cells = [str(group) if group is not None else "—", name, esc(row.revision_short)]
        cells += [fmt_params(row.n_parameters), esc(row.dtype), row.model_kind]
        cells += [_cell(row, domain, scores.get(m), m) for m in SCORE_METRICS]
        layers = {domain: row.layers[domain]} if domain in row.layers else row.layers
        cells += [esc(fmt_layers(layers)), esc(f"{board.dataset_name} {board.dataset_version}")]
        cells += [esc(row.harness_version), row.created_at[:10]]
        out.append(cells)
    return out


def subset_label(part: str) -> str:
    """``max60`` -> ``max 60 per kind``; ``frac0.1`` -> ``10 % sample``; ``cities+medicine`` -> ``domains ...``."""
    if part.startswith("max") and part[3:].isdigit():
        return f"max {part[3:]} per kind"
    if part.startswith("frac"):
        try:
            return f"{100 * float(part[4:]):g} % sample"
        except ValueError:
            pass
    return f"domains {part}"


def board_title(board: Board) -> str:
    """``truthstab 1.0.0, protocol fixed`` plus the part of the release and a smoke-test label."""
    subset = f" ({', '.join(subset_label(p) for p in board.subset)})" if board.subset else ""
    smoke = " - SMOKE TEST, wider intervals" if board.smoke_test else ""
    return f"{board.dataset_name} {board.dataset_version}, protocol {board.protocol_mode}{subset}{smoke}"


def terminal_table(board: Board, domain: str | None = None, sort: str = "rank") -> str:
    """The board as a plain-text table for ``truthstab leaderboard show``."""
    rows = sorted_rows(board, sort, domain)
    headers = [c[1] for c in COLUMNS]
    scope = f", domain {domain}" if domain else ", all domains"
    head = f"{board_title(board)}{scope} ({len(rows)} models; rank groups by {board.tie_method})"
    if not rows:
        return head + "\n(no scored models)"
    return head + "\n" + tabulate(table_rows(board, rows, domain, markdown=False), headers, tablefmt="simple")


def markdown(lb: Leaderboard) -> str:
    """leaderboard.md: one GitHub table per board, with what each board was built from."""
    parts = ["# truthstab leaderboard", ""]
    parts.append(
        "Ranked by truth stability (95 % bootstrap CIs in brackets). Models share a rank group when their "
        "scores cannot be separated statistically. Columns are explained in `index.html`."
    )
    if not lb.boards:
        parts += ["", "No scored models yet."]
    for board in lb.boards:
        parts += ["", f"## {_md_escape(board_title(board))}", ""]
        shas = ", ".join(s[:12] for s in board.dataset_sha256)
        parts.append(
            f"Dataset sha256 {shas}; harness {_md_escape(', '.join(board.harness_versions))}; "
            f"rank groups by {board.tie_method}."
        )
        for note in board.notes:
            parts.append(f"Note: {_md_escape(note)}")
        parts.append("")
        cells = table_rows(board, board.rows, None, markdown=True)
        parts.append(tabulate(cells, [c[1] for c in COLUMNS], tablefmt="github"))
    return "\n".join(parts) + "\n"


def _csv_text(value: object) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(lb: Leaderboard) -> str:
    """leaderboard.csv: one line per (board, model, revision sha, dtype); scores with their CI bounds."""
    domains = sorted({d for b in lb.boards for d in b.domains})
    header = [
        "board",
        "run",
        "rank_group",
        "model_id",
        "model_alias",
        "hub_url",
        "revision_sha",
        "n_parameters",
    ]
    header += ["dtype", "model_kind", "architecture"]
    for m in SCORE_METRICS:
        header += [m, f"{m}_ci_low", f"{m}_ci_high"]
    header += ["behavioural_note"]
    for d in domains:
        header += [f"{d}_rank_group", f"{d}_truth_stability", f"{d}_truth_stability_ci_low"]
        header += [f"{d}_truth_stability_ci_high", f"{d}_layer"]
    header += ["dataset_name", "dataset_version", "dataset_sha256", "protocol_mode", "primary_probe"]
    header += ["harness_version", "harness_git_hash", "seed", "created_at", "warnings", "source"]
    header += ["other_runs"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for b in lb.boards:
        for r in b.rows:
            run = "smoke test (sample of the release)" if b.smoke_test else "full"
            line: list[object] = [b.id, run, r.rank_group, _csv_text(r.model_id), _csv_text(r.model_alias)]
            line += [r.hub_url, _csv_text(r.revision_sha), r.n_parameters, _csv_text(r.dtype), r.model_kind]
            line += [_csv_text(r.architecture)]
            for m in SCORE_METRICS:
                s = r.scores.get(m) or Score(value=None, ci_low=None, ci_high=None)
                line += [s.value, s.ci_low, s.ci_high]
            line += [_csv_text(r.behavioural_note)]
            for d in domains:
                e = r.domains.get(d)
                s = e.scores["truth_stability"] if e else None
                line += [e.rank_group if e else None, *((s.value, s.ci_low, s.ci_high) if s else (None,) * 3)]
                line += [r.layers.get(d)]
            line += [
                _csv_text(b.dataset_name),
                _csv_text(b.dataset_version),
                r.dataset_sha256,
                b.protocol_mode,
            ]
            line += [_csv_text(r.primary_probe), _csv_text(r.harness_version), r.harness_git_hash, r.seed]
            line += [r.created_at, _csv_text(" | ".join(r.warnings)), _csv_text(r.source)]
            line += [
                _csv_text(" | ".join(f"{a.dtype} {a.revision_sha[:8]} {a.source}" for a in r.alternatives))
            ]
            writer.writerow(["" if v is None else v for v in line])
    return buf.getvalue()


def to_json(lb: Leaderboard) -> str:
    return json.dumps(lb.model_dump(mode="json"), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


# ------------------------------------------------------------------------------------------------- page


def script_safe_json(data: object) -> str:
    """JSON that can sit inside a <script> element: no '<', '>' or '&' (so no '</script>' or '<!--')."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def _template(name: str) -> str:
    return resources.files(_PACKAGE).joinpath("templates", name).read_text(encoding="utf-8")


def page_data(lb: Leaderboard) -> dict:
    """What the page's script reads: the boards and the column explanations."""
    return {
        "format_version": lb.format_version,
        "built_from": lb.built_from,
        "columns": [{"key": k, "label": label, "help": text} for k, label, text in COLUMNS],
        "digits": DIGITS,
        "signed": sorted(SIGNED),
        "boards": [b.model_dump(mode="json") for b in lb.boards],
        "n_skipped": len(lb.skipped),
    }


def html_page(lb: Leaderboard) -> str:
    """index.html: one self-contained page. A hash-pinned CSP allows only its own inline script."""
    script = _template("app.js")
    style = _template("style.css")
    if "</script" in script.lower() or "</style" in style.lower():
        raise LeaderboardError(
            "the page template holds a closing tag in its script or style; fix the template"
        )
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    page = _template("index.html")
    page = page.replace("__SCRIPT_HASH__", f"sha256-{digest}")
    page = page.replace("/*__STYLE__*/", style)
    # Data last and by splitting, so nothing inside the data is ever taken for a marker.
    head, tail = page.split("__DATA__", 1)
    head = head.replace("/*__SCRIPT__*/", script)
    tail = tail.replace("/*__SCRIPT__*/", script)
    return head + script_safe_json(page_data(lb)) + tail


# ------------------------------------------------------------------------------------------------ write


def write_leaderboard(lb: Leaderboard, out_dir: str | Path) -> list[Path]:
    """Write all board files into ``out_dir`` and return their paths; each file is replaced atomically.

    Everything is first written into a temporary folder inside ``out_dir``; then each file is moved into
    place with os.replace, and the figures folder is swapped whole."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LeaderboardError(f"cannot create output folder {out}: {exc}; pass --out DIR") from exc
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
    except OSError as exc:
        raise LeaderboardError(f"cannot write into {out}: {exc}; pass a writable --out DIR") from exc
    try:
        files = {
            "leaderboard.json": to_json(lb),
            "leaderboard.csv": to_csv(lb),
            "leaderboard.md": markdown(lb),
            "index.html": html_page(lb),
        }
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8", newline="\n")
        _copy_figures(lb, tmp / "figures")
        written = []
        for name in files:
            os.replace(tmp / name, out / name)
            written.append(out / name)
        replace_dir(tmp / "figures", out / "figures")
        return written
    except OSError as exc:
        raise LeaderboardError(
            f"cannot write the leaderboard into {out}: {exc}; check space and permissions"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _copy_figures(lb: Leaderboard, dest: Path) -> None:
    dest.mkdir()
    for board in lb.boards:
        for row in board.rows:
            for src, rel in zip(row.figure_sources, row.figures, strict=True):
                target = dest.parent / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
