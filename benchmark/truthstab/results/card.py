"""The report card of a result, and side-by-side comparisons of two results (plain text, tabulate)."""

from __future__ import annotations

import pandas as pd
from tabulate import tabulate

from truthstab.results import Estimate, Result
from truthstab.tasks import Task

HEADLINE_ROWS = (
    ("truth_stability", "truth stability", "mean of unfamiliar and familiar stability"),
    ("unfamiliar_stability", "unfamiliar stability", "100 - excess retraction, True+Synthetic"),
    ("familiar_stability", "familiar stability", "100 - excess retraction, True+Fictional"),
    ("familiarity_gap", "familiarity gap (pp)", "synthetic minus fictional retraction rate"),
    ("unfamiliar_excess", "unfamiliar excess (pp)", "True+Synthetic retraction minus the refit null"),
    ("familiar_excess", "familiar excess (pp)", "True+Fictional retraction minus the refit null"),
    ("refit_null", "refit null (%)", "what refitting the baseline alone retracts (the control)"),
    ("noise_control", "noise control (%)", "retraction, True+Noise (off-manifold rows; see docs)"),
    ("baseline_ap", "baseline probe AP", "test average precision of the task-0 probe"),
    ("truth_ap", "true-vs-false AP", "the same on true vs false statements (measurability; chance 0.5)"),
)


def digits_of(key: str) -> int:
    """Decimal places a headline quantity is shown with (AP is a 0-1 number, the rest are percentages)."""
    return 3 if key in ("baseline_ap", "truth_ap") else 1


def sample_description(result: Result) -> str | None:
    """What sample of its release a quick run scored (None for a run on the whole release)."""
    options = result.protocol.options
    fraction, cap = options.get("sample_fraction"), options.get("max_per_kind")
    parts = []
    if fraction:
        parts.append(f"a seeded {100 * float(fraction):g} % sample of each domain, kind and split")
    if cap:
        parts.append(f"at most {int(cap)} statements per domain, kind and split")
    return " and ".join(parts) or None


def smoke_test_note(result: Result) -> str | None:
    """The label of a run on a sample of its release (None for a full run): it is a smoke test."""
    sample = sample_description(result)
    if sample is None:
        return None
    return f"SMOKE TEST: scored on {sample}, not the whole release. {SAMPLE_WARNING}"


#: What a sampled run can and cannot tell (measured: docs/method.md §13, "Quick runs").
SAMPLE_WARNING = (
    "Its intervals are wider than a full run's, and a sample this size cannot estimate the full-release "
    "scores (on SmolLM2-135M a 10 % sample's headline lies outside the full run's interval, and its layer "
    "choice and measurable domains differ; docs/method.md §13, Quick runs): use it to check that a model "
    "runs, never to compare models. For the scores, run truthstab score without --sample-fraction or "
    "--max-per-kind (make run RUN_ARGS=). It is ranked only against runs on the same sample."
)


def fmt(est: Estimate | None, digits: int = 1) -> str:
    """``value [low, high]``."""
    if est is None:
        return "-"
    return f"{est.value:.{digits}f} [{est.ci_low:.{digits}f}, {est.ci_high:.{digits}f}]"


def _pct(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{100 * value:.1f}"


def metric_table(result: Result) -> pd.DataFrame:
    """One row per (domain, probe, task) with rates, CIs, rotation and quality (tidy, for figures/tables)."""
    if result.metrics is None:  # a hand-made result: the card then prints no metric tables
        raise ValueError("this result has no probe metrics")
    return result.metrics.metrics_frame()


def _identity_lines(result: Result) -> list[str]:
    m, d, p, h = result.model, result.dataset, result.protocol, result.harness
    layers = ", ".join(f"{k} {v}" for k, v in sorted(p.layers.items()))
    lines = [
        f"model      {m.id}" + (f" (alias {m.alias})" if m.alias else ""),
        f"revision   {m.revision_sha}  dtype {m.dtype}  device {m.device}  "
        f"{'instruct' if m.is_instruct else 'base'}{' encoder' if m.is_encoder else ''}  "
        f"{m.n_parameters / 1e6:.1f}M parameters",
        f"dataset    {d.name} {d.version} (sha256 {d.sha256[:12]})",
        f"protocol   {p.mode}; primary probe {p.primary_probe}; probes {', '.join(p.probes)}; "
        f"layers ({p.layer_policy}) {layers}; seed {p.seed}; bootstrap {p.n_bootstrap}",
        f"harness    truthstab {h.version} ({(h.git_hash or 'no git')[:10]}{', dirty' if h.git_dirty else ''})",
    ]
    if m.quantization_note:
        lines.append(f"note       {m.quantization_note}")
    return lines


def headline_table(result: Result) -> str:
    """The headline scores with their 95 % CIs."""
    head = result.headline
    rows = [(label, fmt(getattr(head, key), digits_of(key)), why) for key, label, why in HEADLINE_ROWS]
    measured = ", ".join(head.measurable_domains) or "none (not measurable)"
    title = f"{head.probe}; measured on: {measured}"
    return tabulate(rows, headers=["headline (95% CI)", title, "definition"], disable_numparse=True)


def domain_table(result: Result) -> str:
    """Headline quantities per domain; a domain that is not measurable says so instead of ranking."""
    rows = []
    for domain, dh in sorted(result.headline.per_domain.items()):
        rows.append(
            (
                domain,
                result.protocol.layers.get(domain, "-"),
                "yes" if dh.measurable else "NO",
                fmt(dh.refit_null),
                fmt(dh.unfamiliar_excess),
                fmt(dh.familiar_excess),
                fmt(dh.familiarity_gap),
                f"{fmt(dh.baseline_ap, 3)} (chance {dh.chance_ap:.3f})",
                "-" if dh.truth_ap is None else f"{fmt(dh.truth_ap, 3)} (chance {dh.truth_chance:.3f})",
                f"{dh.n_baseline_true}/{dh.n_true_test}",
            )
        )
    headers = [
        "domain",
        "layer",
        "measurable",
        "refit null %",
        "unfamiliar excess",
        "familiar excess",
        "gap (pp)",
        "baseline AP",
        "true-vs-false AP",
        "base-True/true",
    ]
    return tabulate(rows, headers=headers, disable_numparse=True)


def fit_aware_table(result: Result) -> str:
    """Per domain, probe and perturbation: fit-aware retraction, its excess over the null, and rotation."""
    rows = []
    for rep in result.metrics.results if result.metrics else []:
        if rep.refits is None:
            continue
        null = rep.refits.null_retraction
        for t in rep.refits.tasks:
            rows.append(
                (
                    rep.domain,
                    rep.probe,
                    t.task_name,
                    _interval_pct(t.retraction_rate),
                    _interval_pct(null),
                    _interval_pct(t.excess_retraction),
                    _interval_pct(t.expansion_rate),
                    "-" if t.cosine is None or t.cosine.value is None else f"{t.cosine.value:.3f}",
                )
            )
    headers = ["domain", "probe", "perturbation", "retract %", "null %", "excess (pp)", "expand %", "cos"]
    return tabulate(rows, headers=headers, disable_numparse=True) if rows else "(no refits: --refits 0)"


def _interval_pct(iv) -> str:
    """A rate interval (0-1) as ``12.3 [10.1, 14.0]`` in percent."""
    if iv is None or iv.value is None:
        return "-"
    return f"{_pct(iv.value)} [{_pct(iv.ci_low)}, {_pct(iv.ci_high)}]"


def perturbation_table(result: Result) -> str:
    """Retraction and expansion (%), rotation and bias shift per domain, probe and perturbation."""
    table = metric_table(result)
    table = table[table["task"] != Task.BASELINE].sort_values(["domain", "probe", "task"])
    rows = []
    for r in table.itertuples():
        ci = f"[{_pct(r.retraction_rate_base_low)}, {_pct(r.retraction_rate_base_high)}]"
        rows.append(
            (
                r.domain,
                r.probe,
                r.task_name,
                f"{_pct(r.retraction_rate_base)} {ci}",
                _pct(r.retraction_rate_all),
                _pct(r.expansion_rate_base),
                "-" if pd.isna(r.rotation_cosine) else f"{r.rotation_cosine:.3f}",
                "-" if pd.isna(r.bias_shift) else f"{r.bias_shift:+.3f}",
            )
        )
    headers = [
        "domain",
        "probe",
        "perturbation",
        "retract % (base-True)",
        "retract % (all)",
        "expand %",
        "cos",
        "bias shift",
    ]
    return tabulate(rows, headers=headers)


def quality_table(result: Result) -> str:
    """Baseline (task 0) probe quality on the test split, per domain and probe."""
    table = metric_table(result)
    table = table[table["task"] == Task.BASELINE].sort_values(["domain", "probe"])
    rows = [
        (
            r.domain,
            r.probe,
            f"{r.accuracy:.3f}",
            f"{r.roc_auc:.3f}" if pd.notna(r.roc_auc) else "-",
            f"{r.average_precision:.3f} [{r.average_precision_low:.3f}, {r.average_precision_high:.3f}]",
            f"{r.mcc:.3f}" if pd.notna(r.mcc) else "-",
            _pct(r.abstention_rate),
        )
        for r in table.itertuples()
    ]
    return tabulate(
        rows, headers=["domain", "probe", "accuracy", "ROC AUC", "AP [95% CI]", "MCC", "abstain %"]
    )


def _est_pct(est) -> str:
    """A behavioural estimate (0-1) in percent, or its reason when undefined."""
    if est is None or est.value is None:
        return "-" if est is None or not est.reason else f"- ({est.reason})"
    return f"{_pct(est.value)} [{_pct(est.ci_low)}, {_pct(est.ci_high)}]"


def behavioural_table(result: Result) -> str:
    """Per domain and prompt: answer shares, mass outside the options, retraction rate vs the baseline."""
    rows = []
    for dom in result.behavioural.domains:
        for pr in dom.prompts:
            sh = pr.shares
            rows.append(
                (
                    dom.domain,
                    pr.prompt,
                    pr.context.n_kept,
                    _est_pct(sh.a),
                    _est_pct(sh.b),
                    _est_pct(sh.c),
                    _est_pct(sh.outside_mass),
                    "-" if pr.flips is None else _est_pct(pr.flips.retraction_rate_base),
                )
            )
    headers = [
        "domain",
        "prompt",
        "context",
        "a (true) %",
        "b (false) %",
        "c (neither) %",
        "outside %",
        "retract %",
    ]
    return tabulate(rows, headers=headers, disable_numparse=True)


def _est_points(est) -> str:
    """A behavioural headline estimate (already in percent or points) with its interval."""
    if est is None or est.value is None:
        return "-"
    return f"{est.value:.1f} [{est.ci_low:.1f}, {est.ci_high:.1f}]"


BEHAVIOUR_HEADLINE_COLUMNS = (
    ("truth_stability", "truth stability"),
    ("unfamiliar_excess", "unfamiliar excess"),
    ("familiar_excess", "familiar excess"),
    ("control_retraction", "control (null) %"),
    ("outside_mass", "outside %"),
)


def behavioural_headline_table(result: Result) -> str:
    """The behavioural headline per domain and for the model: stability against the control prompt."""
    head = result.behavioural.headline
    rows = []
    for domain, dom in head.per_domain.items():
        status = "yes" if dom.measurable else "no: " + "; ".join(dom.not_measurable)
        rows.append((domain, *[_est_points(getattr(dom, k)) for k, _ in BEHAVIOUR_HEADLINE_COLUMNS], status))
    rows.append(
        (
            "model",
            *[_est_points(getattr(head, k)) for k, _ in BEHAVIOUR_HEADLINE_COLUMNS],
            "mean of measurable",
        )
    )
    headers = ["domain", *[label for _, label in BEHAVIOUR_HEADLINE_COLUMNS], "measurable"]
    return tabulate(rows, headers=headers, disable_numparse=True)


def agreement_table(result: Result) -> str:
    """Retracted by both tracks, by the probe only, by the answers only, by neither."""
    rows = [
        (a.domain, a.task, a.n_both_true, a.both, a.probe_only, a.behaviour_only, a.neither)
        for a in result.track_agreement
    ]
    headers = ["domain", "task", "both True", "both retract", "probe only", "answers only", "neither"]
    return tabulate(rows, headers=headers, disable_numparse=True)


def report_card(result: Result) -> str:
    """The full report card as plain text (also written as report.md beside the result)."""
    smoke = smoke_test_note(result)
    parts = ["truthstab report card", "=" * 21, *([f"! {smoke}"] if smoke else []), *_identity_lines(result)]
    parts += ["", headline_table(result)]
    parts += ["", "Per domain (primary probe; fit-aware: against the refit null)", domain_table(result)]
    if result.metrics is not None:  # the probe stage's report; absent only from hand-made results
        parts += [
            "",
            f"Fit-aware rates ({result.headline.n_refits} refits; 95 % joint bootstrap over statements "
            "and refits)",
            fit_aware_table(result),
        ]
        parts += [
            "",
            "Full-data fits, as in the paper (retraction CI: 95 % bootstrap over test statements only)",
            perturbation_table(result),
        ]
        parts += ["", "Baseline probe quality (test split)", quality_table(result)]
    if result.behavioural is not None:
        if result.behavioural.headline is not None:
            parts += [
                "",
                "Behavioural stability (100 - retractions in excess of the control prompt's; 95 % CI)",
            ]
            parts += [behavioural_headline_table(result)]
        parts += ["", "Behavioural track (zero-shot answers; retraction: baseline answered a, perturbed not)"]
        parts += [behavioural_table(result)]
        if result.track_agreement:
            parts += ["", "Both tracks on the same statements (both baselines True)", agreement_table(result)]
    warnings = list(result.headline.warnings)
    if result.behavioural is not None and result.behavioural.headline is not None:
        warnings += result.behavioural.headline.warnings
    if warnings:
        parts += ["", "WARNINGS", *[f"! {w}" for w in warnings]]
    return "\n".join(parts) + "\n"


def _scope(result: Result) -> dict:
    """What part of which release, under which protocol, a result scored: runs compare like for like
    only when these agree."""
    options = result.protocol.options
    return {
        "dataset": f"{result.dataset.name}@{result.dataset.version}",
        "dataset_sha256": result.dataset.sha256,
        "protocol": result.protocol.mode,
        "primary_probe": result.headline.probe,
        "sample_fraction": options.get("sample_fraction"),
        "max_per_kind": options.get("max_per_kind"),
        "domains": sorted(options.get("domains") or result.headline.per_domain),
        "seed": result.protocol.seed,
    }


def compare_warnings(a: Result, b: Result) -> list[str]:
    """Why two results are not comparable like for like (empty when they are)."""
    sa, sb = _scope(a), _scope(b)
    warnings = []
    if (sa["dataset"], sa["dataset_sha256"]) != (sb["dataset"], sb["dataset_sha256"]):
        warnings.append(
            f"different releases (A {sa['dataset']} sha256 {sa['dataset_sha256'][:12]}, B {sb['dataset']} "
            f"sha256 {sb['dataset_sha256'][:12]}): not comparable like for like"
        )
    if sa["protocol"] != sb["protocol"]:
        warnings.append(f"different protocol modes (A {sa['protocol']}, B {sb['protocol']})")
    if sa["primary_probe"] != sb["primary_probe"]:
        warnings.append(f"different primary probes (A {sa['primary_probe']}, B {sb['primary_probe']})")
    sample = ("sample_fraction", "max_per_kind", "domains")
    if any(sa[k] != sb[k] for k in sample):

        def describe(scope: dict) -> str:
            return ", ".join(f"{k} {scope[k]}" for k in sample if scope[k])

        warnings.append(
            f"different samples of the release (A: {describe(sa)}; B: {describe(sb)}): they scored other "
            "statements, so the difference mixes models and samples"
        )
    elif sa["seed"] != sb["seed"] and (sa["sample_fraction"] or sa["max_per_kind"]):
        warnings.append(f"different seeds (A {sa['seed']}, B {sb['seed']}) draw different samples")
    for name, result in (("A", a), ("B", b)):
        sample = sample_description(result)
        if sample:
            warnings.append(f"{name} is a smoke test on {sample}: its intervals are wider than a full run's")
    return warnings


def _run_label(result: Result) -> str:
    return f"{result.model.id}@{result.model.revision_sha[:8]} {result.model.dtype}"


def compare_data(a: Result, b: Result) -> dict:
    """Two results side by side as data: each headline quantity, B - A, whether the CIs overlap, and
    the warnings of :func:`compare_warnings`."""
    rows = []
    for key, label, _ in HEADLINE_ROWS:
        ea, eb = getattr(a.headline, key), getattr(b.headline, key)
        both = ea is not None and eb is not None
        rows.append(
            {
                "metric": key,
                "label": label,
                "a": ea.model_dump() if ea is not None else None,
                "b": eb.model_dump() if eb is not None else None,
                "difference": eb.value - ea.value if both else None,
                "cis_overlap": bool(ea.ci_low <= eb.ci_high and eb.ci_low <= ea.ci_high) if both else None,
            }
        )
    return {
        "a": {"run": _run_label(a), **_scope(a)},
        "b": {"run": _run_label(b), **_scope(b)},
        "rows": rows,
        "warnings": compare_warnings(a, b),
    }


def compare(a: Result, b: Result) -> str:
    """Two results side by side: headline values, differences, and whether their CIs overlap."""
    data = compare_data(a, b)
    rows = []
    for row in data["rows"]:
        d = digits_of(row["metric"])
        ea, eb = getattr(a.headline, row["metric"]), getattr(b.headline, row["metric"])
        if row["difference"] is None:  # not measurable on one side: nothing to subtract
            rows.append((row["label"], fmt(ea, d), fmt(eb, d), "-", "-"))
            continue
        overlap = "yes" if row["cis_overlap"] else "NO"
        rows.append((row["label"], fmt(ea, d), fmt(eb, d), f"{row['difference']:+.{d + 1}f}", overlap))
    table = tabulate(
        rows,
        headers=[
            "headline (95% CI)",
            f"A: {data['a']['run']}",
            f"B: {data['b']['run']}",
            "B - A",
            "CIs overlap",
        ],
        disable_numparse=True,
    )
    return "\n".join([table, *(f"! {w}" for w in data["warnings"])]) + "\n"
