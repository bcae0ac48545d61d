"""Release 2.0.0's splits: entity-exclusive and stratified, fiction by universe, false objects by quota.

Release 1.0.0 placed objects by weight alone, so whole blocks of a category (cancers, African
countries, WordNet persons, synthetic instance_of objects) could land in one split. Here every true
pairing has a *stratum*, its relation and the category the release audit compares (continent of a
city's country, therapeutic area of an indication, WordNet branch of a definition's subject:
``truthstab.data.audit_categories``), and the placement keeps each stratum near 50/25/25:

1. objects are visited heaviest first (seeded tie order); each goes to the split where it adds least
   to the squared deviation of the strata from their targets, less a bonus for each subject whose
   other objects already sit there (a pairing cut by the split is a statement lost);
2. subjects follow the split that holds most of their true objects, as in 1.0.0; a pairing is kept
   only inside one split, so no entity crosses a split.

False objects are drawn by quota (``draw_false_objects``): in each split the false pairings take their
categories from a shuffled list of the split's true categories, so false statements have the same
category mix as true ones wherever the category is the object's.

Fiction is split by universe (``group_split``): universes that share a subject are one group, and
groups go whole to a split, chosen by a seeded search that keeps the relation mix and the 50/25/25
sizes, so no fictional subject or pairing is in two splits.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable

from truthstab.data.build.facts import Fact, Pairing, entity_key
from truthstab.data.build.splits import PROPORTIONS, SPLITS

Stratum = Callable[[Fact, str], str]


def _weights(facts: list[Fact], stratum: Stratum):
    """Per object: its true pairings by stratum; per subject: its objects; stratum totals."""
    weights: dict[str, Counter[str]] = defaultdict(Counter)
    objects_of: dict[str, set[str]] = defaultdict(set)
    subjects_of: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        s = entity_key(fact.subject)
        for obj in fact.objects:
            o = entity_key(obj)
            weights[o][stratum(fact, obj)] += 1
            objects_of[s].add(o)
            subjects_of[o].add(s)
    totals: Counter[str] = Counter()
    for counter in weights.values():
        totals.update(counter)
    return weights, objects_of, subjects_of, totals


def _added_deviation(load: Counter[str], weight: Counter[str], totals: Counter[str], split: str) -> float:
    """How much placing ``weight`` into ``split`` adds to its squared relative deviation from target."""
    cost = 0.0
    for stratum, w in weight.items():
        target = PROPORTIONS[split] * totals[stratum]
        before, after = load[stratum] - target, load[stratum] + w - target
        cost += (after * after - before * before) / max(target, 1.0)
    return cost


def _place_objects(facts: list[Fact], stratum: Stratum, rng: random.Random, bonus: float) -> dict[str, str]:
    weights, objects_of, subjects_of, totals = _weights(facts, stratum)
    objects = sorted(weights)
    rng.shuffle(objects)
    objects.sort(key=lambda o: -sum(weights[o].values()))
    loads: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    split_of: dict[str, str] = {}
    for obj in objects:
        affinity: Counter[str] = Counter(
            split_of[other] for subj in subjects_of[obj] for other in objects_of[subj] if other in split_of
        )

        def score(split: str, obj: str = obj, affinity: Counter[str] = affinity) -> tuple[float, int]:
            cost = _added_deviation(loads[split], weights[obj], totals, split)
            return (cost - bonus * affinity[split], SPLITS.index(split))

        split = min(SPLITS, key=score)
        split_of[obj] = split
        loads[split].update(weights[obj])
    return split_of


#: Placements tried per release stage (seeded tie orders x affinity bonuses); the kept one has every
#: relation and category share within ``TARGET_GAP`` across splits and the most pairings kept.
RESTARTS = 8
BONUSES = (0.25, 0.5, 1.0)
#: Share gap a placement aims under: the audit allows 0.05, and the false statements and the split
#: sizes add a little noise to the true pairings' figures.
TARGET_GAP = 0.03


def _kept_gap(facts: list[Fact], stratum: Stratum, split_of: dict[str, str]) -> tuple[float, int]:
    """The largest share gap between two splits, over the relation and the category parts of the
    kept true pairings' strata, with the split sizes' distance from 50/25/25; and the pairings kept."""
    counts: dict[str, dict[str, Counter[str]]] = {s: {"r": Counter(), "c": Counter()} for s in SPLITS}
    for fact in facts:
        split = split_of[entity_key(fact.subject)]
        for obj in fact.objects:
            if split_of[entity_key(obj)] == split:
                relation, _, cat = stratum(fact, obj).partition("|")
                counts[split]["r"][relation] += 1
                counts[split]["c"][cat] += 1
    sizes = {s: sum(counts[s]["r"].values()) for s in SPLITS}
    total = sum(sizes.values())
    if min(sizes.values()) == 0:
        return float("inf"), total
    gap = 0.0
    for dim in ("r", "c"):
        for value in {v for s in SPLITS for v in counts[s][dim]}:
            shares = [counts[s][dim][value] / sizes[s] for s in SPLITS]
            gap = max(gap, max(shares) - min(shares))
    return gap + sum(abs(sizes[s] / total - PROPORTIONS[s]) for s in SPLITS) / 2, total


def assign_stratified_splits(facts: list[Fact], stratum: Stratum, seed: int) -> dict[str, str]:
    """Every entity key of ``facts`` to one split, each stratum near 50/25/25 (module docstring):
    the best of ``RESTARTS`` x ``BONUSES`` seeded placements."""
    rng = random.Random(seed)
    best: tuple[tuple[bool, float], dict[str, str]] | None = None
    for _ in range(RESTARTS):
        tie_seed = rng.randrange(2**32)
        for bonus in BONUSES:
            split_of = _placement(facts, stratum, random.Random(tie_seed), bonus)
            gap, kept = _kept_gap(facts, stratum, split_of)
            score = (gap > TARGET_GAP, gap if gap > TARGET_GAP else -kept)
            if best is None or score < best[0]:
                best = (score, split_of)
    assert best is not None
    return best[1]


def _placement(facts: list[Fact], stratum: Stratum, rng: random.Random, bonus: float) -> dict[str, str]:
    """One placement: objects (``_place_objects``), then subjects by the votes of their objects."""
    split_of = _place_objects(facts, stratum, rng, bonus)
    by_subject: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_subject[entity_key(fact.subject)].append(fact)
    loads: Counter[str] = Counter()
    subjects = sorted(by_subject)
    rng.shuffle(subjects)
    for subject in subjects:
        if subject in split_of:  # also an object elsewhere: keeps that split
            loads[split_of[subject]] += 1
            continue
        votes: Counter[str] = Counter(
            split_of[entity_key(o)]
            for f in by_subject[subject]
            for o in f.objects
            if entity_key(o) in split_of
        )
        best = max(votes.values())
        options = [s for s in SPLITS if votes[s] == best]
        split = min(options, key=lambda s: (loads[s] / PROPORTIONS[s], SPLITS.index(s)))
        split_of[subject] = split
        loads[split] += 1
    return split_of


def _bonus_facts(
    ordered: list[Fact], entity_split: dict[str, str], extra: int, rng: random.Random
) -> set[int]:
    """Indices of the facts that get an extra false pairing: ``extra`` in all, shared among the splits
    in proportion to their facts, so that the polarity mix stays the same in every split."""
    by_split: dict[str, list[int]] = defaultdict(list)
    for index, fact in enumerate(ordered):
        split = entity_split.get(entity_key(fact.subject))
        if split is not None:
            by_split[split].append(index)
    total = sum(len(v) for v in by_split.values()) or 1
    chosen: set[int] = set()
    for split in SPLITS:
        members = by_split.get(split, [])
        chosen |= set(rng.sample(members, min(len(members), round(extra * len(members) / total))))
    return chosen


def make_quota_pairings(
    facts: list[Fact],
    entity_split: dict[str, str],
    pool: dict[str, dict[str, frozenset[str]]],
    rng: random.Random,
    extra: int = 0,
    category: Callable[[str], str] | None = None,
) -> tuple[list[Pairing], int]:
    """``facts.make_pairings`` with false objects drawn by category quota (module docstring); also
    the number of false pairings whose quota category had no candidate (drawn from any category).

    ``category`` maps an object to the category the audit compares (None: the category is the
    subject's, so any false object keeps it)."""
    by_split: dict[tuple[str, str], list[tuple[str, frozenset[str]]]] = defaultdict(list)
    for relation in sorted(pool):
        for obj in sorted(pool[relation]):
            split = entity_split.get(entity_key(obj))
            if split is not None:
                by_split[(relation, split)].append((obj, pool[relation][obj]))
    ordered = sorted(facts, key=lambda f: (f.relation, f.subject))
    bonus = _bonus_facts(ordered, entity_split, extra, rng) if extra else set()
    kept = [_kept_trues(fact, entity_split) for fact in ordered]
    quota = _quotas(ordered, kept, entity_split, category, rng)
    out: list[Pairing] = []
    fallbacks = 0
    for index, (fact, trues) in enumerate(zip(ordered, kept, strict=True)):
        if not trues:
            continue
        split = entity_split[entity_key(fact.subject)]
        correct = tuple(sorted(set(fact.correct_objects)))
        blocked = {entity_key(o) for o in correct} | {entity_key(fact.subject)}
        candidates = [
            o
            for o, groups in by_split.get((fact.relation, split), [])
            if entity_key(o) not in blocked and not (groups & fact.groups)
        ]
        falses: list[str] = []
        for _ in range(min(len(trues) + (index in bonus), len(candidates))):
            want = quota[(fact.relation, split)].pop() if category else None
            left = [o for o in candidates if o not in falses]
            fitting = [o for o in left if category is None or category(o) == want]
            fallbacks += bool(category) and not fitting
            falses.append(rng.choice(fitting or left))
        for obj, is_true in [(o, True) for o in trues] + [(o, False) for o in sorted(falses)]:
            out.append(Pairing(fact.relation, fact.subject, obj, correct, is_true, fact.source, split))
    return out, fallbacks


def _kept_trues(fact: Fact, entity_split: dict[str, str]) -> list[str]:
    split = entity_split.get(entity_key(fact.subject))
    return [o for o in fact.objects if split is not None and entity_split.get(entity_key(o)) == split]


def _quotas(ordered, kept, entity_split, category, rng) -> dict[tuple[str, str], list[str]]:
    """Per (relation, split): the categories of its true pairings, shuffled, cycled so that extra false
    pairings draw from the same mix."""
    quota: dict[tuple[str, str], list[str]] = defaultdict(list)
    if category is None:
        return quota
    for fact, trues in zip(ordered, kept, strict=True):
        if trues:
            key = (fact.relation, entity_split[entity_key(fact.subject)])
            quota[key] += [category(o) for o in trues]
    for key in sorted(quota):
        cats = sorted(quota[key])
        rng.shuffle(cats)
        quota[key] = cats * 2  # room for the extra pairings; popped from the end
    return quota


#: Restarts of the fiction group search; each is a greedy start and a hill climb of moves and swaps.
GROUP_RESTARTS = 60


def _imbalance(assign: dict[str, str], groups: dict[str, Counter[str]]) -> float:
    """Largest relation share gap between two splits, plus the splits' distance from 50/25/25."""
    counts = {s: Counter() for s in SPLITS}
    for group, split in assign.items():
        counts[split].update(groups[group])
    sizes = {s: sum(counts[s].values()) for s in SPLITS}
    total = sum(sizes.values()) or 1
    if min(sizes.values()) == 0:
        return float("inf")
    relations = sorted({r for c in groups.values() for r in c})
    shares = {s: [counts[s][r] / sizes[s] for r in relations] for s in SPLITS}
    gap = max(
        abs(a - b)
        for i, x in enumerate(SPLITS)
        for y in SPLITS[i + 1 :]
        for a, b in zip(shares[x], shares[y], strict=True)
    )
    return gap + sum(abs(sizes[s] / total - PROPORTIONS[s]) for s in SPLITS)


def _climb(assign: dict[str, str], groups: dict[str, Counter[str]]) -> tuple[float, dict[str, str]]:
    """Moves and swaps of groups while they lower the imbalance (first improvement, fixed order)."""
    best = _imbalance(assign, groups)
    names = sorted(assign)
    improved = True
    while improved:
        improved = False
        candidates = [{g: s} for g in names for s in SPLITS if s != assign[g]]
        candidates += [
            {a: assign[b], b: assign[a]}
            for i, a in enumerate(names)
            for b in names[i + 1 :]
            if assign[a] != assign[b]
        ]
        for change in candidates:
            trial = {**assign, **change}
            score = _imbalance(trial, groups)
            if score < best - 1e-12:
                assign, best, improved = trial, score, True
                break
    return best, assign


def group_split(groups: dict[str, Counter[str]], seed: int) -> dict[str, str]:
    """Each group (name -> statements per relation) to a split: sizes near 50/25/25 and the same
    relation mix in every split, by a seeded search (greedy starts, then moves and swaps)."""
    rng = random.Random(seed)
    best: tuple[float, dict[str, str]] | None = None
    for _ in range(GROUP_RESTARTS):
        order = sorted(groups)
        rng.shuffle(order)
        order.sort(key=lambda g: -sum(groups[g].values()))
        loads = dict.fromkeys(SPLITS, 0)
        start: dict[str, str] = {}
        for group in order:
            split = min(SPLITS, key=lambda s: (loads[s] / PROPORTIONS[s], rng.random()))
            start[group] = split
            loads[split] += sum(groups[group].values())
        result = _climb(start, groups)
        if best is None or result[0] < best[0] - 1e-12:
            best = result
    assert best is not None
    return best[1]
