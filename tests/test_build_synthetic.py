"""Synthetic names: a seeded character model, and novelty checks that reject real words and places."""

from __future__ import annotations

import random

import pytest

from truthstab.data.build.synthetic import (
    MarkovNameModel,
    NameGenerator,
    NoveltyChecker,
    ascii_letters,
    length_index,
    prefix_set,
    training_words,
)
from truthstab.errors import DatasetError

CITIES = ["Lyon", "Marseille", "Toulouse", "Bordeaux", "Grenoble", "Montpellier", "Strasbourg", "Nantes"]


@pytest.fixture(scope="module")
def checker() -> NoveltyChecker:
    return NoveltyChecker(places=["Lyon", "Zürich", "Quelmaria"])


def test_training_words_are_ascii_and_sorted() -> None:
    assert training_words(["São Paulo", "Zürich", "Al-Qusayr"]) == ["paulo", "qusayr", "sao", "zurich"]
    assert ascii_letters("Dhangaḍhi") == "dhangadhi"


def test_model_is_seeded_and_uses_only_seen_characters() -> None:
    words = training_words(CITIES)
    model = MarkovNameModel(words)
    a = [model.sample(random.Random(7)) for _ in range(5)]
    b = [model.sample(random.Random(7)) for _ in range(5)]
    assert a == b
    letters = set("".join(words))
    sample = "".join(model.sample(random.Random(i)) for i in range(50))
    assert set(sample) <= letters


def test_checker_rejects_real_words_in_any_language(checker: NoveltyChecker) -> None:
    assert "ja" in checker.languages and "de" in checker.languages
    assert checker.reason("house", {}) == "real_word"
    assert checker.reason("fenster", {}) == "real_word"  # German
    assert checker.reason("ventana", {}) == "real_word"  # Spanish
    assert checker.reason("quelmaria", {}) == "real_place"


def test_checker_rejects_names_one_edit_from_a_real_entity(checker: NoveltyChecker) -> None:
    entities = length_index(["Brovantuska", "Zelvotrinax"])
    assert checker.reason("brovantusko", entities) == "near_real_entity"  # substitution
    assert checker.reason("zelvotrina", entities) == "near_real_entity"  # deletion
    assert checker.reason("xqvbrtmol", entities) is None
    assert checker.reason("zelvoqqqq", entities, prefix_set(["Zelvotrinax"])) == "real_prefix"


def test_generator_keeps_evidence_and_never_repeats(checker: NoveltyChecker) -> None:
    words = training_words(CITIES)
    gen = NameGenerator(
        MarkovNameModel(words, order=2), checker, length_index(CITIES), frozenset(), random.Random(1)
    )
    names = gen.draw(5)
    assert len(set(names)) == 5
    assert all(checker.reason(n, length_index(CITIES)) is None for n in names)
    ev = gen.evidence
    assert ev["accepted"] == 5
    assert ev["candidates"] == 5 + sum(v for k, v in ev.items() if k.startswith("rejected_"))


def test_generator_gives_up_with_a_clear_error(checker: NoveltyChecker) -> None:
    gen = NameGenerator(MarkovNameModel(["abc"]), checker, {}, frozenset(), random.Random(0))
    with pytest.raises(DatasetError, match="new names"):
        gen.draw(3, max_tries=50)
