"""Invented names for release 2.0.0's synthetic statements: shaped like the real names, checked harder.

Release 1.0.0 drew single words of 5-11 letters, so a statement's length alone told synthetic from
real (a drug indication is often three or four words long). Here every invented name copies the
*shape* of a real name of the same domain, role and relation, drawn with the seeded generator: the
same number of words, each generated word as long as the real word it replaces, the same capitals,
and the real name's function words ("of", "the", "and") and very short tokens ("A" in "hemophilia
A") kept verbatim. So the invented names follow the real names' distribution of words and
characters.

Each generated word (3+ letters) is rejected, and the reason counted, when it is

- ``real_word``: a word of any of wordfreq's languages (its frequency table holds it, which is
  wordfreq's ``zipf_frequency > 0`` without the tokenisers that Chinese and Japanese would need); a
  word of four letters in a name of several words only when it is common (Zipf >= 3);
- ``near_real_word`` (5+ letters): one edit (insertion, deletion, substitution) from a common word
  (Zipf frequency >= ``NEAR_WORD_MIN_ZIPF`` in any wordfreq language) or a WordNet 3.0 lemma: it reads
  as a misspelling of that word ("safil" of Turkish "sahil", "angitis" of "angiitis");
- ``chemical_name``: an IUPAC ring name (Hantzsch-Widman: heteroatom prefixes and a ring-size stem,
  "borole", "oxazine") or a plain hydrocarbon name ("hexene");
- ``real_prefix`` (5+ letters): its first five letters begin a real name of the domain;

and each whole name when it is

- ``real_place``: a GeoNames or ISO 3166 place name;
- ``near_real_entity``: a real entity of the domain, or (5+ letters) one edit from one;
- ``contains_real_entity``: it contains a real entity name of the domain of 5+ letters, ignoring case
  and accents ("Rocanberra" holds "Canberra", "avelagolix" holds "elagolix", a definitions name
  holding any WordNet lemma);
- ``duplicate``: already drawn, or a generated word already used by another name or a training word.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from truthstab.data.build.synthetic import (
    _END,
    PREFIX_LEN,
    MarkovNameModel,
    ascii_letters,
)
from truthstab.data.build.synthetic import (
    _START as _START_CONTEXT,
)
from truthstab.errors import DatasetError

#: Tokens of a real name kept as they are: English and Romance function words of place and disease
#: names. Generating them would make "Bosnia and Herzegovina" three invented words.
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "at",
        "by",
        "de",
        "del",
        "della",
        "der",
        "des",
        "di",
        "do",
        "dos",
        "du",
        "el",
        "for",
        "in",
        "la",
        "le",
        "les",
        "of",
        "on",
        "or",
        "the",
        "to",
        "upon",
        "van",
        "von",
        "with",
        "y",
    ]
)
#: Tokens this short (letters) are kept verbatim too ("A" in "hemophilia A", "San" in "San José"): an
#: invented word of three letters is a word of some language almost always.
KEEP_AT_MOST = 3
#: Generated words from this length on get the near-word and prefix checks: shorter strings are one
#: edit from some common word in 42 languages almost always.
NEAR_CHECK_MIN_LEN = 5
#: A word is "common" when its Zipf frequency reaches 3 (once per million words) in some language:
#: frequent enough that a model has seen it often, so a one-letter variant reads as that word. At 2
#: the list grows to 1.5 million words and rejects most short names; at 4 it misses "safil"/"sahil"
#: (Turkish, Zipf 4.5) no longer, but lets through variants of words met every few pages.
NEAR_WORD_MIN_ZIPF = 3.0
#: Real entity names at least this long count for ``contains_real_entity``.
CONTAINED_MIN_LEN = 5
#: Tries per word before the name is given up.
WORD_TRIES = 60

_HETERO = r"(?:ox|thi|az|bor|phosph|ars|stib|bism|sil|germ|stann|plumb|selen|tellur)a?"
_RING = r"(?:irine|irene|iridine|irane|ete|etine|etane|etidine|ole|olane|olidine|ine|inane|epine|epane|ocine|ocane|onine|onane|ecine|ecane)"
_ALKYL = r"(?:meth|eth|prop|but|pent|hex|hept|oct|non|dec|undec|dodec)"
CHEMICAL = re.compile(
    rf"^(?:(?:di|tri|tetra)?(?:{_HETERO}){{1,3}}{_RING}|{_ALKYL}(?:ane|ene|yne|anol|anal|anone|yl|ol|adiene))$"
)


#: Below this many training words the model is of order 2, not 3: an order-3 model of the ~420 words
#: of the medicine indications mostly gives back their words, and 2.0.0's checks reject those.
MIN_WORDS_FOR_ORDER_3 = 1000


class ShapedMarkovModel(MarkovNameModel):
    """The character model of ``synthetic``, sampled at an exact length."""

    def __init__(self, words: Iterable[str]) -> None:
        words = list(words)
        super().__init__(words, order=3 if len(words) >= MIN_WORDS_FOR_ORDER_3 else 2)

    def sample_exact(self, rng: random.Random, length: int) -> str | None:
        """A word of exactly ``length`` letters: the model's next-letter choices without its end
        symbol until ``length``, kept only where the model could end a word there (so endings stay
        natural); None when a draw runs into a dead end."""
        context = _START_CONTEXT * self.order
        out: list[str] = []
        while len(out) < length:
            chars, weights = self._table[context]
            options = [(c, w) for c, w in zip(chars, weights, strict=True) if c != _END]
            if not options:
                return None
            ch = rng.choices([c for c, _ in options], [w for _, w in options])[0]
            out.append(ch)
            context = context[1:] + ch
        return "".join(out) if _END in self._table.get(context, ((), ()))[0] else None


@dataclass(frozen=True)
class Part:
    """One token of a name's shape: kept text, or a word to generate of ``length`` letters."""

    text: str = ""  # kept verbatim when set
    length: int = 0
    case: str = "lower"  # lower, title or upper
    joiner: str = " "  # what precedes the token ("" for the first, "-" inside a hyphenated word)


def shape_of(name: str) -> tuple[Part, ...]:
    """The shape of a real name: its tokens, split on spaces and hyphens."""
    parts: list[Part] = []
    for w_index, word in enumerate(name.split()):
        for p_index, piece in enumerate(word.split("-")):
            joiner = "" if w_index == p_index == 0 else ("-" if p_index else " ")
            letters = ascii_letters(piece)
            if piece.casefold() in FUNCTION_WORDS or len(letters) <= KEEP_AT_MOST:
                parts.append(Part(text=piece, joiner=joiner))  # "of", "A", "19"
                continue
            case = "upper" if piece.isupper() else "title" if piece[0].isupper() else "lower"
            parts.append(Part(length=len(letters), case=case, joiner=joiner))
    return tuple(parts)


def _cased(word: str, case: str) -> str:
    return word.upper() if case == "upper" else word.capitalize() if case == "title" else word


def one_edit_variants(word: str) -> set[str]:
    """Every string one insertion, deletion or substitution (ASCII letters) away from ``word``."""
    out: set[str] = set()
    for i in range(len(word) + 1):
        for ch in string.ascii_lowercase:
            out.add(word[:i] + ch + word[i:])
            if i < len(word):
                out.add(word[:i] + ch + word[i + 1 :])
        if i < len(word):
            out.add(word[:i] + word[i + 1 :])
    out.discard(word)
    return out


def _folded(name: str) -> str:
    """Case-folded ASCII letters and single spaces: the form every name check compares."""
    return " ".join(w for w in (ascii_letters(p) for p in name.replace("-", " ").split()) if w)


def common_words(extra: Iterable[str] = ()) -> frozenset[str]:
    """ASCII words of 4+ letters with Zipf frequency >= ``NEAR_WORD_MIN_ZIPF`` in some wordfreq
    language, and the single words of ``extra`` (WordNet's lemmas), for the ``near_real_word`` check."""
    import wordfreq

    least = 10 ** (NEAR_WORD_MIN_ZIPF - 9)  # Zipf = log10(frequency per billion words)
    words: set[str] = set()
    for lang in sorted(wordfreq.available_languages()):
        for word, freq in wordfreq.get_frequency_dict(lang).items():
            if freq >= least and len(folded := ascii_letters(word)) >= 4:
                words.add(folded)
    words |= {w for w in (ascii_letters(e) for e in extra if " " not in e.strip()) if len(w) >= 4}
    return frozenset(words)


@dataclass(frozen=True)
class EntityIndex:
    """A domain's real entity names in the two forms the name checks compare."""

    names: frozenset[str]  # folded forms, for one-edit neighbours
    contained: frozenset[str]  # folded forms of 5+ letters, for substrings
    longest: int

    @classmethod
    def of(cls, entities: Iterable[str]) -> EntityIndex:
        names = frozenset(f for f in (_folded(e) for e in entities) if f)
        contained = frozenset(n for n in names if len(n.replace(" ", "")) >= CONTAINED_MIN_LEN)
        return cls(names, contained, max((len(n) for n in contained), default=0))


class NameChecker:
    """Says why an invented word or name is not new (or None if it is): see the module docstring."""

    def __init__(self, places: Iterable[str], common: frozenset[str]) -> None:
        import wordfreq

        self.languages = sorted(wordfreq.available_languages())
        self._tables = [wordfreq.get_frequency_dict(lang) for lang in self.languages]
        self._places = frozenset(f for f in (_folded(p) for p in places) if f)
        self._common = common

    def word_reason(self, word: str, prefixes: frozenset[str], strict: bool = True) -> str | None:
        """The first failed word check of a generated lower-case word. Not ``strict`` (a word of four
        letters inside a longer name): only a common word counts as a real one, since nearly every
        four-letter string is a rare word of one of 42 languages, and the whole name is checked too."""
        if (word in self._common) if not strict else any(word in table for table in self._tables):
            return "real_word"
        if len(word) >= 4 and word in self._places:
            return "real_place"
        if CHEMICAL.match(word):
            return "chemical_name"
        if len(word) >= NEAR_CHECK_MIN_LEN:
            if not self._common.isdisjoint(one_edit_variants(word)):
                return "near_real_word"
            if word[:PREFIX_LEN] in prefixes:
                return "real_prefix"
        return None

    def name_reason(self, name: str, entities: EntityIndex) -> str | None:
        """The first failed whole-name check."""
        key = _folded(name)
        if key in self._places:
            return "real_place"
        if key in entities.names:
            return "near_real_entity"
        # Short names are one edit from some place of a gazetteer almost always (as short words are
        # from some word): they get the exact checks only, like short generated words.
        if len(key.replace(" ", "")) >= NEAR_CHECK_MIN_LEN and not entities.names.isdisjoint(
            one_edit_variants(key)
        ):
            return "near_real_entity"
        for i in range(len(key)):
            for j in range(i + CONTAINED_MIN_LEN, min(len(key), i + entities.longest) + 1):
                if key[i:j] in entities.contained:
                    return "contains_real_entity"
        return None


@dataclass
class ShapedNameGenerator:
    """Draws one invented name per real template name, keeping the rejection evidence."""

    model: ShapedMarkovModel
    checker: NameChecker
    entities: EntityIndex
    prefixes: frozenset[str]
    rng: random.Random
    taken: set[str] = field(default_factory=set)
    evidence: Counter[str] = field(default_factory=Counter)

    def draw(
        self,
        templates: list[str],
        pool: list[str] | None = None,
        tries_per_name: int = 30,
        replacements: int = 40,
    ) -> list[str]:
        """A new name shaped like each template, in order.

        Short names are scarce (nearly every word of four or five letters is a word of some language,
        or one edit from one), so a template that no new name fits in ``tries_per_name`` tries is
        replaced by another with as many words (``templates_replaced``), and the characters the names
        gain that way are paid back by later templates swapped for shorter ones with as many words
        (``templates_shortened``): the names keep the templates' mean length in words and characters.
        Replacements come from ``pool`` (default: the templates), e.g. every real name the templates
        were drawn from. ``replacements`` failures in a row are a DatasetError."""
        pool = pool or templates
        out = []
        debt = 0  # characters the accepted names are longer than their original templates
        for original in templates:
            template = self._shorter(original, debt, pool) if debt > 0 else original
            for _ in range(replacements):
                name = self._first(shape_of(template), tries_per_name)
                if name is not None:
                    out.append(name)
                    debt += len(name) - len(original)
                    break
                self.evidence["templates_replaced"] += 1
                template = self._alike(template, pool)
            else:
                raise DatasetError(
                    f"no new synthetic name shaped like {original!r} or {replacements} other templates: "
                    "train the name model on more words or relax the checks in truthstab.data.build.names"
                )
        return out

    def _alike(self, template: str, templates: list[str]) -> str:
        """Another template with as many words (any template if there is none)."""
        words = len(template.split())
        same = [t for t in templates if len(t.split()) == words and t != template]
        return self.rng.choice(same or templates)

    def _shorter(self, template: str, debt: int, templates: list[str]) -> str:
        """A template with as many words, shorter by at most ``debt`` characters (the template itself
        when there is none)."""
        words = len(template.split())
        fits = sorted(
            {
                t
                for t in templates
                if len(t.split()) == words and len(template) - debt <= len(t) < len(template)
            }
        )
        if not fits:
            return template
        self.evidence["templates_shortened"] += 1
        return self.rng.choice(fits)

    def _first(self, shape: tuple[Part, ...], tries: int) -> str | None:
        for _ in range(tries):
            name = self._name(shape)
            if name is not None:
                return name
        return None

    def _name(self, shape: tuple[Part, ...]) -> str | None:
        """One candidate name of ``shape`` (None: a word or the name failed a check)."""
        words: list[str] = []
        text = ""
        for part in shape:
            if part.text:
                text += part.joiner + part.text
                continue
            word = self._word(part.length, words, strict=part.length >= NEAR_CHECK_MIN_LEN or len(shape) == 1)
            if word is None:
                return None
            words.append(word)
            text += part.joiner + _cased(word, part.case)
        self.evidence["candidates"] += 1
        key = _folded(text)
        reason = "duplicate" if key in self.taken else self.checker.name_reason(text, self.entities)
        if reason:
            self.evidence[f"rejected_{reason}"] += 1
            return None
        self.taken |= {key, *words}
        self.evidence["accepted"] += 1
        return text

    def _word(self, length: int, siblings: list[str], strict: bool = True) -> str | None:
        """A generated word of exactly ``length`` letters that passes the word checks and is unused."""
        for _ in range(WORD_TRIES):
            word = self.model.sample_exact(self.rng, length)
            if word is None:
                continue
            self.evidence["candidate_words"] += 1
            reason = (
                "duplicate"
                if word in self.taken or word in siblings
                else self.checker.word_reason(word, self.prefixes, strict)
            )
            if reason is None:
                return word
            self.evidence[f"rejected_word_{reason}"] += 1
        return None
