"""Row classes and the True/Not-True labels of each task and mode (method.md §7, §12 defect 1)."""

from __future__ import annotations

import numpy as np

from truthstab.data.schema import Kind
from truthstab.errors import ProbeError
from truthstab.protocol.noise import NOISE_KIND
from truthstab.tasks import LABEL_TABLE, Task

TASKS: dict[int, str] = {int(t): t.name_text for t in Task}

KINDS: tuple[str, ...] = ("true", "false", "synthetic", "fictional", NOISE_KIND)


def row_classes(kinds: np.ndarray, fiction_truth: np.ndarray) -> np.ndarray:
    """The row class of each row: its kind, or fictional:true / fictional:false."""
    kinds = np.asarray(kinds, dtype=object)
    ft = np.asarray(fiction_truth, dtype=object)
    return np.where(kinds == Kind.FICTIONAL, "fictional:" + ft.astype(str), kinds.astype(str))


def task_labels(kinds: np.ndarray, fiction_truth: np.ndarray, task: int, mode: str = "fixed") -> np.ndarray:
    """Boolean True/Not-True labels of rows for a task (0-4) in a mode (``fixed`` or ``faithful``)."""
    if mode not in LABEL_TABLE:
        raise ProbeError(f"unknown protocol mode {mode!r}; use 'fixed' or 'faithful'")
    if task not in TASKS:
        raise ProbeError(f"unknown task {task!r}; tasks are 0-4")
    classes = row_classes(kinds, fiction_truth)
    return np.isin(classes, list(LABEL_TABLE[mode][task]))
