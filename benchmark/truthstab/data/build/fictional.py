"""Fictional ("familiar neither") statements from the curated tables of well-known fiction.

Each table row is one in-fiction fact (subject, object, universe, work, medium). Per fact we state the
affirmative (in-fiction true) and negated (in-fiction false) form, and per fact one in-fiction false
pairing with another object of the same universe and relation (affirmative false, negated true), so
the statements are balanced by ``fiction_truth``. The correct objects of a subject are the transitive
closure of the table inside its universe (Hobbiton is in the Shire, the Shire is in Eriador, so
"Hobbiton is located in Eriador" is never used as a false pairing); synonyms count both ways.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from truthstab.data.build.facts import Pairing, entity_key, statement_rows
from truthstab.data.build.medicine import SOURCES_DIR, read_table
from truthstab.data.build.splits import random_split
from truthstab.data.schema import Relation
from truthstab.fileio import sha256_file

PAIR_COLUMNS = ("subject", "object", "universe", "work", "medium")
TABLES: dict[str, tuple[str, str | None]] = {
    # domain -> (file, fixed relation or None when the table has a relation column)
    "cities": ("fictional_cities.csv", Relation.LOCATED_IN.value),
    "medicine": ("fictional_medicine.csv", Relation.INDICATED_FOR.value),
    "definitions": ("fictional_definitions.csv", None),
}


@dataclass(frozen=True)
class FictionalRow:
    relation: str
    subject: str
    object: str
    universe: str
    work: str
    medium: str


def read_fiction(domain: str, sources_dir: Path = SOURCES_DIR) -> tuple[list[FictionalRow], str]:
    """The rows of a domain's fiction table and the table's sha256."""
    name, relation = TABLES[domain]
    columns = PAIR_COLUMNS if relation else ("relation", *PAIR_COLUMNS)
    path = sources_dir / name
    rows = [
        FictionalRow(
            relation or r["relation"], r["subject"], r["object"], r["universe"], r["work"], r["medium"]
        )
        for r in read_table(path, columns)
    ]
    return rows, sha256_file(path)


def _closure(rows: list[FictionalRow]) -> dict[tuple[str, str, str], set[str]]:
    """(universe, relation family, subject key) -> keys of every object true of it in the fiction."""
    edges: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        # instance_of and type_of chain ("X is a Y", "Y is a type of Z" -> X is a Z): one family.
        family = "isa" if row.relation in ("instance_of", "type_of") else row.relation
        graph = edges[(row.universe, family)]
        graph[entity_key(row.subject)].add(entity_key(row.object))
        if row.relation == Relation.SYNONYM_OF.value:
            graph[entity_key(row.object)].add(entity_key(row.subject))
    out: dict[tuple[str, str, str], set[str]] = {}
    for (universe, family), graph in edges.items():
        for start in graph:
            seen: set[str] = set()
            stack = list(graph[start])
            while stack:
                node = stack.pop()
                if node not in seen:
                    seen.add(node)
                    stack.extend(graph.get(node, ()))
            out[(universe, family, start)] = seen - {start}
    return out


def _family(relation: str) -> str:
    return "isa" if relation in ("instance_of", "type_of") else relation


def fictional_rows(domain: str, rows: list[FictionalRow], seed: int, false_per_fact: int = 1) -> list[dict]:
    """Statement rows (split assigned) for a domain's fiction table, ``false_per_fact`` in-fiction false
    pairings per fact (fewer where the universe has too few other objects)."""
    rng = random.Random(seed)
    closure = _closure(rows)
    objects_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    correct_names: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row.object not in objects_of[(row.universe, row.relation)]:
            objects_of[(row.universe, row.relation)].append(row.object)
        correct_names[(row.universe, row.relation, row.subject)].add(row.object)
    pairings: list[Pairing] = []
    for row in sorted(set(rows), key=lambda r: (r.universe, r.relation, r.subject, r.object)):
        true_keys = closure.get((row.universe, _family(row.relation), entity_key(row.subject)), set())
        correct = tuple(sorted(correct_names[(row.universe, row.relation, row.subject)]))
        source = f"{row.work} ({row.medium})"
        pairings.append(Pairing(row.relation, row.subject, row.object, correct, True, source, ""))
        candidates = sorted(
            o
            for o in objects_of[(row.universe, row.relation)]
            if entity_key(o) not in true_keys and entity_key(o) != entity_key(row.subject)
        )
        for false_obj in sorted(rng.sample(candidates, min(false_per_fact, len(candidates)))):
            pairings.append(Pairing(row.relation, row.subject, false_obj, correct, False, source, ""))
    out: list[dict] = []
    seen: set[str] = set()
    for pairing in pairings:
        for statement in statement_rows(domain, pairing, "fictional"):
            if statement["id"] not in seen:  # one false object may be drawn twice for a subject
                seen.add(statement["id"])
                out.append(statement)
    splits = random_split(len(out), [r["fiction_truth"] for r in out], seed)
    for statement, split in zip(out, splits, strict=True):
        statement["split"] = split
    return out


def _universe_groups(rows: list[FictionalRow]) -> dict[str, str]:
    """Universe -> the name of its group: universes that share a subject are one group (union-find),
    so that no subject can fall into two splits."""
    parent = {r.universe: r.universe for r in rows}

    def root(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    first_universe: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: (r.universe, r.subject)):
        key = entity_key(row.subject)
        if key in first_universe:
            a, b = sorted((root(first_universe[key]), root(row.universe)))
            parent[b] = a
        else:
            first_universe[key] = row.universe
    return {u: root(u) for u in sorted(parent)}


def _balanced_pairings(rows: list[FictionalRow], rng: random.Random) -> tuple[list[Pairing], int]:
    """One true pairing per fact and, per universe, exactly as many in-fiction false pairings (one per
    fact where the universe has candidates, more for other subjects where a subject has too few), so
    that each universe is balanced by in-fiction truth and, since every pairing is written both ways,
    by polarity within in-fiction truth. Returns the pairings and the facts dropped for balance."""
    closure = _closure(rows)
    objects_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    correct_names: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row.object not in objects_of[(row.universe, row.relation)]:
            objects_of[(row.universe, row.relation)].append(row.object)
        correct_names[(row.universe, row.relation, row.subject)].add(row.object)
    out: list[Pairing] = []
    dropped = 0
    for universe in sorted({r.universe for r in rows}):
        facts = sorted(
            {r for r in rows if r.universe == universe}, key=lambda r: (r.relation, r.subject, r.object)
        )
        free: dict[tuple[str, str], list[str]] = {}
        for row in facts:
            true_keys = closure.get((universe, _family(row.relation), entity_key(row.subject)), set())
            free[(row.relation, row.subject)] = sorted(
                o
                for o in objects_of[(universe, row.relation)]
                if entity_key(o) not in true_keys and entity_key(o) != entity_key(row.subject)
            )
        out_u, n_dropped = _pair_universe(facts, free, correct_names, rng)
        out += out_u
        dropped += n_dropped
    return out, dropped


def _pair_universe(facts: list[FictionalRow], free: dict, correct_names: dict, rng: random.Random):
    """The true and false pairings of one universe's facts, as many false as true (see
    ``_balanced_pairings``): (pairings, facts dropped because no subject had a candidate left)."""
    used: dict[tuple[str, str], list[str]] = defaultdict(list)

    def draw(row: FictionalRow) -> bool:
        key = (row.relation, row.subject)
        left = [o for o in free[key] if o not in used[key]]
        if left:
            used[key].append(rng.choice(left))
        return bool(left)

    lacking = [row for row in facts if not draw(row)]
    donors = list(facts)
    rng.shuffle(donors)
    pending = len(lacking)
    for row in donors:
        if pending and draw(row):
            pending -= 1
    dropped = set(lacking[len(lacking) - pending :]) if pending else set()
    out: list[Pairing] = []
    for row in facts:
        correct = tuple(sorted(correct_names[(row.universe, row.relation, row.subject)]))
        source = f"{row.work} ({row.medium})"
        if row not in dropped:
            out.append(Pairing(row.relation, row.subject, row.object, correct, True, source, ""))
    for (relation, subject), objects in sorted(used.items()):
        row = next(r for r in facts if (r.relation, r.subject) == (relation, subject))
        correct = tuple(sorted(correct_names[(row.universe, relation, subject)]))
        for obj in sorted(objects):
            out.append(Pairing(relation, subject, obj, correct, False, f"{row.work} ({row.medium})", ""))
    return out, len(dropped)


def balanced_fictional_rows(domain: str, rows: list[FictionalRow], seed: int) -> tuple[list[dict], dict]:
    """Release 2.0.0's fictional statements: balanced pairings per universe, split by universe group
    (``stratify.group_split`` on the groups' relation mix); also the evidence for the manifest."""
    from truthstab.data.build.stratify import group_split

    rng = random.Random(seed)
    pairings, dropped = _balanced_pairings(rows, rng)
    group_of = _universe_groups(rows)
    universe_of = {(r.relation, r.subject): r.universe for r in rows}
    out: list[dict] = []
    seen: set[str] = set()
    for pairing in pairings:
        for statement in statement_rows(domain, pairing, "fictional"):
            if statement["id"] in seen:
                raise ValueError(f"fictional statement twice: {statement['statement']!r}")
            seen.add(statement["id"])
            statement["split"] = group_of[universe_of[(pairing.relation, pairing.subject)]]
            out.append(statement)
    sizes: dict[str, Counter[str]] = defaultdict(Counter)
    for statement in out:
        sizes[statement["split"]][statement["relation"]] += 1
    split_of = group_split(dict(sorted(sizes.items())), rng.randrange(2**32))
    for statement in out:
        statement["split"] = split_of[statement["split"]]
    groups = {g: sorted(u for u, gg in group_of.items() if gg == g) for g in sorted(set(group_of.values()))}
    evidence = {
        "facts_dropped_for_balance": dropped,
        "split_unit": "universe (universes sharing a subject form one group)",
        "groups": {
            split: sorted(g for g in groups if split_of[g] == split)
            for split in ("train", "calibration", "test")
        },
    }
    return out, evidence
