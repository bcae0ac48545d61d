"""The behavioural track (method.md §9): ask a causal LM whether each true test statement is correct,
plainly and after telling it to believe context statements, and count how many answers flip.

Entry points: :func:`run_behavioural` (the stage), :func:`behavioural_support` (why a model is skipped),
:class:`BehaviouralReport` (its typed result; ``predictions_frame()`` for the side file).
"""

from truthstab.behaviour.prompts import PROBE_TASK, PROMPTS
from truthstab.behaviour.report import BehaviouralReport


def __getattr__(name: str):
    # The stage pulls in torch and transformers; the result schema imports this package for the report
    # type alone, so the stage is loaded only when asked for.
    if name in ("behavioural_support", "run_behavioural"):
        from truthstab.behaviour import run

        return getattr(run, name)
    raise AttributeError(name)


__all__ = ["PROBE_TASK", "PROMPTS", "BehaviouralReport", "behavioural_support", "run_behavioural"]
