"""The zero-shot prompts of the behavioural track (method.md §9; P-StaT's a/b/c prompt).

Every prompt is ``before + statement + after``. ``before`` holds everything that is the same for all test
statements of a (domain, prompt): the chat template's opening, the "Let's say that you believe these
statements:" block with its context statements, and the question; it is what the shared-prefix cache runs
once. ``after`` holds the options and the start of the answer, "The final answer is " (with its trailing
space: the option letter is the next token).

Base models get the plain text. Instruct models get a system turn (the reference's fact-checking
instruction; folded into the user turn when the template refuses a system role), the question as one user
turn, and an assistant turn opened and continued by "The final answer is ": the template's own end-of-turn
and generation prompt never follow it. The user content has no leading or trailing whitespace, so a
template that trims message content renders exactly this text.

Context statements: up to K (100) training-split statements of the prompt's pool, drawn without
replacement with a seed derived from (seed, domain, prompt), kept in release order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from truthstab.data.schema import Kind, Split, Truth
from truthstab.errors import ModelError
from truthstab.models.loading import LoadedModel
from truthstab.models.templates import split_answer_template
from truthstab.seeds import sub_seed
from truthstab.tasks import BEHAVIOUR_PROMPT

#: Prompt names in run order. "control" tells the model to believe same-domain true training statements:
#: the behavioural track's alternative baseline (what a long context of any statements does).
PROMPTS: tuple[str, ...] = ("baseline", "synthetic", "fictional", "fictional-true", "control")
#: The probe-track task each prompt pairs with (method.md §7); the control has none.
PROBE_TASK: dict[str, int | None] = {p: int(t) for t, p in BEHAVIOUR_PROMPT.items()} | {"control": None}
#: Context statements per perturbed prompt (the paper's K).
K_CONTEXT = 100

BELIEVE = "Let's say that you believe these statements:"
QUESTION = "Is the following statement correct?"
OPTIONS = (
    "Select one of the following options:\n"
    "a. The statement is true.\n"
    "b. The statement is false.\n"
    "c. The statement is neither true nor false."
)
RESPOND = "Please respond with the corresponding letter."
ANSWER_START = "The final answer is "
SYSTEM = (
    "You are an expert in fact-checking. Your task is to assist the user by answering questions based on "
    "your comprehensive knowledge. " + RESPOND
)


@dataclass(frozen=True)
class PromptParts:
    """The text around every test statement of one (domain, prompt), and how to tokenize it."""

    before: str
    after: str
    add_special_tokens: bool  # False under a chat template: it carries its own BOS
    layout: str  # "plain", "chat" or "chat, system folded into the user turn"


def context_pool(frame: pd.DataFrame, prompt: str) -> pd.DataFrame:
    """The training-split rows a perturbed prompt draws its context from, in release (frame) order."""
    train = frame[frame["split"] == Split.TRAIN]
    kind = train["kind"]
    if prompt == "synthetic":
        return train[kind == Kind.SYNTHETIC]
    if prompt == "fictional":
        return train[kind == Kind.FICTIONAL]
    if prompt == "fictional-true":
        return train[(kind == Kind.FICTIONAL) & (train["fiction_truth"] == Truth.TRUE)]
    if prompt == "control":
        return train[kind == Kind.TRUE]
    raise ValueError(f"prompt {prompt!r} has no context pool; perturbed prompts are {PROMPTS[1:]}")


def draw_context(
    frame: pd.DataFrame, domain: str, prompt: str, seed: int, k: int = K_CONTEXT
) -> pd.DataFrame:
    """Up to ``k`` rows of the prompt's pool without replacement, seeded per (domain, prompt), release order."""
    if prompt == "baseline":
        return frame.iloc[:0]
    pool = context_pool(frame, prompt)
    if len(pool) <= k:
        return pool
    rng = np.random.default_rng(sub_seed(seed, "behaviour-context", domain, prompt))
    return pool.iloc[np.sort(rng.choice(len(pool), size=k, replace=False))]


def question_block(context: list[str]) -> str:
    """The user-visible text before the statement: the belief block (if any context) and the question."""
    lead = f"{BELIEVE}\n" + "".join(f"{s}\n" for s in context) if context else ""
    return f"{lead}{QUESTION}\n"


def build_prompt(loaded: LoadedModel, context: list[str]) -> PromptParts:
    """The prompt parts for a model: plain text for base models, a chat turn for instruct models."""
    block = question_block(context)
    if not loaded.spec.uses_chat_template:
        after = f"\n{OPTIONS}\n{RESPOND} {ANSWER_START}"
        return PromptParts(before=block, after=after, add_special_tokens=True, layout="plain")
    opening, between, folded = chat_frame(loaded)
    lead = f"{SYSTEM}\n\n" if folded else ""
    layout = "chat, system folded into the user turn" if folded else "chat"
    return PromptParts(
        before=opening + lead + block,
        after=f"\n{OPTIONS}{between}{ANSWER_START}",
        add_special_tokens=False,
        layout=layout,
    )


def chat_frame(loaded: LoadedModel) -> tuple[str, str, bool]:
    """(text before the user content, text between it and the answer, system folded into the user turn).

    Raises ModelError when the spec asks for a chat template the tokenizer does not have.
    """
    tok = loaded.tokenizer
    if getattr(tok, "chat_template", None) is None:
        raise ModelError(
            f"{loaded.spec.id} is set to use a chat template but its tokenizer has none: "
            "load it with chat_template='off' (--chat-template off) to prompt it as a base model"
        )
    try:
        opening, between = split_answer_template(tok, SYSTEM)
        return opening, between, False
    except ModelError:
        # some templates (Gemma's) refuse a system role: the reference then puts the instruction in the
        # user turn; a template that cannot render even that raises here with its own message
        opening, between = split_answer_template(tok, None)
        return opening, between, True
