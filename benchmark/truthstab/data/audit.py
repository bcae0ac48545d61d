"""The release audit: can a release's labels be read off its surface, do its splits leak, do they differ?

``audit_release(release)`` measures, per domain and on the release's own splits (fitted on train,
scored on test):

1. text-only surface-cue baselines (``audit_cues``): character and word n-grams, length, the word "not";
2. split leakage (``audit_splits``): held-out subjects and pairings that train already holds;
3. per-split distributions of relation, polarity, category and in-fiction label, and the smallest
   calibration cell (``audit_splits``);

and checks each against the thresholds below. A release that fails a check can still be scored, but a
probe may then be measuring the data rather than the model (docs/method.md §2-§3). The report is
plain data (pydantic), so ``datasets build`` can write its figures into a manifest and a card.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from truthstab.data import audit_cues, audit_splits
from truthstab.data.audit_cues import TASKS, CueScore
from truthstab.data.audit_splits import Cell, Leakage, ShareGap
from truthstab.data.registry import Release, get_release, load_frame
from truthstab.data.release import SPLIT_ORDER

# --- Thresholds -------------------------------------------------------------------------------------
# Each is the bound a well-built release can meet and truthstab-1.0.0 does not. AUC "distance" is
# max(AUC, 1 - AUC): a classifier that is reliably wrong has found a cue as surely as one that is right.

#: Length alone (characters and words) must stay near chance. On the ~1,000-1,300 test rows of these
#: tasks a chance AUC has a standard error of about 0.02, so 0.60 is five of them: noise does not
#: reach it, while 1.0.0's invented names are shorter than real ones (synthetic vs real 0.99 medicine,
#: 0.78 cities, 0.76 definitions). Names generated to match the real lengths pass.
MAX_LENGTH_DISTANCE = 0.60
#: The length check reads the tasks with large test sets. In-fiction truth has about 160 test rows
#: (standard error 0.045, so chance alone passes 0.60 one time in 35); the n-gram and "not" checks
#: cover it.
LENGTH_TASKS: tuple[str, ...] = ("true_vs_false", "synthetic_vs_real")
#: The word "not" alone must stay near chance on every task. Each pairing is written affirmative and
#: negated, so with as many true as false pairings in a split the feature carries no label at all
#: (AUC exactly 0.5). 1.0.0's fictional medicine has about 1.7 in-fiction false pairings per true one,
#: so a negated statement is usually true inside its story and "not" predicts in-fiction truth (AUC 0.69).
MAX_NOT_DISTANCE = 0.60
NOT_TASKS: tuple[str, ...] = tuple(t.name for t in TASKS)
#: Character and word n-grams must not predict truth: real truth from text (entity-exclusive splits
#: leave nothing to memorise), in-fiction truth likewise. 0.65 is more than three standard errors on
#: 160 rows. 1.0.0 splits fiction row by row, so a pairing learnt affirmative in train comes back
#: negated in test and the n-grams are reliably wrong (AUC 0.21, distance 0.79). Synthetic and
#: fictional against real are not checked: invented words and famous fictional names are visible in
#: the text by design.
MAX_NGRAM_DISTANCE = 0.65
NGRAM_TASKS: tuple[str, ...] = ("true_vs_false", "fiction_truth")
#: No subject may occur in two splits, for any kind. Real and synthetic rows are entity-exclusive by
#: construction; 92-96 % of 1.0.0's fictional test subjects are also in train, so a probe can recall
#: the pairing instead of judging it.
MAX_SUBJECTS_SHARED = 0.0
#: No value of relation, polarity, category (real rows) or in-fiction label may differ in share by
#: more than 5 points between two splits of one kind: otherwise a probe fitted on one mix is tested
#: on another (1.0.0: medicine test 44 % oncology against 8 % in train). A split left to chance drifts
#: past 0.05 on 160 rows; one stratified on these values does not.
MAX_SHARE_GAP = 0.05
#: Every kind x relation needs at least 30 calibration statements. Conformal calibration at
#: alpha = 0.1 (docs/method.md §6) has a coverage standard deviation of about sqrt(a(1-a)/n): 0.09 for
#: 1.0.0's smallest cell (10 synthetic instance_of statements in definitions), 0.05 at 30.
MIN_CALIBRATION_CELL = 30

THRESHOLDS: dict[str, float] = {
    "max_length_distance": MAX_LENGTH_DISTANCE,
    "max_not_distance": MAX_NOT_DISTANCE,
    "max_ngram_distance": MAX_NGRAM_DISTANCE,
    "max_subjects_shared": MAX_SUBJECTS_SHARED,
    "max_share_gap": MAX_SHARE_GAP,
    "min_calibration_cell": MIN_CALIBRATION_CELL,
}


class Check(BaseModel):
    """One measured figure against its threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # length-cue, not-cue, ngram-cue, subject-leak, split-shares, calibration-cell
    domain: str
    what: str  # the task, kind or cell the figure belongs to
    measured: float | None  # None: could not be measured (see the check's detail)
    threshold: float
    bound: Literal["max", "min"]  # whether the threshold is the most or the least allowed
    passed: bool
    detail: str  # one line for the verdict


class DomainAudit(BaseModel):
    """Everything measured on one domain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    cues: list[CueScore]
    leakage: list[Leakage]
    share_gaps: list[ShareGap]
    calibration_cells: list[Cell]


class AuditReport(BaseModel):
    """The audit of one release: measurements per domain, the checks and the verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    release: str
    sha256: str
    thresholds: dict[str, float]
    domains: list[DomainAudit]
    checks: list[Check]
    passed: bool

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


def _versus(passed: bool) -> str:
    return "<=" if passed else ">"


def _cue_checks(domain: DomainAudit) -> list[Check]:
    """Surface-cue distances against their bounds, for the (baseline, task) pairs each bound covers."""
    rules = {
        "length": ("length-cue", LENGTH_TASKS, MAX_LENGTH_DISTANCE),
        "not": ("not-cue", NOT_TASKS, MAX_NOT_DISTANCE),
        "char": ("ngram-cue", NGRAM_TASKS, MAX_NGRAM_DISTANCE),
        "word": ("ngram-cue", NGRAM_TASKS, MAX_NGRAM_DISTANCE),
    }
    checks = []
    for cue in domain.cues:
        name, tasks, bound = rules[cue.baseline]
        if cue.task not in tasks:
            continue
        # Not measurable (a class missing from train or test) fails: the release lacks what the
        # protocol needs, and an audit that cannot look must not say "pass".
        passed = cue.distance is not None and cue.distance <= bound
        detail = (
            f"{cue.baseline}-only {cue.task}: AUC {cue.auc:.2f} (distance {cue.distance:.2f} "
            f"{_versus(passed)} {bound:.2f})"
            if cue.distance is not None
            else f"{cue.baseline}-only {cue.task}: not measurable (a class is missing from train or test)"
        )
        checks.append(
            Check(
                name=name,
                domain=domain.domain,
                what=f"{cue.baseline}/{cue.task}",
                measured=cue.distance,
                threshold=bound,
                bound="max",
                passed=passed,
                detail=detail,
            )
        )
    return checks


def _leak_checks(domain: DomainAudit) -> list[Check]:
    """Per kind: the largest subject overlap between two splits."""
    checks = []
    for leak in domain.leakage:
        shared = leak.subjects_shared
        checks.append(
            Check(
                name="subject-leak",
                domain=domain.domain,
                what=leak.kind,
                measured=shared,
                threshold=MAX_SUBJECTS_SHARED,
                bound="max",
                passed=shared is None or shared <= MAX_SUBJECTS_SHARED,  # None: no subjects to share
                detail=f"{leak.kind} subjects shared across splits: up to {shared or 0:.0%} "
                f"(test in train {leak.test_subjects_in_train or 0:.0%}, test pairings in train "
                f"{leak.test_pairs_in_train or 0:.0%}; at most {MAX_SUBJECTS_SHARED:.0%} allowed)",
            )
        )
    return checks


def _share_checks(domain: DomainAudit) -> list[Check]:
    """Per kind and dimension: the largest share difference between two splits."""
    checks = []
    for gap in domain.share_gaps:
        passed = gap.gap <= MAX_SHARE_GAP
        checks.append(
            Check(
                name="split-shares",
                domain=domain.domain,
                what=f"{gap.kind}/{gap.dimension}",
                measured=gap.gap,
                threshold=MAX_SHARE_GAP,
                bound="max",
                passed=passed,
                detail=f"{gap.kind} {gap.dimension} {gap.value!r}: {gap.high_split} {gap.high_share:.0%} "
                f"vs {gap.low_split} {gap.low_share:.0%} (gap {gap.gap:.2f} {_versus(passed)} "
                f"{MAX_SHARE_GAP:.2f})",
            )
        )
    return checks


def _cell_checks(domain: DomainAudit) -> list[Check]:
    """The smallest calibration cell (kind x relation) of the domain."""
    if not domain.calibration_cells:
        return []
    small = min(domain.calibration_cells, key=lambda c: c.rows)
    passed = small.rows >= MIN_CALIBRATION_CELL
    return [
        Check(
            name="calibration-cell",
            domain=domain.domain,
            what=f"{small.kind}/{small.relation}",
            measured=small.rows,
            threshold=MIN_CALIBRATION_CELL,
            bound="min",
            passed=passed,
            detail=f"smallest calibration cell {small.kind} x {small.relation}: {small.rows} statements "
            f"({'at least' if passed else 'fewer than'} {MIN_CALIBRATION_CELL})",
        )
    ]


def audit_domain(domain: str, rows: pd.DataFrame) -> DomainAudit:
    """Measure one domain's rows (all kinds and splits)."""
    return DomainAudit(
        domain=domain,
        cues=audit_cues.domain_cues(rows[rows["split"] == "train"], rows[rows["split"] == "test"]),
        leakage=audit_splits.leakage(rows),
        share_gaps=audit_splits.share_gaps(rows),
        calibration_cells=audit_splits.calibration_cells(rows),
    )


def file_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order a release's files hold them (domain, split, kind, id), which is the order
    ``load_frame`` reads them in: the classifiers see the same rows in the same order either way."""
    from truthstab.data.release import DOMAIN_ORDER, KIND_ORDER

    key = pd.DataFrame(
        {
            "d": frame["domain"].map(DOMAIN_ORDER.index),
            "s": frame["split"].map(SPLIT_ORDER.index),
            "k": frame["kind"].map(KIND_ORDER.index),
            "i": frame["id"],
        }
    )
    return frame.loc[key.sort_values(["d", "s", "k", "i"], kind="stable").index].reset_index(drop=True)


def audit_frame(
    frame: pd.DataFrame, ref: str, sha256: str = "", domains: list[str] | None = None
) -> AuditReport:
    """Audit statement rows (all domains, or ``domains`` in that order): what ``datasets build`` runs
    before it writes a release, and what ``audit_release`` runs on a written one."""
    frame = file_order(frame)
    names = domains or [d for d in dict.fromkeys(frame["domain"])]
    audits = [audit_domain(d, frame[frame["domain"] == d]) for d in names if d in set(frame["domain"])]
    checks = [
        c for a in audits for c in (*_cue_checks(a), *_leak_checks(a), *_share_checks(a), *_cell_checks(a))
    ]
    return AuditReport(
        release=ref,
        sha256=sha256,
        thresholds=THRESHOLDS,
        domains=audits,
        checks=checks,
        passed=all(c.passed for c in checks),
    )


def audit_release(release: str | Release, domains: str | Iterable[str] | None = None) -> AuditReport:
    """Audit a release (a reference or a Release), all its domains or the ones named.

    Reads the rows through the registry, so every file is checked against its manifest first and an
    unknown release or domain raises DatasetError."""
    release = get_release(release)
    wanted = domains if domains is None or isinstance(domains, str) else list(domains)
    frame = load_frame(release, domain=wanted)
    return audit_frame(frame, release.ref, release.sha256, release.domains)


def audit_summary(report: AuditReport) -> dict:
    """The figures a build records in MANIFEST.json: verdict, thresholds and every check."""
    return {
        "passed": report.passed,
        "thresholds": dict(report.thresholds),
        "checks": [c.model_dump(mode="json") for c in report.checks],
    }
