"""Release 2.0.0's synthetic names: shaped like real names, and the filter rejects the issue's examples.

The checker is built as the build builds it (wordfreq's 42 languages, WordNet's lemmas, GeoNames and
ISO places), once per module; each domain's real entities come from its real sources.
"""

from __future__ import annotations

import random

import pytest

from truthstab.data.build import names
from truthstab.data.build.cities import load_cities
from truthstab.data.build.medicine import load_medicine
from truthstab.data.build.synthetic import real_places, training_words
from truthstab.data.build.wordnet import DEBIAN_WORDNET_DIR, open_wordnet


@pytest.fixture(scope="module")
def lemmas() -> list[str]:
    if not (DEBIAN_WORDNET_DIR / "data.noun").is_file():
        pytest.skip("WordNet 3.0 is not installed: sudo apt-get install wordnet-base wordnet-sense-index")
    return sorted(n.replace("_", " ") for n in open_wordnet().all_lemma_names())


@pytest.fixture(scope="module")
def checker(lemmas: list[str]) -> names.NameChecker:
    return names.NameChecker(real_places(), names.common_words(lemmas))


@pytest.fixture(scope="module")
def entities(lemmas: list[str]) -> dict[str, names.EntityIndex]:
    cities, medicine = load_cities(), load_medicine()
    return {
        "cities": names.EntityIndex.of(cities.real_names + [f.subject for f in cities.facts]),
        "medicine": names.EntityIndex.of(medicine.real_names),
        "definitions": names.EntityIndex.of(lemmas),
    }


def _reason(checker: names.NameChecker, entities: names.EntityIndex, name: str) -> str | None:
    """The first reason a name fails, word checks first, as the generator applies them."""
    for word in name.lower().split():
        reason = checker.word_reason(word, frozenset())
        if reason:
            return reason
    return checker.name_reason(name, entities)


@pytest.mark.parametrize(
    ("domain", "name", "reason"),
    [
        ("medicine", "Borole", "chemical_name"),  # a boron heterocycle (Hantzsch-Widman name)
        ("medicine", "Safil", "near_real_word"),  # Turkish "sahil", Zipf 4.5
        ("medicine", "angitis", "near_real_word"),  # WordNet "angiitis"
        ("definitions", "Pennation", "contains_real_entity"),  # holds the WordNet lemma "nation"
        ("cities", "Rocanberra", "contains_real_entity"),  # Canberra
        ("cities", "Coasomalia", "contains_real_entity"),  # Somalia
        ("cities", "Dublindo", "contains_real_entity"),  # Dublin
        ("cities", "benglasgow", "contains_real_entity"),  # Glasgow
        ("medicine", "avelagolix", "contains_real_entity"),  # elagolix
    ],
)
def test_filter_rejects_the_issues_examples(checker, entities, domain: str, name: str, reason: str) -> None:
    assert _reason(checker, entities[domain], name) is not None
    if reason == "contains_real_entity":  # the whole-name check, whatever the word checks say first
        assert checker.name_reason(name, entities[domain]) == reason
    else:
        assert checker.word_reason(name.lower(), frozenset()) == reason


def test_filter_keeps_invented_names(checker, entities) -> None:
    assert _reason(checker, entities["cities"], "Brovantu") is None
    assert checker.word_reason("house", frozenset()) == "real_word"
    assert checker.word_reason("fenster", frozenset()) == "real_word"  # German


def test_shapes_keep_function_words_and_lengths() -> None:
    shape = names.shape_of("Democratic Republic of the Congo")
    assert [p.text or p.length for p in shape] == [10, 8, "of", "the", 5]
    assert [p.case for p in shape if not p.text] == ["title", "title", "title"]
    assert [p.joiner for p in names.shape_of("Guinea-Bissau")] == ["", "-"]


def test_generator_copies_the_template_shapes_and_is_seeded(checker, entities) -> None:
    words = training_words(
        ["Lyon", "Marseille", "Toulouse", "Bordeaux", "Grenoble", "Montpellier", "Strasbourg"] * 1
    )
    model = names.ShapedMarkovModel(words + training_words(load_cities().real_names[:3000]))

    def draw(seed: int) -> list[str]:
        gen = names.ShapedNameGenerator(model, checker, entities["cities"], frozenset(), random.Random(seed))
        return gen.draw(["Puerto Vallarta", "Marseille", "Rio de Janeiro"])

    first = draw(3)
    assert first == draw(3)
    assert [len(w) for w in first[0].split()] == [6, 8] and first[2].split()[1] == "de"
    assert all(_reason(checker, entities["cities"], n) is None or " " in n for n in first)
