"""Chat templates: render one user turn with a pinned date, and split it around the statement.

Templates that insert today's date (``strftime_now``, or Llama 3's ``date_string``) would make
activations depend on the day of the run. We render with the date pinned to ``PINNED_DATE``: transformers
resolves ``strftime_now`` through its module's ``datetime`` at call time, and render arguments cannot
override callables (it turns them into inert placeholders), so we swap that ``datetime`` for the duration of
the render.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import threading
from collections.abc import Iterator

from truthstab.errors import ModelError

#: The date every chat template sees (Llama 3.1's own default ``date_string``).
PINNED_DATE = _dt.datetime(2024, 7, 26, 12, 0, 0)
PINNED_DATE_STRING = PINNED_DATE.strftime("%d %b %Y")

_LOCK = threading.Lock()
_SENTINEL = "\x00TRUTHSTAB_STATEMENT\x00"


class _PinnedDatetime(_dt.datetime):
    """A datetime whose ``now``/``today`` return the pinned date."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return PINNED_DATE if tz is None else PINNED_DATE.replace(tzinfo=tz)

    @classmethod
    def today(cls):  # type: ignore[override]
        return PINNED_DATE


@contextlib.contextmanager
def pinned_date() -> Iterator[None]:
    """Within this block, chat templates' ``strftime_now`` sees :data:`PINNED_DATE`."""
    from transformers.utils import chat_template_utils

    with _LOCK:
        saved = chat_template_utils.datetime
        chat_template_utils.datetime = _PinnedDatetime
        try:
            yield
        finally:
            chat_template_utils.datetime = saved


def template_text(tokenizer) -> str | None:
    """The tokenizer's default chat template text, or None if it has none."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named templates: the default one is what apply_chat_template uses
        template = template.get("default")
    return template or None


def template_sha256(template: str | None) -> str:
    """sha256 of the exact template text plus the pinned date (both change the rendered tokens)."""
    if template is None:
        return "none"
    return hashlib.sha256(f"{template}\x1f{PINNED_DATE.isoformat()}".encode()).hexdigest()


def render_user_turn(tokenizer, content: str) -> str:
    """The statement as one user turn through the chat template, no generation prompt, date pinned."""
    with pinned_date():
        try:
            return tokenizer.apply_chat_template(
                [{"role": "user", "content": content}],
                tokenize=False,
                add_generation_prompt=False,
                date_string=PINNED_DATE_STRING,
            )
        except Exception as exc:  # jinja errors of any kind: the template cannot take a plain user turn
            raise ModelError(
                f"the model's chat template cannot render a single user turn ({exc}); "
                "pass --chat-template off to feed raw statements"
            ) from exc


def split_template(tokenizer) -> tuple[str, str]:
    """The (prefix, suffix) text the template puts around any statement.

    Rendered once with a sentinel: raises ModelError if the template alters the content (then the
    statement's own tokens cannot be located).
    """
    rendered = render_user_turn(tokenizer, _SENTINEL)
    if rendered.count(_SENTINEL) != 1:
        raise ModelError(
            "the chat template does not reproduce the user message verbatim; pass --chat-template off"
        )
    prefix, suffix = rendered.split(_SENTINEL)
    return prefix, suffix


_ANSWER_SENTINEL = "\x00TRUTHSTAB_ANSWER\x00"


def split_answer_template(tokenizer, system: str | None = None) -> tuple[str, str]:
    """The (before, between) text a chat template puts around one user turn followed by an assistant turn.

    ``before`` precedes the user message (BOS, the system turn when ``system`` is given); ``between``
    closes the user turn and opens the assistant's, up to where its content starts: a prompt that ends
    with ``between + "The final answer is "`` asks the model to continue the assistant's own words (what
    ``continue_final_message`` renders, without its stripping of a trailing space). Date pinned; raises
    ModelError if the template alters either message.
    """
    messages = [{"role": "user", "content": _SENTINEL}, {"role": "assistant", "content": _ANSWER_SENTINEL}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    with pinned_date():
        try:
            rendered = tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=False, date_string=PINNED_DATE_STRING
            )
        except Exception as exc:  # jinja errors of any kind (e.g. "system role not supported")
            raise ModelError(
                f"the model's chat template cannot render a user turn and an assistant turn ({exc}); "
                "pass --chat-template off to prompt it as a base model"
            ) from exc
    if rendered.count(_SENTINEL) != 1 or rendered.count(_ANSWER_SENTINEL) != 1:
        raise ModelError(
            "the chat template does not reproduce the messages verbatim; pass --chat-template off"
        )
    before, rest = rendered.split(_SENTINEL)
    between = rest.split(_ANSWER_SENTINEL)[0]
    return before, between
