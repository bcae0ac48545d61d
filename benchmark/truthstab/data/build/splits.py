"""Train / calibration / test splits: entity-exclusive for real and synthetic facts, random for fiction.

Entity-exclusive method (real and synthetic statements). Objects are few and shared (about 150
countries for thousands of cities), so they are placed first:

1. every object gets a weight, the number of true pairings that use it; objects are visited from the
   heaviest down (ties in a seeded random order); each goes, among the splits whose load stays within
   its target share (+2 %), to the one that already holds most other objects of its subjects (so
   fewer pairings are cut), ties to the least loaded split relative to its share;
2. every subject then goes to the split that holds most of its true objects (ties: the least loaded
   split relative to its share); a subject that is also an object elsewhere keeps that object's split;
3. a pairing is kept only when subject and object share a split, and false pairings draw their objects
   from the subject's split (``facts.make_pairings``). So no entity appears in two splits.

Fictional statements get a seeded random split stratified by in-fiction truth, so each split has as
many in-fiction true as in-fiction false statements (up to one).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from truthstab.data.build.facts import Fact, entity_key
from truthstab.data.schema import Split

#: Target shares of train, calibration, test.
PROPORTIONS: dict[str, float] = {
    Split.TRAIN.value: 0.5,
    Split.CALIBRATION.value: 0.25,
    Split.TEST.value: 0.25,
}
SPLITS: tuple[str, ...] = tuple(PROPORTIONS)


def _least_loaded(loads: dict[str, float], weight: float, allowed: list[str] | None = None) -> str:
    """The split whose load after adding ``weight`` is smallest relative to its target share."""
    options = allowed or list(SPLITS)
    return min(options, key=lambda s: ((loads[s] + weight) / PROPORTIONS[s], SPLITS.index(s)))


def _place_objects(facts: list[Fact], rng: random.Random) -> dict[str, str]:
    """Objects to splits: heaviest first, each to the split where its subjects' other objects already
    are (so fewer pairings are cut), among the splits it still fits in (load within its share + 2 %)."""
    weights: Counter[str] = Counter()
    subjects_of: dict[str, set[str]] = defaultdict(set)
    objects_of: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        for obj in fact.objects:
            o, s = entity_key(obj), entity_key(fact.subject)
            weights[o] += 1
            subjects_of[o].add(s)
            objects_of[s].add(o)
    total = sum(weights.values())
    objects = sorted(weights)
    rng.shuffle(objects)  # random tie order; the stable sort by weight keeps it among equals
    objects.sort(key=lambda o: -weights[o])
    loads: dict[str, float] = dict.fromkeys(SPLITS, 0.0)
    split_of: dict[str, str] = {}
    for obj in objects:
        fits = [s for s in SPLITS if loads[s] + weights[obj] <= PROPORTIONS[s] * total * 1.02]
        affinity: Counter[str] = Counter(
            split_of[other] for subj in subjects_of[obj] for other in objects_of[subj] if other in split_of
        )
        if fits and max(affinity[s] for s in fits) > 0:
            best = max(affinity[s] for s in fits)
            split = _least_loaded(loads, weights[obj], [s for s in fits if affinity[s] == best])
        else:
            split = _least_loaded(loads, weights[obj], fits or None)
        split_of[obj] = split
        loads[split] += weights[obj]
    return split_of


def assign_entity_splits(facts: list[Fact], seed: int) -> dict[str, str]:
    """Map every entity key (subjects and objects of ``facts``) to one split, as the module says."""
    rng = random.Random(seed)
    split_of = _place_objects(facts, rng)
    by_subject: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_subject[entity_key(fact.subject)].append(fact)
    loads = dict.fromkeys(SPLITS, 0.0)
    subjects = sorted(by_subject)
    rng.shuffle(subjects)
    for subject in subjects:
        votes: Counter[str] = Counter(
            split_of[entity_key(o)]
            for f in by_subject[subject]
            for o in f.objects
            if entity_key(o) in split_of
        )
        if subject in split_of:
            split = split_of[subject]
        else:
            best = max(votes.values())
            split = _least_loaded(loads, best, [s for s in SPLITS if votes[s] == best])
            split_of[subject] = split
        loads[split] += votes[split]
    return split_of


def random_split(n: int, strata: list[str], seed: int) -> list[str]:
    """A seeded 50/25/25 split of ``n`` items, stratified by ``strata`` (one label per item)."""
    if len(strata) != n:
        raise ValueError("one stratum label per item")
    rng = random.Random(seed)
    out = [""] * n
    for label in sorted(set(strata)):
        members = [i for i in range(n) if strata[i] == label]
        rng.shuffle(members)
        n_train = round(len(members) * PROPORTIONS[Split.TRAIN.value])
        n_cal = round(len(members) * PROPORTIONS[Split.CALIBRATION.value])
        for rank, i in enumerate(members):
            out[i] = (
                Split.TRAIN.value
                if rank < n_train
                else Split.CALIBRATION.value
                if rank < n_train + n_cal
                else Split.TEST.value
            )
    return out


def split_shares(splits: list[str]) -> dict[str, float]:
    """The achieved share of each split (rounded to 4 digits, for the manifest)."""
    counts = Counter(splits)
    total = sum(counts.values()) or 1
    return {s: round(counts[s] / total, 4) for s in SPLITS}
