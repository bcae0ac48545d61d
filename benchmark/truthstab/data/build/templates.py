"""The English surface of every statement: templates, articles and negation.

One function renders a (relation, subject, object, negated) tuple into a sentence, so every domain
and every kind (true, false, synthetic, fictional) uses exactly the same wording.
"""

from __future__ import annotations

import re

from truthstab.data.schema import Relation

#: Country names (as stored in the ``object`` column) that English uses with "the".
COUNTRIES_WITH_THE: frozenset[str] = frozenset(
    {
        "Bahamas",
        "Central African Republic",
        "Comoros",
        "Czech Republic",
        "Democratic Republic of the Congo",
        "Dominican Republic",
        "Gambia",
        "Maldives",
        "Marshall Islands",
        "Netherlands",
        "Philippines",
        "Republic of the Congo",
        "Seychelles",
        "Solomon Islands",
        "United Arab Emirates",
        "United Kingdom",
        "United States",
    }
)

# Words that start with a vowel letter but a consonant sound ("a university", "a one-way street"), and
# words that start with a silent h ("an hour"). Prefixes, matched on the lower-cased word.
_CONSONANT_SOUND_PREFIXES: tuple[str, ...] = (
    "uni",
    "use",
    "usu",
    "uti",
    "ute",
    "uri",
    "uro",
    "ura",
    "eu",
    "ewe",
    "one",
    "once",
    "ouija",
    "ubiq",
    "uku",
)
_SILENT_H_PREFIXES: tuple[str, ...] = ("hour", "honest", "honor", "honour", "heir")
# Single letters and acronyms said letter by letter would need more rules; none occur in our objects.


def indefinite_article(phrase: str) -> str:
    """'a' or 'an' for a noun phrase, by the sound of its first word (a unicorn, an hour, an apple)."""
    word = phrase.strip().split(" ")[0].lower()
    if not word:
        raise ValueError("empty noun phrase has no article")
    if word.startswith(_SILENT_H_PREFIXES):
        return "an"
    if word.startswith(_CONSONANT_SOUND_PREFIXES):
        return "a"
    return "an" if word[0] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """The phrase preceded by its indefinite article: 'an apple', 'a city'."""
    return f"{indefinite_article(phrase)} {phrase}"


def country_phrase(name: str) -> str:
    """A country name as it reads inside a sentence: 'the Philippines', 'France'."""
    return f"the {name}" if name in COUNTRIES_WITH_THE else name


def capitalize_first(text: str) -> str:
    """Upper-case the first character only ('aspirin' -> 'Aspirin', 'de Gaulle' -> 'De Gaulle')."""
    return text[:1].upper() + text[1:]


def render(relation: str, subject: str, obj: str, negated: bool) -> str:
    """The sentence for one pairing, affirmative or negated."""
    is_ = "is not" if negated else "is"
    rel = Relation(relation)
    if rel is Relation.LOCATED_IN:
        return f"The city of {subject} {is_} located in {country_phrase(obj)}."
    if rel is Relation.INDICATED_FOR:
        return f"{capitalize_first(subject)} {is_} indicated for the treatment of {obj}."
    if rel is Relation.INSTANCE_OF:
        return f"{capitalize_first(subject)} {is_} {with_article(obj)}."
    if rel is Relation.TYPE_OF:
        return f"{capitalize_first(subject)} {is_} a type of {obj}."
    if rel is Relation.SYNONYM_OF:
        return f"{capitalize_first(subject)} {is_} a synonym of {obj}."
    raise ValueError(f"no template for relation {relation!r}")  # pragma: no cover - Relation is closed


_GLITCHES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("double space", re.compile(r"  ")),
    ("space before punctuation", re.compile(r" [.,;:]")),
    ("double full stop", re.compile(r"\.\.$")),
    ("repeated article", re.compile(r"\b(a|an|the) (a|an|the)\b", re.IGNORECASE)),
    # Lower-case only: names repeat words on purpose ("Jar Jar Binks", "Walla Walla").
    ("repeated word", re.compile(r"\b([a-z]+) \1\b")),
    ("leading or trailing space", re.compile(r"^\s|\s$")),
    ("no final full stop", re.compile(r"[^.]$")),
    ("lower-case start", re.compile(r"^[a-z]")),
)


def glitches(statement: str) -> list[str]:
    """Names of the template glitches found in a statement (empty when it is clean).

    Article agreement is checked too: an 'a'/'an' must match the sound of the word after it.
    """
    found = [name for name, pattern in _GLITCHES if pattern.search(statement)]
    # An article is a whole word: not the "a" of "Qel'a" or "d'a".
    for match in re.finditer(r"(?<![\w'’-])(a|an) ([A-Za-z][\w'-]*)", statement):
        article, word = match.group(1), match.group(2)
        expected = indefinite_article(word)
        if article.lower() != expected:
            found.append(f"'{article} {word}' should be '{expected} {word}'")
    return found
