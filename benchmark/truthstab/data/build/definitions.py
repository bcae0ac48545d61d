"""Definitions domain: instance-of, type-of and synonym-of facts from WordNet 3.0 (nouns).

- instance_of ("Vilnius is a city."): a person or place (names that need no "the") and the first
  lemma of its instance hypernyms;
- type_of ("Poodle is a type of dog."): a common noun and its nearest frequent hypernym;
- synonym_of ("Automobile is a synonym of car."): two lemmas of one synset.

Subjects are frequent (wordfreq Zipf frequency in English) and nearly unambiguous (few WordNet senses).
Correct objects take in *every* sense of the subject word: all lemmas on every hypernym path (instance
and class hypernyms, transitively) and all synonyms, so a false pairing is never true in another
sense. On top of that a false object must come from another WordNet lexicographer category
(noun.person, noun.location, ...) than all of the subject's senses and correct objects: WordNet lists
one or two classes per entity, and a looser pairing in the same category ("Mozart is a pianist") could
still be true in the world.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version

from truthstab.data.build.facts import Fact
from truthstab.data.build.wordnet import open_wordnet
from truthstab.data.schema import Relation

#: Minimum English Zipf frequency of a subject, per relation (proper nouns are rarer in text).
MIN_SUBJECT_ZIPF = {"instance_of": 3.0, "type_of": 3.0, "synonym_of": 3.0}
#: Minimum English Zipf frequency of a stated object.
MIN_OBJECT_ZIPF = 3.0
#: A subject word may have at most this many noun senses (and this many senses in all parts of speech + 1).
MAX_NOUN_SENSES = 2
#: Stated objects at least this deep below WordNet's root (drops 'entity', 'object', 'whole', ...).
MIN_OBJECT_DEPTH = 4
#: How many facts per relation, the most frequent subjects first.
#: A common-noun subject's sense must occur at least this often in SemCor (WordNet's cntlist).
MIN_SENSE_COUNT = 1
#: type_of subjects come from concrete categories, where "X is a type of Y" reads naturally.
TYPE_OF_CATEGORIES = frozenset(
    {"noun.animal", "noun.plant", "noun.artifact", "noun.food", "noun.substance", "noun.object", "noun.body"}
)
FACTS_PER_RELATION = {"instance_of": 650, "type_of": 600, "synonym_of": 600}
SOURCE = "WordNet 3.0"


@dataclass(frozen=True)
class DefinitionsData:
    """The facts of the domain, its object pool, and what the synthetic filter must avoid."""

    facts: list[Fact]
    pool: dict[str, dict[str, frozenset[str]]]
    real_names: list[str]
    parameters: dict


def _name(lemma_name: str) -> str:
    return lemma_name.replace("_", " ")


def _closure(synsets: Iterable) -> set:
    """The synsets and every hypernym (class or instance) above them."""
    seen: set = set()
    stack = list(synsets)
    while stack:
        s = stack.pop()
        if s in seen:
            continue
        seen.add(s)
        stack.extend(s.hypernyms() + s.instance_hypernyms())
    return seen


class _Lexicon:
    """WordNet lookups with the cached frequency of each name."""

    def __init__(self, wn, dominant_sense: bool = False) -> None:
        from wordfreq import zipf_frequency

        self.wn = wn
        #: Every noun synset, in name order (read once: a pass over WordNet takes seconds).
        self.nouns = sorted(wn.all_synsets("n"), key=lambda s: s.name())
        self._zipf = zipf_frequency
        self._cache: dict[str, float] = {}
        #: Release 2.0.0: a fact may rest only on its subject's dominant WordNet sense (``dominant``), so
        #: that "Alexandria is a town" (Louisiana, WordNet's first but uncounted sense) is not stated.
        self.dominant_sense = dominant_sense

    def zipf(self, text: str) -> float:
        if text not in self._cache:
            self._cache[text] = self._zipf(text, "en")
        return self._cache[text]

    def senses(self, word: str) -> tuple[list, int]:
        """(noun senses, senses in all parts of speech) of a word."""
        key = word.replace(" ", "_")
        return self.wn.synsets(key, pos="n"), len(self.wn.synsets(key))

    def correct(self, word: str) -> tuple[tuple[str, ...], frozenset[str]]:
        """All objects true of ``word`` in any sense, and their lexicographer categories."""
        nouns, _ = self.senses(word)
        key = word.replace(" ", "_")
        closure = _closure(nouns)
        names = {_name(lemma.name()) for s in closure for lemma in s.lemmas()}
        names |= {_name(lemma.name()) for s in self.wn.synsets(key) for lemma in s.lemmas()}
        groups = frozenset(s.lexname() for s in closure)
        return tuple(sorted(names - {word})), groups

    def usable(self, word: str, relation: str) -> bool:
        """Frequent, nearly unambiguous, and (for common nouns) one plain word used as a noun."""
        if relation != "instance_of" and not word.isalpha():
            return False
        if not word.replace(" ", "").replace("-", "").replace(".", "").isalpha() or len(word) < 3:
            return False
        nouns, total = self.senses(word)
        if not nouns or len(nouns) > MAX_NOUN_SENSES or total > MAX_NOUN_SENSES + 1:
            return False
        return self.zipf(word) >= MIN_SUBJECT_ZIPF[relation]

    def dominant(self, synset, word: str) -> bool:
        """True unless dominant senses are required and ``synset`` is not ``word``'s dominant sense: its
        only sense, or its first sense with strictly more SemCor occurrences than every other. WordNet
        orders senses without counts arbitrarily (Alexandria's first sense is a town in Louisiana,
        both counted 0), so a word whose senses tie is ambiguous and left out."""
        if not self.dominant_sense:
            return True
        senses = self.wn.synsets(word.replace(" ", "_"))
        if not senses or senses[0] != synset:
            return False

        def count(s) -> int:
            return sum(
                lemma.count() for lemma in s.lemmas() if _name(lemma.name()).casefold() == word.casefold()
            )

        return len(senses) == 1 or count(synset) > max(count(s) for s in senses[1:])

    def used_as_noun(self, synset, word: str) -> bool:
        """True if the SemCor sense counts show this noun sense in use (frequency is not from another POS)."""
        return any(
            lemma.count() >= MIN_SENSE_COUNT for lemma in synset.lemmas() if _name(lemma.name()) == word
        )

    def object_name(self, synset) -> str | None:
        """The stated name of an object synset (its first lemma), if frequent and specific enough."""
        if synset.lexname() == "noun.Tops" or synset.min_depth() < MIN_OBJECT_DEPTH:
            return None
        name = _name(synset.lemmas()[0].name())
        ok = self.zipf(name) >= MIN_OBJECT_ZIPF and name.islower() and len(name) >= 3
        return name if ok else None


#: Instances of these categories only: people and places read right without "the" ("Vienna is a city.").
#: Wars, seas, organisations, buildings and documents need one ("The Ross Sea is a sea.").
INSTANCE_CATEGORIES = frozenset({"noun.person", "noun.location"})
#: Place names with these words usually take "the" ("the West End", "the Low Countries").
_THE_WORDS = frozenset(
    [
        "North",
        "South",
        "East",
        "West",
        "Northern",
        "Southern",
        "Eastern",
        "Western",
        "Central",
        "Upper",
        "Lower",
        "Great",
        "Greater",
        "Low",
        "High",
        "Old",
        "Middle",
        "Far",
        "Near",
        "United",
        "Republic",
        "Kingdom",
        "Empire",
        "Arctic",
        "Antarctic",
        "Holy",
        "Northwest",
        "Northeast",
        "Southwest",
        "Southeast",
        "Pacific",
        "Atlantic",
    ]
)


def _instance_name(synset) -> str | None:
    """The name of an instance, or None if it would need "the" or is not a person or place.

    People get their fullest capitalised lemma ("Matthew Arnold", not "Arnold" or "Kong the Master").
    """
    categories = {h.lexname() for h in synset.instance_hypernyms()}
    if not categories <= INSTANCE_CATEGORIES:
        return None
    names = [_name(lemma.name()) for lemma in synset.lemmas()]
    if "noun.person" in categories:
        proper = [n for n in names if all(w[:1].isupper() for w in n.split())] or names
        return max(proper, key=lambda n: (n.count(" "), -proper.index(n)))
    name = names[0]
    words = name.split()
    if " of " in name or _THE_WORDS & set(words) or (len(words) > 1 and words[-1].endswith("s")):
        return None
    return name


def _instance_facts(lex: _Lexicon) -> list[tuple[float, Fact]]:
    out = []
    for synset in lex.nouns:
        if not synset.instance_hypernyms():
            continue
        subject = _instance_name(synset)
        if not subject or not subject[:1].isupper() or not lex.usable(subject, "instance_of"):
            continue
        if not lex.dominant(synset, subject):
            continue
        objects = sorted({n for h in synset.instance_hypernyms() if (n := lex.object_name(h))})
        if objects:
            correct, groups = lex.correct(subject)
            out.append(
                (lex.zipf(subject), Fact("instance_of", subject, tuple(objects), correct, SOURCE, groups))
            )
    return out


def _type_facts(lex: _Lexicon) -> list[tuple[float, Fact]]:
    out = []
    for synset in lex.nouns:
        if (
            synset.instance_hypernyms()
            or not synset.hypernyms()
            or synset.lexname() not in TYPE_OF_CATEGORIES
        ):
            continue
        subject = _name(synset.lemmas()[0].name())
        if (
            not subject.islower()
            or not lex.usable(subject, "type_of")
            or not lex.used_as_noun(synset, subject)
            or not lex.dominant(synset, subject)
        ):
            continue
        # The nearest hypernym with a frequent, specific name (at most two levels up).
        objects: list[str] = []
        for level in (synset.hypernyms(), [g for h in synset.hypernyms() for g in h.hypernyms()]):
            objects = sorted({n for h in level if (n := lex.object_name(h))})
            if objects:
                break
        objects = [o for o in objects if o not in subject and subject not in o]
        if objects:
            correct, groups = lex.correct(subject)
            out.append((lex.zipf(subject), Fact("type_of", subject, tuple(objects), correct, SOURCE, groups)))
    return out


def _synonym_facts(lex: _Lexicon) -> list[tuple[float, Fact]]:
    out = []
    for synset in lex.nouns:
        if synset.instance_hypernyms() or synset.lexname() == "noun.Tops":
            continue
        names = [_name(lemma.name()) for lemma in synset.lemmas()]
        subject = names[0]
        if (
            not subject.islower()
            or not lex.usable(subject, "synonym_of")
            or not lex.used_as_noun(synset, subject)
            or not lex.dominant(synset, subject)
        ):
            continue
        objects = sorted(
            n
            for n in names[1:]
            if n.islower()
            and n.replace(" ", "").isalpha()
            and n.count(" ") <= 1
            and len(n) >= 3
            and lex.used_as_noun(synset, n)
            and lex.zipf(n) >= MIN_OBJECT_ZIPF
            and n not in subject
            and subject not in n
        )
        if objects:
            correct, groups = lex.correct(subject)
            out.append(
                (lex.zipf(subject), Fact("synonym_of", subject, (objects[0],), correct, SOURCE, groups))
            )
    return out


def _top(scored: list[tuple[float, Fact]], n: int) -> list[Fact]:
    """The ``n`` facts with the most frequent subjects, one fact per subject."""
    seen: set[str] = set()
    kept = []
    for _, fact in sorted(scored, key=lambda sf: (-sf[0], sf[1].subject)):
        if fact.subject.casefold() in seen:
            continue
        seen.add(fact.subject.casefold())
        kept.append(fact)
        if len(kept) == n:
            break
    return kept


def load_definitions(
    wordnet_dir=None, dominant_sense: bool = False, facts_per_relation: dict[str, int] | None = None
) -> DefinitionsData:
    """Read WordNet and return the definitions domain's facts (deterministic: sorted everywhere).

    ``dominant_sense`` and ``facts_per_relation`` are release 2.0.0's settings (1.0.0: off and
    ``FACTS_PER_RELATION``)."""
    wn = open_wordnet(wordnet_dir) if wordnet_dir else open_wordnet()
    lex = _Lexicon(wn, dominant_sense)
    per_relation = facts_per_relation or FACTS_PER_RELATION
    facts: list[Fact] = []
    builders = {"instance_of": _instance_facts, "type_of": _type_facts, "synonym_of": _synonym_facts}
    for relation, builder in builders.items():
        facts += _top(builder(lex), per_relation[relation])
    pool: dict[str, dict[str, frozenset[str]]] = {
        r.value: {} for r in (Relation.INSTANCE_OF, Relation.TYPE_OF, Relation.SYNONYM_OF)
    }
    for fact in facts:
        for obj in fact.objects:
            pool[fact.relation][obj] = _object_group(lex, obj)
    real_names = sorted({_name(n) for n in wn.all_lemma_names()})
    parameters = {
        "wordnet": wn.get_version(),
        "nltk": version("nltk"),
        "wordfreq": version("wordfreq"),
        "min_subject_zipf": MIN_SUBJECT_ZIPF,
        "min_object_zipf": MIN_OBJECT_ZIPF,
        "max_noun_senses": MAX_NOUN_SENSES,
        "min_object_depth": MIN_OBJECT_DEPTH,
        "facts_per_relation": per_relation,
        **({"dominant_sense_only": True} if dominant_sense else {}),
    }
    return DefinitionsData(facts, pool, real_names, parameters)


def _object_group(lex: _Lexicon, obj: str) -> frozenset[str]:
    """The lexicographer categories of every noun sense of an object."""
    nouns, _ = lex.senses(obj)
    return frozenset(s.lexname() for s in nouns)
