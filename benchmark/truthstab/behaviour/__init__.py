"""The behavioural track (method.md §9): ask a causal LM whether each true test statement is correct,
plainly and after telling it to believe context statements, and count how many answers flip.

Entry points: :func:`run_behavioural` (the stage), :func:`behavioural_support` (why a model is skipped),
:class:`BehaviouralReport` (its typed result; ``predictions_frame()`` for the side file).
"""

from truthstab.behaviour.prompts import PROBE_TASK, PROMPTS
from truthstab.behaviour.report import BehaviouralReport
from truthstab.behaviour.run import behavioural_support, run_behavioural

__all__ = ["PROBE_TASK", "PROMPTS", "BehaviouralReport", "behavioural_support", "run_behavioural"]
