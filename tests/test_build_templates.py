"""The English surface of statements: articles, country names, negation, glitch detection."""

from __future__ import annotations

import pytest

from truthstab.data.build.templates import country_phrase, glitches, indefinite_article, render


@pytest.mark.parametrize(
    ("phrase", "article"),
    [
        ("apple", "an"),
        ("city", "a"),
        ("university", "a"),
        ("one-way street", "a"),
        ("European city", "a"),
        ("hour", "an"),
        ("honest man", "an"),
        ("umbrella", "an"),
        ("owl", "an"),
        ("hippogriff", "a"),
        ("urban area", "an"),
    ],
)
def test_indefinite_article_follows_the_sound(phrase: str, article: str) -> None:
    assert indefinite_article(phrase) == article


def test_country_names_take_the_article_english_needs() -> None:
    assert country_phrase("Philippines") == "the Philippines"
    assert country_phrase("United Kingdom") == "the United Kingdom"
    assert country_phrase("Netherlands") == "the Netherlands"
    assert country_phrase("France") == "France"
    assert country_phrase("South Korea") == "South Korea"


@pytest.mark.parametrize(
    ("relation", "subject", "obj", "affirmative", "negated"),
    [
        (
            "located_in",
            "Manila",
            "Philippines",
            "The city of Manila is located in the Philippines.",
            "The city of Manila is not located in the Philippines.",
        ),
        (
            "indicated_for",
            "metformin",
            "type 2 diabetes mellitus",
            "Metformin is indicated for the treatment of type 2 diabetes mellitus.",
            "Metformin is not indicated for the treatment of type 2 diabetes mellitus.",
        ),
        ("instance_of", "Vienna", "city", "Vienna is a city.", "Vienna is not a city."),
        ("instance_of", "Hedwig", "owl", "Hedwig is an owl.", "Hedwig is not an owl."),
        ("type_of", "poodle", "dog", "Poodle is a type of dog.", "Poodle is not a type of dog."),
        (
            "synonym_of",
            "automobile",
            "car",
            "Automobile is a synonym of car.",
            "Automobile is not a synonym of car.",
        ),
    ],
)
def test_render_affirmative_and_negated(relation, subject, obj, affirmative, negated) -> None:
    assert render(relation, subject, obj, False) == affirmative
    assert render(relation, subject, obj, True) == negated
    assert glitches(affirmative) == [] and glitches(negated) == []


@pytest.mark.parametrize(
    "bad",
    [
        "The city of Lyon is located in  France.",
        "Vienna is a a city.",
        "Hedwig is a owl.",
        "Paris is an city.",
        "The city of Lyon is located in France..",
        "The city of Lyon is located in France",
        "the city of Lyon is located in France.",
        "The city of Lyon is located in the the Philippines.",
    ],
)
def test_glitches_are_found(bad: str) -> None:
    assert glitches(bad), bad


@pytest.mark.parametrize(
    "clean",
    [
        "Jar Jar Binks is a Gungan.",
        "The city of Agna Qel'a is located in the Northern Water Tribe.",
        "The city of Walla Walla is located in the United States.",
    ],
)
def test_names_are_not_glitches(clean: str) -> None:
    assert glitches(clean) == []
