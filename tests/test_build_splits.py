"""Splits, pairings and statement rows on constructed facts whose answers are known by hand."""

from __future__ import annotations

import random
from collections import Counter

from truthstab.data.build.facts import Fact, entity_key, make_pairings, statement_rows
from truthstab.data.build.splits import assign_entity_splits, random_split, split_shares
from truthstab.data.schema import Statement


def _facts(n_subjects: int = 400, n_objects: int = 24, seed: int = 0) -> list[Fact]:
    rng = random.Random(seed)
    objects = [f"Country{i}" for i in range(n_objects)]
    facts = []
    for i in range(n_subjects):
        k = rng.choice([1, 1, 2, 3])
        objs = tuple(sorted(rng.sample(objects, k)))
        facts.append(Fact("located_in", f"Town{i}", objs, objs, "test"))
    return facts


def _pool(facts: list[Fact]) -> dict[str, dict[str, frozenset[str]]]:
    return {"located_in": {o: frozenset() for f in facts for o in f.objects}}


def test_entity_splits_are_exclusive_and_near_50_25_25() -> None:
    facts = _facts()
    split_of = assign_entity_splits(facts, seed=1)
    pairings = make_pairings(facts, split_of, _pool(facts), random.Random(2))
    for p in pairings:
        assert split_of[entity_key(p.subject)] == p.split == split_of[entity_key(p.object)]
    by_entity: dict[str, set[str]] = {}
    for p in pairings:
        for entity in (p.subject, p.object):
            by_entity.setdefault(entity_key(entity), set()).add(p.split)
    assert all(len(s) == 1 for s in by_entity.values())
    shares = split_shares([p.split for p in pairings])
    assert abs(shares["train"] - 0.5) < 0.06 and abs(shares["test"] - 0.25) < 0.06


def test_splits_are_seeded() -> None:
    facts = _facts()
    assert assign_entity_splits(facts, 5) == assign_entity_splits(list(reversed(facts)), 5)
    assert assign_entity_splits(facts, 5) != assign_entity_splits(facts, 6)


def test_subject_that_is_also_an_object_keeps_one_split() -> None:
    facts = [
        Fact("type_of", "poodle", ("dog",), ("dog", "canine"), "t"),
        Fact("type_of", "dog", ("canine",), ("canine",), "t"),
        Fact("type_of", "cat", ("feline",), ("feline",), "t"),
    ]
    split_of = assign_entity_splits(facts, 0)
    pool = {"type_of": {o: frozenset() for o in ("dog", "canine", "feline")}}
    for p in make_pairings(facts, split_of, pool, random.Random(0)):
        assert split_of[entity_key(p.subject)] == split_of[entity_key(p.object)] == p.split


def test_false_pairings_avoid_correct_objects_and_blocked_groups() -> None:
    facts = [
        Fact(
            "instance_of", "Vienna", ("city",), ("city", "national capital", "town"), "t", frozenset({"loc"})
        ),
    ]
    pool = {
        "instance_of": {
            "city": frozenset({"loc"}),
            "town": frozenset({"loc"}),
            "national capital": frozenset({"loc"}),
            "river": frozenset({"obj"}),
            "village": frozenset({"loc"}),
            "poet": frozenset({"person"}),
        }
    }
    split_of = {entity_key(e): "train" for e in ["Vienna", *pool["instance_of"]]}
    seen = set()
    for seed in range(30):
        for p in make_pairings(facts, split_of, pool, random.Random(seed), extra=1):
            if not p.is_true:
                seen.add(p.object)
    assert seen == {"river", "poet"}  # never a correct object, never another location


def test_statement_rows_kind_follows_negation() -> None:
    from truthstab.data.build.facts import Pairing

    true_pair = Pairing("located_in", "Lyon", "France", ("France",), True, "GeoNames", "train")
    false_pair = Pairing("located_in", "Lyon", "Peru", ("France",), False, "GeoNames", "train")
    rows = statement_rows("cities", true_pair, "real") + statement_rows("cities", false_pair, "real")
    got = {(r["statement"], r["kind"], r["truth"]) for r in rows}
    assert got == {
        ("The city of Lyon is located in France.", "true", "true"),
        ("The city of Lyon is not located in France.", "false", "false"),
        ("The city of Lyon is located in Peru.", "false", "false"),
        ("The city of Lyon is not located in Peru.", "true", "true"),
    }
    fic = statement_rows("cities", false_pair, "fictional")
    assert [(r["kind"], r["truth"], r["fiction_truth"]) for r in fic] == [
        ("fictional", "neither", "false"),
        ("fictional", "neither", "true"),
    ]
    syn = statement_rows("cities", true_pair, "synthetic")
    assert {(r["kind"], r["truth"], r["familiarity"]) for r in syn} == {
        ("synthetic", "neither", "unfamiliar")
    }
    for row in rows + fic + syn:
        Statement.model_validate(row)  # every row follows the release schema


def test_random_split_is_stratified_and_seeded() -> None:
    strata = ["true"] * 100 + ["false"] * 100
    splits = random_split(200, strata, seed=3)
    assert splits == random_split(200, strata, seed=3)
    assert splits != random_split(200, strata, seed=4)
    counts = Counter(zip(splits, strata, strict=True))
    for split, n in (("train", 50), ("calibration", 25), ("test", 25)):
        assert counts[(split, "true")] == counts[(split, "false")] == n


def test_extra_false_pairings_go_to_the_asked_number_of_facts() -> None:
    facts = _facts(n_subjects=200, n_objects=30)
    split_of = assign_entity_splits(facts, seed=1)
    base = make_pairings(facts, split_of, _pool(facts), random.Random(3))
    more = make_pairings(facts, split_of, _pool(facts), random.Random(3), extra=40)
    n_true = sum(p.is_true for p in base)
    assert sum(p.is_true for p in more) == n_true
    assert sum(not p.is_true for p in base) == n_true  # one false pairing per true one
    assert sum(not p.is_true for p in more) == n_true + 40
