"""The domain readers: WordNet over Debian's files, GeoNames cities, the curated tables, fiction."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from build_sources import write_sources
from truthstab.data.build import wordnet
from truthstab.data.build.cities import AMBIGUITY_MIN_POPULATION, country_name, geonames_cities, load_cities
from truthstab.data.build.fictional import fictional_rows, read_fiction
from truthstab.data.build.medicine import load_medicine
from truthstab.errors import DatasetError

HAVE_WORDNET = (wordnet.DEBIAN_WORDNET_DIR / "data.noun").is_file()
NO_WORDNET = "Debian's wordnet-base is not installed (sudo apt-get install wordnet-base wordnet-sense-index)"


def test_lexnames_is_the_45_line_wordnet_list() -> None:
    lines = wordnet.lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[18] == "18\tnoun.person\t1"
    assert lines[44] == "44\tadj.ppl\t3"


def test_missing_wordnet_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="apt-get install wordnet-base wordnet-sense-index"):
        wordnet.prepare_nltk_data(tmp_path / "nowhere", tmp_path / "cache")


@pytest.mark.skipif(not HAVE_WORDNET, reason=NO_WORDNET)
def test_open_wordnet_from_debian_files(tmp_path: Path) -> None:
    wn = wordnet.open_wordnet(cache_dir=tmp_path)
    assert wn.get_version() == "3.0"
    assert (
        tmp_path / "nltk_data" / "corpora" / "wordnet" / "lexnames"
    ).read_text() == wordnet.lexnames_text()
    paris = {h.name() for s in wn.synsets("Paris") for h in s.instance_hypernyms()}
    assert "national_capital.n.01" in paris
    assert wn.synset("poodle.n.01").hypernyms()[0].name() == "dog.n.01"


@pytest.mark.skipif(not HAVE_WORDNET, reason=NO_WORDNET)
def test_wordnet_copy_with_a_foreign_version_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "wn"
    shutil.copytree(
        wordnet.DEBIAN_WORDNET_DIR, fake, ignore=shutil.ignore_patterns("bin", "pixmaps", "wnres")
    )
    data_adj = fake / "data.adj"
    data_adj.write_text(data_adj.read_text().replace("WordNet 3.0", "WordNet 2.1", 1))
    with pytest.raises(DatasetError, match=r"not 3\.0"):
        wordnet.open_wordnet(fake, tmp_path / "cache")


def test_country_names_are_common_english_short_names() -> None:
    assert country_name("RU") == "Russia"
    assert country_name("KR") == "South Korea"
    assert country_name("IR") == "Iran"
    assert country_name("VN") == "Vietnam"
    assert country_name("BO") == "Bolivia"
    assert country_name("PH") == "Philippines"
    assert country_name("FR") == "France"


def test_cities_are_unambiguous_and_capped() -> None:
    data = load_cities()
    countries_of = defaultdict(set)
    for city in geonames_cities(AMBIGUITY_MIN_POPULATION).values():
        countries_of[city["name"].casefold()].add(city["countrycode"])
    assert len(data.facts) > 1250
    for fact in data.facts:
        assert len(countries_of[fact.subject.casefold()]) == 1, fact.subject
    names = {f.subject for f in data.facts}
    assert "Paris" not in names and "London" not in names  # shared with towns elsewhere
    assert "Hong Kong" not in {f.objects[0] for f in data.facts}  # territories are left out
    per_country = defaultdict(int)
    for fact in data.facts:
        per_country[fact.objects[0]] += 1
    assert max(per_country.values()) <= data.parameters["max_cities_per_country"]
    assert data.parameters["cities_rejected"]["name_in_several_countries"] > 0


def test_medicine_facts_keep_all_indications(tmp_path: Path) -> None:
    data = load_medicine(write_sources(tmp_path))
    by_drug = {f.subject: f for f in data.facts}
    assert set(by_drug["lisinopril"].correct_objects) == {"hypertension", "heart failure"}
    # Drugs of the same class block each other's indications as false pairings.
    assert "class:ace inhibitor" in by_drug["lisinopril"].groups
    assert "class:ace inhibitor" in data.pool["indicated_for"]["heart failure"]


def test_medicine_table_with_a_missing_column_is_refused(tmp_path: Path) -> None:
    (tmp_path / "medicine_indications.csv").write_text("drug,indication\nmetformin,diabetes\n")
    with pytest.raises(DatasetError, match="lacks columns"):
        load_medicine(tmp_path)


def test_fiction_false_pairings_respect_the_transitive_closure(tmp_path: Path) -> None:
    table, sha = read_fiction("cities", write_sources(tmp_path))
    assert len(sha) == 64
    rows = fictional_rows("cities", table, seed=0)
    for row in rows:
        # Hobbiton is in the Shire, which is in Eriador: never an in-fiction false pairing.
        if row["subject"] == "Hobbiton" and row["object"] == "Eriador":
            pytest.fail("transitively true pairing used as a false one")
        if row["object"] in row["correct_objects"]:
            assert row["fiction_truth"] == ("false" if row["negated"] else "true")
        else:
            assert row["fiction_truth"] == ("true" if row["negated"] else "false")
    truths = [r["fiction_truth"] for r in rows]
    assert truths.count("true") == truths.count("false")
    assert {r["source"] for r in rows} >= {"The Lord of the Rings (novel)", "A Song of Ice and Fire (novel)"}
