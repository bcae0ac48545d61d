"""Facts, pairings and statement rows: the shape every domain generator hands to the pipeline.

A *fact* is what a source says about one subject under one relation: the objects we state, and every
object that would make the pairing true (so that a false pairing is never true in another sense). A
*pairing* is one (subject, object) chosen for a statement, true or false; each pairing becomes two
statements, affirmative and negated, so every pairing adds one true and one false statement (or, for
fiction, one in-fiction true and one in-fiction false): the kinds are balanced by construction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from truthstab.data.build.templates import render
from truthstab.data.schema import Familiarity, Kind, Truth, statement_id


def entity_key(name: str) -> str:
    """The identity of an entity across relations and splits: case-insensitive, trimmed."""
    return " ".join(name.casefold().split())


@dataclass(frozen=True)
class Fact:
    """One subject under one relation, as a source states it."""

    relation: str
    subject: str
    #: Objects stated as true pairings (a subset of ``correct_objects``).
    objects: tuple[str, ...]
    #: Every object that makes the pairing true, in any sense; false pairings avoid all of them.
    correct_objects: tuple[str, ...]
    source: str
    #: Groups of the correct objects: a false object must come from another group (used where a
    #: looser pairing could be true in the real world, e.g. WordNet categories).
    groups: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Pairing:
    """One (subject, object) pairing that becomes an affirmative and a negated statement."""

    relation: str
    subject: str
    object: str
    correct_objects: tuple[str, ...]
    is_true: bool
    source: str
    split: str


def make_pairings(
    facts: list[Fact],
    entity_split: dict[str, str],
    pool: dict[str, dict[str, frozenset[str]]],
    rng: random.Random,
    extra: int = 0,
) -> list[Pairing]:
    """True pairings that stay inside their subject's split, and false pairings from the same split.

    ``pool`` maps relation -> {object: groups} of the objects a false pairing may use; a false object
    must be in the subject's split, must not be a correct object (compared by ``entity_key``), and
    none of its groups may be one of the fact's ``groups``. Each fact gets one false pairing per true
    one (fewer if the split has too few candidates), and ``extra`` facts, drawn at random, one more.
    """
    by_split: dict[tuple[str, str], list[tuple[str, frozenset[str]]]] = {}
    for relation in sorted(pool):
        for obj in sorted(pool[relation]):
            split = entity_split.get(entity_key(obj))
            if split is not None:
                by_split.setdefault((relation, split), []).append((obj, pool[relation][obj]))
    ordered = sorted(facts, key=lambda f: (f.relation, f.subject))
    bonus = set(rng.sample(range(len(ordered)), min(extra, len(ordered)))) if extra else set()
    out: list[Pairing] = []
    for index, fact in enumerate(ordered):
        split = entity_split.get(entity_key(fact.subject))
        if split is None:
            continue
        trues = [o for o in fact.objects if entity_split.get(entity_key(o)) == split]
        if not trues:
            continue
        correct = tuple(sorted(set(fact.correct_objects)))
        blocked = {entity_key(o) for o in correct} | {entity_key(fact.subject)}
        candidates = [
            o
            for o, groups in by_split.get((fact.relation, split), [])
            if entity_key(o) not in blocked and not (groups & fact.groups)
        ]
        n_false = min(len(trues) + (index in bonus), len(candidates))
        falses = rng.sample(candidates, n_false)
        for obj, is_true in [(o, True) for o in trues] + [(o, False) for o in sorted(falses)]:
            out.append(Pairing(fact.relation, fact.subject, obj, correct, is_true, fact.source, split))
    return out


def statement_rows(domain: str, pairing: Pairing, kind_mode: str) -> list[dict]:
    """The affirmative and negated rows of one pairing.

    ``kind_mode`` is 'real' (kind and truth true/false), 'synthetic' (truth neither, unfamiliar) or
    'fictional' (truth neither, familiar, fiction_truth true/false). For all three, a statement is
    'true' when its pairing is true and it is affirmative, or its pairing is false and it is negated.
    """
    rows = []
    for negated in (False, True):
        holds = pairing.is_true != negated
        word = Truth.TRUE.value if holds else Truth.FALSE.value
        if kind_mode == "real":
            kind, truth, fiction, familiarity = word, word, "", Familiarity.REAL.value
        elif kind_mode == "synthetic":
            kind, truth, fiction = Kind.SYNTHETIC.value, Truth.NEITHER.value, ""
            familiarity = Familiarity.UNFAMILIAR.value
        elif kind_mode == "fictional":
            kind, truth, fiction = Kind.FICTIONAL.value, Truth.NEITHER.value, word
            familiarity = Familiarity.FAMILIAR.value
        else:
            raise ValueError(f"unknown kind_mode {kind_mode!r}")
        text = render(pairing.relation, pairing.subject, pairing.object, negated)
        rows.append(
            {
                "id": statement_id(domain, pairing.relation, text),
                "domain": domain,
                "relation": pairing.relation,
                "statement": text,
                "subject": pairing.subject,
                "object": pairing.object,
                "correct_objects": list(pairing.correct_objects),
                "negated": negated,
                "kind": kind,
                "truth": truth,
                "fiction_truth": fiction,
                "familiarity": familiarity,
                "split": pairing.split,
                "source": pairing.source,
            }
        )
    return rows
