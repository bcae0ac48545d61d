"""The behavioural track (method.md §9): ask a causal LM whether each true test statement is correct,
plainly and after telling it to believe context statements, and count how many answers flip.

Entry points: :func:`truthstab.behaviour.run.run_behavioural` (the stage; it pulls in torch and
transformers, so it is imported from its module, never from here), :func:`~truthstab.behaviour.run.
behavioural_support` (why a model is skipped), :class:`BehaviouralReport` (its typed result;
``predictions_frame()`` for the side file). The result schema imports this package for the report type
alone.
"""

from truthstab.behaviour.prompts import PROBE_TASK, PROMPTS
from truthstab.behaviour.report import BehaviouralReport

__all__ = ["PROBE_TASK", "PROMPTS", "BehaviouralReport"]
