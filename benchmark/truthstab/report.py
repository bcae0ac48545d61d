"""The report card of a result, and side-by-side comparisons of two results (plain text, tabulate)."""

from __future__ import annotations

import pandas as pd
from tabulate import tabulate

from truthstab.reports import ProtocolReport
from truthstab.results import Estimate, Result

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
)


def fmt(est: Estimate | None, digits: int = 1) -> str:
    """``value [low, high]``."""
    if est is None:
        return "-"
    return f"{est.value:.{digits}f} [{est.ci_low:.{digits}f}, {est.ci_high:.{digits}f}]"


def _pct(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{100 * value:.1f}"


def protocol_report(result: Result) -> ProtocolReport:
    """The probe stage's report stored in a result (its per-statement predictions live in the side file)."""
    return ProtocolReport.model_validate({**result.metrics, "predictions": []})


def metric_table(result: Result) -> pd.DataFrame:
    """One row per (domain, probe, task) with rates, CIs, rotation and quality (tidy, for figures/tables)."""
    return protocol_report(result).metrics_frame()


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
    rows = [
        (label, fmt(getattr(head, key), 3 if key == "baseline_ap" else 1), why)
        for key, label, why in HEADLINE_ROWS
    ]
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
        "base-True/true",
    ]
    return tabulate(rows, headers=headers, disable_numparse=True)


def fit_aware_table(result: Result) -> str:
    """Per domain, probe and perturbation: fit-aware retraction, its excess over the null, and rotation."""
    rows = []
    for rep in protocol_report(result).results:
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
                    "-" if t.cosine is None or t.cosine.estimate is None else f"{t.cosine.estimate:.3f}",
                )
            )
    headers = ["domain", "probe", "perturbation", "retract %", "null %", "excess (pp)", "expand %", "cos"]
    return tabulate(rows, headers=headers, disable_numparse=True) if rows else "(no refits: --refits 0)"


def _interval_pct(iv) -> str:
    """A rate interval (0-1) as ``12.3 [10.1, 14.0]`` in percent."""
    if iv is None or iv.estimate is None:
        return "-"
    return f"{_pct(iv.estimate)} [{_pct(iv.low)}, {_pct(iv.high)}]"


def perturbation_table(result: Result) -> str:
    """Retraction and expansion (%), rotation and bias shift per domain, probe and perturbation."""
    table = metric_table(result)
    table = table[table["task"] > 0].sort_values(["domain", "probe", "task"])
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
    table = table[table["task"] == 0].sort_values(["domain", "probe"])
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


def report_card(result: Result) -> str:
    """The full report card as plain text (also written as report.md beside the result)."""
    parts = ["truthstab report card", "=" * 21, *_identity_lines(result), "", headline_table(result)]
    parts += ["", "Per domain (primary probe; fit-aware: against the refit null)", domain_table(result)]
    parts += [
        "",
        f"Fit-aware rates ({result.headline.n_refits} refits; 95 % joint bootstrap over statements and refits)",
        fit_aware_table(result),
    ]
    parts += [
        "",
        "Full-data fits, as in the paper (retraction CI: 95 % bootstrap over test statements only)",
        perturbation_table(result),
    ]
    parts += ["", "Baseline probe quality (test split)", quality_table(result)]
    if result.headline.warnings:
        parts += ["", "WARNINGS", *[f"! {w}" for w in result.headline.warnings]]
    return "\n".join(parts) + "\n"


def compare(a: Result, b: Result) -> str:
    """Two results side by side: headline values, differences, and whether their CIs overlap."""
    rows = []
    for key, label, _ in HEADLINE_ROWS:
        ea, eb = getattr(a.headline, key), getattr(b.headline, key)
        if ea is None or eb is None:
            rows.append((label, fmt(ea), fmt(eb), "-", "-"))
            continue
        overlap = ea.ci_low <= eb.ci_high and eb.ci_low <= ea.ci_high
        rows.append((label, fmt(ea), fmt(eb), f"{eb.value - ea.value:+.2f}", "yes" if overlap else "NO"))
    name_a = f"A: {a.model.id}@{a.model.revision_sha[:8]} {a.model.dtype}"
    name_b = f"B: {b.model.id}@{b.model.revision_sha[:8]} {b.model.dtype}"
    notes = []
    if (a.dataset.name, a.dataset.version, a.dataset.sha256) != (
        b.dataset.name,
        b.dataset.version,
        b.dataset.sha256,
    ):
        notes.append("! the two results were computed on different datasets: not comparable like for like")
    if a.protocol.mode != b.protocol.mode:
        notes.append("! the two results use different protocol modes")
    if a.headline.probe != b.headline.probe:
        notes.append("! the two results use different primary probes")
    table = tabulate(
        rows, headers=["headline (95% CI)", name_a, name_b, "B - A", "CIs overlap"], disable_numparse=True
    )
    return "\n".join([table, *notes]) + "\n"
