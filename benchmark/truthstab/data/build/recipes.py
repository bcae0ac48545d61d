"""One recipe per release version: which sources, which generators, which checks.

A release is rebuilt bit for bit from its recipe, so a recipe never changes once its release is
published: 1.0.0's is frozen (its generators are the 1.0.0 code paths, kept as they were), and a
change of method is a new version with a recipe of its own. ``truthstab datasets build --version V``
builds only a version that has a recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from truthstab.data.build.medicine import SOURCES_DIR
from truthstab.data.schema import Relation
from truthstab.errors import DatasetError

#: Statements per (domain, kind) of release 1.0.0: release 2.0.0 promises at least as many.
SIZES_1_0_0: dict[str, dict[str, int]] = {
    "cities": {"true": 2652, "false": 2652, "synthetic": 1280, "fictional": 636},
    "medicine": {"true": 2625, "false": 2625, "synthetic": 1280, "fictional": 628},
    "definitions": {"true": 3055, "false": 3055, "synthetic": 1310, "fictional": 1468},
}


@dataclass(frozen=True)
class Recipe:
    """How one release version is made."""

    version: str
    #: Folder of the fiction tables (the medicine table is read from ``SOURCES_DIR``).
    fiction_dir: Path = SOURCES_DIR
    #: Domains whose fiction table is read from another folder than ``fiction_dir`` (a later version that
    #: changes one table keeps the others where they are, so a fix is never made in two copies).
    fiction_dirs: dict[str, Path] = field(default_factory=dict)
    #: 1.0.0's generators (``pipeline.build_rows``) or 2.0.0's (``pipeline2.build_rows_v2``).
    generators: str = "1.0.0"
    #: Synthetic facts per domain: (relation, subjects, objects).
    synthetic_plan: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    #: Least statements per domain and kind.
    minimums: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Definitions: WordNet facts per relation, before splits cut some.
    facts_per_relation: dict[str, int] = field(default_factory=dict)
    #: Whether the build audits the rows and refuses to write a release that fails.
    audit: bool = False
    #: The hand-checked sample (a CSV path relative to ``SOURCES_DIR``) the card's error table is
    #: computed from.
    judgements: str = ""

    def fiction_dir_for(self, domain: str) -> Path:
        """The folder ``domain``'s fiction table is read from."""
        return self.fiction_dirs.get(domain, self.fiction_dir)

    @property
    def judgements_path(self) -> Path:
        """The judgement file of this version's hand-checked sample."""
        return SOURCES_DIR / self.judgements


#: Release 2.0.0's sizes: 1.0.0's, except medicine fiction (release 2.1.0 closes that gap). Balancing polarity within in-fiction truth
#: allows four statements per curated fact (one in-fiction true and one false pairing, both ways), and
#: the 128 medicine facts the curator is sure of give 512; 1.0.0 reached 628 with up to three false
#: pairings per fact, which is what let "not" predict in-fiction truth.
SIZES_2_0_0: dict[str, dict[str, int]] = {
    **SIZES_1_0_0,
    "medicine": {**SIZES_1_0_0["medicine"], "fictional": 512},
}

#: Release 2.1.0: 2.0.0 with 31 more curated medicine fiction facts (159), so that every domain and kind
#: is at least as large as in 1.0.0; medicine fiction needs 157 facts at four statements each.
SIZES_2_1_0: dict[str, dict[str, int]] = SIZES_1_0_0

RECIPES: dict[str, Recipe] = {
    # Frozen: the recipe of the published release truthstab-1.0.0 (pipeline.SYNTHETIC_PLAN, MINIMUMS).
    "1.0.0": Recipe(version="1.0.0"),
    "2.0.0": Recipe(
        version="2.0.0",
        fiction_dir=SOURCES_DIR / "2.0.0",
        generators="2.0.0",
        # Relation mix of the real statements (definitions: 47 % instance_of, 33 % type_of, 19 %
        # synonym_of), four statements per subject, a little above 1.0.0's sizes; many objects, so
        # that each split holds enough of them for its mean name length to match the others'.
        synthetic_plan={
            "cities": [(Relation.LOCATED_IN.value, 330, 100)],
            "medicine": [(Relation.INDICATED_FOR.value, 330, 160)],
            "definitions": [
                (Relation.INSTANCE_OF.value, 160, 80),
                (Relation.TYPE_OF.value, 112, 64),
                (Relation.SYNONYM_OF.value, 64, 64),
            ],
        },
        minimums=SIZES_2_0_0,
        facts_per_relation={"instance_of": 700, "type_of": 650, "synonym_of": 650},
        audit=True,
        judgements="2.0.0/judgements.csv",
    ),
}
# Frozen once published, like 2.0.0: only the medicine fiction table and the hand-checked sample change.
RECIPES["2.1.0"] = replace(
    RECIPES["2.0.0"],
    version="2.1.0",
    fiction_dirs={"medicine": SOURCES_DIR / "2.1.0"},
    minimums=SIZES_2_1_0,
    judgements="2.1.0/judgements.csv",
)


def recipe_for(version: str) -> Recipe:
    """The recipe of ``version``; a version without one is a DatasetError naming the known ones."""
    if version not in RECIPES:
        raise DatasetError(
            f"--version {version}: no build recipe for that version; "
            f"known: {', '.join(RECIPES)} (truthstab.data.build.recipes)"
        )
    return RECIPES[version]
