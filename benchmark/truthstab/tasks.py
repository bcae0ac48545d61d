"""The five probe tasks (method.md §7): one table, used by the protocol, the headline, the figures and the
behavioural track's pairing.

Every task trains on the same rows; only which row classes count as True changes. A row class is its kind,
or ``fictional:true`` / ``fictional:false`` by in-fiction truth. ``faithful`` mode reproduces the reference
code's labels (method.md §12, defect 1).
"""

from __future__ import annotations

from enum import IntEnum


class Task(IntEnum):
    """A perturbation task; the value is the task id results and side files record."""

    BASELINE = 0
    SYNTHETIC = 1
    FICTIONAL = 2
    FICTIONAL_TRUE = 3
    NOISE = 4

    @property
    def name_text(self) -> str:
        """The lower-case name results' task tables use (``true+synthetic``)."""
        return _NAMES[self]

    @property
    def label(self) -> str:
        """The label figures and report cards show (``True+Synthetic``)."""
        return _LABELS[self]


_NAMES = {
    Task.BASELINE: "baseline",
    Task.SYNTHETIC: "true+synthetic",
    Task.FICTIONAL: "true+fictional",
    Task.FICTIONAL_TRUE: "true+fictional(T)",
    Task.NOISE: "true+noise",
}
_LABELS = {
    Task.BASELINE: "Baseline",
    Task.SYNTHETIC: "True+Synthetic",
    Task.FICTIONAL: "True+Fictional",
    Task.FICTIONAL_TRUE: "True+Fictional(T)",
    Task.NOISE: "True+Noise",
}

#: Which row classes are labelled True, per mode and task.
LABEL_TABLE: dict[str, dict[Task, frozenset[str]]] = {
    "fixed": {
        Task.BASELINE: frozenset({"true"}),
        Task.SYNTHETIC: frozenset({"true", "synthetic"}),
        Task.FICTIONAL: frozenset({"true", "fictional:true", "fictional:false"}),
        Task.FICTIONAL_TRUE: frozenset({"true", "fictional:true"}),
        Task.NOISE: frozenset({"true", "noise"}),
    },
    "faithful": {
        Task.BASELINE: frozenset({"true"}),
        Task.SYNTHETIC: frozenset({"true", "synthetic", "noise"}),
        Task.FICTIONAL: frozenset({"true", "fictional:true", "fictional:false"}),
        Task.FICTIONAL_TRUE: frozenset({"true", "fictional:true"}),
        Task.NOISE: frozenset({"true"}),
    },
}

#: The behavioural prompt that pairs with each perturbation task (the control prompt pairs with none).
BEHAVIOUR_PROMPT: dict[Task, str] = {
    Task.BASELINE: "baseline",
    Task.SYNTHETIC: "synthetic",
    Task.FICTIONAL: "fictional",
    Task.FICTIONAL_TRUE: "fictional-true",
}
