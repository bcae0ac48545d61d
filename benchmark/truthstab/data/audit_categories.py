"""A coarse category per real statement, for the audit's per-split distributions (``audit_splits``).

The splits of real statements are entity-exclusive: a country, an indication or a WordNet object sits
in one split only, so comparing the *objects* across splits says nothing. What can still differ is the
kind of thing a split is about, and a probe that learns "oncology" or "Africa" on train is tested on
another mix. The rows carry no such field, so each domain derives one from what the rows do hold:

- cities: the continent of the object country (``sources/country_continents.csv``, from GeoNames);
- medicine: the therapeutic area of the object indication, by keyword (oncology, infection, other);
- definitions: the WordNet branch of the subject, from its hypernyms in ``correct_objects``.

Synthetic and fictional rows get no category: invented objects have none, and fiction may be split by
work on purpose.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
CONTINENTS_TABLE = "country_continents.csv"
#: The category of a real row whose object or hypernyms match nothing known.
UNKNOWN = "unknown"

#: Indication keywords of two therapeutic areas. Coarse on purpose: a full classification of the 262
#: indications would be a curation of its own, and these two areas are the ones whose drugs cluster
#: in classes (kinase inhibitors, antibodies, antivirals) that an entity-exclusive split moves as
#: blocks. Everything else is "other".
_AREAS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "oncology",
        re.compile(
            r"cancer|carcinoma|leuk|lymphoma|melanoma|myeloma|sarcoma|tumou?r|glioblastoma|malignan"
            r"|myelodysplastic|myelofibrosis|polycythemia vera|macroglobulinemia|mastocytosis"
            r"|erdheim-chester|chemotherapy",
            re.IGNORECASE,
        ),
    ),
    (
        "infection",
        re.compile(
            r"infection|hepatitis|hiv|covid|malaria|tuberculosis|herpes|zoster|candidiasis|aspergillosis"
            r"|mucormycosis|pneumonia|meningitis|syphilis|lepros|influenza|chickenpox|warts|lice|scabies"
            r"|impetigo|giardiasis|amebiasis|trichomoniasis|toxoplasmosis|leishmaniasis|trypanosomiasis"
            r"|chagas|schistosomiasis|strongyloidiasis|onchocerciasis|echinococcosis|cysticercosis"
            r"|cryptosporidiosis|onychomycosis|tinea|vaginosis|pharyngitis|cytomegalovirus|diarrhea",
            re.IGNORECASE,
        ),
    ),
)

#: WordNet top-level branches, most specific first: a person is also an organism and a physical
#: entity, so the first match names the branch.
_BRANCHES: tuple[str, ...] = (
    "person",
    "organism",
    "location",
    "artifact",
    "abstraction",
    "physical entity",
)


@functools.cache
def continents() -> dict[str, str]:
    """Country name (as in the ``object`` column) -> continent, from the committed table."""
    with (SOURCES_DIR / CONTINENTS_TABLE).open(encoding="utf-8", newline="") as handle:
        return {row["country"]: row["continent"] for row in csv.DictReader(handle)}


def therapeutic_area(indication: str) -> str:
    """``oncology``, ``infection`` or ``other``, by keyword."""
    for area, pattern in _AREAS:
        if pattern.search(indication):
            return area
    return "other"


def wordnet_branch(hypernyms: list[str]) -> str:
    """The first of ``_BRANCHES`` among a subject's hypernyms."""
    names = set(hypernyms)
    return next((b for b in _BRANCHES if b in names), UNKNOWN)


def category(domain: str, obj: str, correct_objects: list[str]) -> str:
    """The category of one real statement of ``domain`` (see the module docstring)."""
    if domain == "cities":
        return continents().get(obj, UNKNOWN)
    if domain == "medicine":
        return therapeutic_area(obj)
    if domain == "definitions":
        return wordnet_branch(correct_objects)
    return UNKNOWN
