"""The statement row schema shared by every release, importer, builder and harness stage.

A release stores one row per statement. ``kind`` and ``truth`` describe the statement *as written*,
negation included: "The city of Lyon is not located in Peru." is a true statement (kind ``true``) whose
pairing (Lyon, Peru) is false. ``fiction_truth`` does the same for fictional statements, inside their
fiction. This mirrors the reference data's ``correct`` column (docs/method.md §2, §11).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Domain(StrEnum):
    CITIES = "cities"
    MEDICINE = "medicine"
    DEFINITIONS = "definitions"


class Relation(StrEnum):
    LOCATED_IN = "located_in"
    INDICATED_FOR = "indicated_for"
    INSTANCE_OF = "instance_of"
    TYPE_OF = "type_of"
    SYNONYM_OF = "synonym_of"


class Kind(StrEnum):
    TRUE = "true"
    FALSE = "false"
    SYNTHETIC = "synthetic"
    FICTIONAL = "fictional"


class Truth(StrEnum):
    TRUE = "true"
    FALSE = "false"
    NEITHER = "neither"


class Familiarity(StrEnum):
    REAL = "real"
    FAMILIAR = "familiar"
    UNFAMILIAR = "unfamiliar"


class Split(StrEnum):
    TRAIN = "train"
    CALIBRATION = "calibration"
    TEST = "test"


#: The relations each domain may use.
DOMAIN_RELATIONS: dict[Domain, frozenset[Relation]] = {
    Domain.CITIES: frozenset({Relation.LOCATED_IN}),
    Domain.MEDICINE: frozenset({Relation.INDICATED_FOR}),
    Domain.DEFINITIONS: frozenset({Relation.INSTANCE_OF, Relation.TYPE_OF, Relation.SYNONYM_OF}),
}

#: Column order of every data file (and of the DataFrame the API returns).
COLUMNS: tuple[str, ...] = (
    "id",
    "domain",
    "relation",
    "statement",
    "subject",
    "object",
    "correct_objects",
    "negated",
    "kind",
    "truth",
    "fiction_truth",
    "familiarity",
    "split",
    "source",
)

#: The (truth, familiarity) that each kind implies.
KIND_TRUTH_FAMILIARITY: dict[Kind, tuple[frozenset[Truth], Familiarity]] = {
    Kind.TRUE: (frozenset({Truth.TRUE}), Familiarity.REAL),
    Kind.FALSE: (frozenset({Truth.FALSE}), Familiarity.REAL),
    Kind.SYNTHETIC: (frozenset({Truth.NEITHER}), Familiarity.UNFAMILIAR),
    Kind.FICTIONAL: (frozenset({Truth.NEITHER}), Familiarity.FAMILIAR),
}


def statement_id(domain: str, relation: str, statement: str) -> str:
    """A stable content hash naming a statement: the first 16 hex digits of a sha256.

    The id depends only on what the statement says, so the same statement keeps its id across
    rebuilds, splits and releases.
    """
    key = f"{domain}\x1f{relation}\x1f{statement}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


class Statement(BaseModel):
    """One row of a release, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)

    id: str = Field(pattern=r"^[0-9a-f]{16}$")
    domain: Domain
    relation: Relation
    statement: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    object: str = Field(min_length=1)
    correct_objects: list[str]
    negated: bool
    kind: Kind
    truth: Truth
    fiction_truth: str = Field(pattern=r"^(true|false|)$")
    familiarity: Familiarity
    split: Split
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Statement:
        kind = Kind(self.kind)
        truths, familiarity = KIND_TRUTH_FAMILIARITY[kind]
        if Truth(self.truth) not in truths:
            raise ValueError(f"kind {kind.value!r} needs truth in {sorted(t.value for t in truths)}")
        if Familiarity(self.familiarity) is not familiarity:
            raise ValueError(f"kind {kind.value!r} needs familiarity {familiarity.value!r}")
        if (kind is Kind.FICTIONAL) != (self.fiction_truth != ""):
            raise ValueError("fiction_truth is set for fictional statements and only for them")
        if Relation(self.relation) not in DOMAIN_RELATIONS[Domain(self.domain)]:
            raise ValueError(f"relation {self.relation!r} does not belong to domain {self.domain!r}")
        if self.id != statement_id(self.domain, self.relation, self.statement):
            raise ValueError("id is not the content hash of (domain, relation, statement)")
        return self
