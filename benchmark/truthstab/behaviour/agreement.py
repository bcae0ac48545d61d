"""Agreement of the two tracks on the same true test statements: retracted by both, by one, by neither.

For each domain and perturbation that both tracks ran, among the true test statements that *both* baselines
call True (the probe's full-data baseline fit, the model's answer "a" to the plain prompt): how many the
perturbed probe and the perturbed prompt each retract. A statement set, not a rate pair, so the two
measures can be compared statement by statement.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from truthstab.data.schema import Kind


class TrackAgreement(BaseModel):
    """Retractions of one (domain, task) by the probe track and the behavioural track, jointly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str
    task: int = Field(description="the perturbation (probe task 1-3; the behavioural prompt pairs with it)")
    n_both_true: int = Field(description="true test statements both baselines call True")
    both: int = Field(description="retracted by the probe and by the answers")
    probe_only: int
    behaviour_only: int
    neither: int


def track_agreement(probe: pd.DataFrame, behaviour: pd.DataFrame, probe_name: str) -> list[TrackAgreement]:
    """Joint retraction counts per (domain, task) from the two tracks' per-statement predictions.

    ``probe``: the predictions side file (refit 0 rows are the full-data fits); ``behaviour``: the
    behavioural answers (``prediction`` = answered a).
    """
    p = probe[(probe["probe"] == probe_name) & (probe["kind"] == Kind.TRUE)]
    if "refit" in p.columns:
        p = p[p["refit"] == 0]
    p = p.pivot_table(index=["domain", "id"], columns="task", values="prediction", aggfunc="first")
    b = behaviour.dropna(subset=["task"]).copy()
    b["task"] = b["task"].astype(int)
    base = behaviour[behaviour["prompt"] == "baseline"].set_index(["domain", "id"])["prediction"]
    b = b.pivot_table(index=["domain", "id"], columns="task", values="prediction", aggfunc="first")
    out = []
    for task in sorted(set(b.columns) & set(p.columns) - {0}):
        joined = pd.DataFrame({"p0": p[0], "pk": p[task], "b0": base, "bk": b[task]}).dropna()
        kept = joined[joined["p0"].astype(bool) & joined["b0"].astype(bool)]
        pr, br = ~kept["pk"].astype(bool), ~kept["bk"].astype(bool)
        for domain, idx in kept.groupby(level="domain").groups.items():
            pr_d, br_d = pr.loc[idx], br.loc[idx]
            out.append(
                TrackAgreement(
                    domain=str(domain),
                    task=int(task),
                    n_both_true=len(idx),
                    both=int((pr_d & br_d).sum()),
                    probe_only=int((pr_d & ~br_d).sum()),
                    behaviour_only=int((~pr_d & br_d).sum()),
                    neither=int((~pr_d & ~br_d).sum()),
                )
            )
    return sorted(out, key=lambda a: (a.domain, a.task))
