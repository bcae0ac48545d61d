"""Scoring the answer: next-token probabilities of the option letters (method.md §9).

Each option's probability is the sum over its letter's token forms, "a" and " a" (a tokenizer may or may
not fold the space into the letter). A form that encodes to several tokens contributes all of them, and an
id that appears under more than one option (a bare "▁" piece, say) is removed from all: what is left
identifies one option only. The answer is the option with the largest probability (ties: the earlier
letter). The mass outside the option tokens is recorded, so a model that does not answer with a letter is
visible rather than silently scored.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from truthstab.errors import ModelError

#: Option letters, in the prompt's order: a = true, b = false, c = neither.
LETTERS: tuple[str, ...] = ("a", "b", "c")


def option_token_ids(tokenizer) -> dict[str, list[int]]:
    """The token ids that stand for each option letter ("a" and " a" forms), none shared between options.

    Raises ModelError if an option is left without an id of its own.
    """
    forms = {
        letter: {
            i for form in (letter, f" {letter}") for i in tokenizer.encode(form, add_special_tokens=False)
        }
        for letter in LETTERS
    }
    counts = Counter(i for ids in forms.values() for i in ids)
    own = {letter: sorted(i for i in ids if counts[i] == 1) for letter, ids in forms.items()}
    empty = [letter for letter, ids in own.items() if not ids]
    if empty:
        raise ModelError(
            f"the tokenizer encodes option letter(s) {', '.join(empty)} only to tokens shared with another "
            f"option ({ {k: sorted(v) for k, v in forms.items()} }), so its answer cannot be read: "
            "the behavioural track needs a tokenizer with distinct tokens for a, b and c"
        )
    return own


def option_probabilities(logits: torch.Tensor, option_ids: dict[str, list[int]]) -> np.ndarray:
    """(N, 4) float64 array: P(a), P(b), P(c) and the mass outside them, from (N, vocab) next-token logits."""
    probs = torch.softmax(logits.float(), dim=-1)
    per_option = torch.stack([probs[:, option_ids[letter]].sum(-1) for letter in LETTERS], dim=1)
    outside = (1.0 - per_option.sum(-1, keepdim=True)).clamp(min=0.0)
    return torch.cat([per_option, outside], dim=1).double().cpu().numpy()


def answers_from(probabilities: np.ndarray) -> np.ndarray:
    """The chosen letter per row of an (N, >=3) probability array (argmax over a, b, c; ties: earlier)."""
    return np.asarray(LETTERS, dtype=object)[np.argmax(probabilities[:, :3], axis=1)]
