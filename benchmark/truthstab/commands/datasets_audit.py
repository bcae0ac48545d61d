"""`truthstab datasets audit`: surface cues, split leakage and split balance of a release (parse, call,
print)."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from truthstab.data.audit import AuditReport, DomainAudit, audit_release
from truthstab.data.audit_cues import BASELINES, TASKS
from truthstab.errors import AuditFailed


def _figure(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _cue_table(report: AuditReport) -> str:
    """One row per domain and task: each baseline's test AUC (AP); '!' marks a failed check."""
    failed = {(c.domain, c.what) for c in report.failures}
    rows = []
    for audit in report.domains:
        by_key = {(c.task, c.baseline): c for c in audit.cues}
        for task in TASKS:
            cells = []
            for baseline in BASELINES:
                cue = by_key[(task.name, baseline)]
                mark = "!" if (audit.domain, f"{baseline}/{task.name}") in failed else ""
                cells.append(f"{_figure(cue.auc)} ({_figure(cue.ap)}){mark}")
            chance = by_key[(task.name, BASELINES[0])].positive_share
            rows.append([audit.domain, task.name, *cells, _figure(chance)])
    return tabulate(rows, headers=["domain", "task", *BASELINES, "chance AP"], disable_numparse=True)


def _leak_table(report: AuditReport) -> str:
    rows = [
        [
            a.domain,
            leak.kind,
            leak.test_subjects,
            _percent(leak.test_subjects_in_train),
            _percent(leak.calibration_subjects_in_train),
            _percent(leak.test_subjects_in_calibration),
            _percent(leak.test_pairs_in_train),
            _percent(leak.test_rows_opposite_polarity_in_train),
            _percent(leak.test_rows_opposite_label_in_train),
        ]
        for a in report.domains
        for leak in a.leakage
    ]
    headers = [
        "domain",
        "kind",
        "test subjects",
        "test in train",
        "cal. in train",
        "test in cal.",
        "test pairings in train",
        "opposite polarity",
        "opposite label",
    ]
    return tabulate(rows, headers=headers, disable_numparse=True)


def _balance_table(report: AuditReport) -> str:
    rows = [
        [
            a.domain,
            g.kind,
            g.dimension,
            _figure(g.gap),
            g.value,
            f"{g.high_split} {_percent(g.high_share)} vs {g.low_split} {_percent(g.low_share)}",
        ]
        for a in report.domains
        for g in a.share_gaps
    ]
    return tabulate(
        rows, headers=["domain", "kind", "dimension", "largest gap", "value", "shares"], disable_numparse=True
    )


def _smallest_cell(audit: DomainAudit) -> list:
    if not audit.calibration_cells:
        return [audit.domain, "-", "-", 0]
    cell = min(audit.calibration_cells, key=lambda c: c.rows)
    return [audit.domain, cell.kind, cell.relation, cell.rows]


def _print_report(report: AuditReport) -> None:
    click.echo(f"{report.release} (sha256 {report.sha256[:16]}): audit of {len(report.domains)} domains\n")
    click.echo("Surface cues: test ROC AUC (AP) of text-only baselines fitted on train ('!': check failed)")
    click.echo(_cue_table(report) + "\n")
    click.echo("Split leakage: shares of held-out subjects and pairings already in train (or calibration)")
    click.echo(_leak_table(report) + "\n")
    click.echo("Split balance: the largest share difference of one value between two splits")
    click.echo(_balance_table(report) + "\n")
    click.echo("Smallest calibration cell (kind x relation)")
    rows = [_smallest_cell(a) for a in report.domains]
    click.echo(tabulate(rows, headers=["domain", "kind", "relation", "statements"]) + "\n")
    failures = report.failures
    if not failures:
        click.echo(f"verdict: PASS, all {len(report.checks)} checks")
        return
    click.echo(f"verdict: FAIL, {len(failures)} of {len(report.checks)} checks")
    for check in failures:
        click.echo(f"  {check.domain}: {check.name}: {check.detail}")


@click.command("audit")
@click.argument("ref")
@click.option("--domain", "domains", multiple=True, help="Audit only this domain (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def audit_command(ref: str, domains: tuple[str, ...], as_json: bool) -> None:
    """Surface cues, split leakage and split balance of release REF; exit 1 when a check fails.

    REF is NAME[@VERSION], e.g. truthstab@1.0.0 (no version: the latest), or a release folder."""
    report = audit_release(ref, domains=domains or None)
    if as_json:
        click.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        _print_report(report)
    failures = report.failures
    if failures:
        first = failures[0]
        raise AuditFailed(
            f"release {report.release} failed {len(failures)} of {len(report.checks)} audit checks "
            f"(first: {first.domain}: {first.name}: {first.detail})"
        )
