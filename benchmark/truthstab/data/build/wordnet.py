"""Open WordNet 3.0 with NLTK from Debian's database files, offline.

NLTK reads WordNet from ``<NLTK_DATA>/corpora/wordnet/``. Debian's ``wordnet-base`` and
``wordnet-sense-index`` packages install the same Princeton database in ``/usr/share/wordnet`` but
without the ``lexnames`` file NLTK needs (it names the 45 lexicographer files). This module copies the
database into a cache folder, writes ``lexnames`` from the fixed WordNet 3.0 list, and opens the reader
there. Copies rather than symlinks: NLTK refuses paths that resolve outside its data folders.
"""

from __future__ import annotations

import shutil
import warnings
from functools import partial
from pathlib import Path

from truthstab.errors import DatasetError
from truthstab.fileio import atomic_write, atomic_write_text, cache_root

#: Where Debian's packages put the database.
DEBIAN_WORDNET_DIR = Path("/usr/share/wordnet")

#: The files NLTK's WordNetCorpusReader opens (index.sense and cntlist.rev are optional but used).
_DATABASE_FILES: tuple[str, ...] = tuple(
    [f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")]
    + [f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")]
)
_OPTIONAL_FILES: tuple[str, ...] = ("index.sense", "cntlist.rev")

#: WordNet 3.0's lexicographer files (lexnames(5WN)): number, name, syntactic category.
LEXNAMES: tuple[tuple[str, int], ...] = (
    ("adj.all", 3),
    ("adj.pert", 3),
    ("adv.all", 4),
    ("noun.Tops", 1),
    ("noun.act", 1),
    ("noun.animal", 1),
    ("noun.artifact", 1),
    ("noun.attribute", 1),
    ("noun.body", 1),
    ("noun.cognition", 1),
    ("noun.communication", 1),
    ("noun.event", 1),
    ("noun.feeling", 1),
    ("noun.food", 1),
    ("noun.group", 1),
    ("noun.location", 1),
    ("noun.motive", 1),
    ("noun.object", 1),
    ("noun.person", 1),
    ("noun.phenomenon", 1),
    ("noun.plant", 1),
    ("noun.possession", 1),
    ("noun.process", 1),
    ("noun.quantity", 1),
    ("noun.relation", 1),
    ("noun.shape", 1),
    ("noun.state", 1),
    ("noun.substance", 1),
    ("noun.time", 1),
    ("verb.body", 2),
    ("verb.change", 2),
    ("verb.cognition", 2),
    ("verb.communication", 2),
    ("verb.competition", 2),
    ("verb.consumption", 2),
    ("verb.contact", 2),
    ("verb.creation", 2),
    ("verb.emotion", 2),
    ("verb.motion", 2),
    ("verb.perception", 2),
    ("verb.possession", 2),
    ("verb.social", 2),
    ("verb.stative", 2),
    ("verb.weather", 2),
    ("adj.ppl", 3),
)

_MISSING_HINT = (
    "install them with `sudo apt-get install wordnet-base wordnet-sense-index` "
    "(or, on a networked machine, run python -c 'import nltk; nltk.download(\"wordnet\")' and pass "
    "that folder's corpora/wordnet as the source)"
)


def lexnames_text() -> str:
    """The ``lexnames`` file content: one 'NN<TAB>name<TAB>category' line per lexicographer file."""
    return "".join(f"{i:02d}\t{name}\t{cat}\n" for i, (name, cat) in enumerate(LEXNAMES))


def check_database(source: Path = DEBIAN_WORDNET_DIR) -> None:
    """Raise DatasetError, naming the packages to install, if ``source`` lacks WordNet's database files."""
    missing = [f for f in _DATABASE_FILES if not (Path(source) / f).is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise DatasetError(f"WordNet 3.0 database files ({shown}) not found in {source}: {_MISSING_HINT}")


def prepare_nltk_data(source: Path = DEBIAN_WORDNET_DIR, cache_dir: Path | None = None) -> Path:
    """Make ``<cache>/nltk_data/corpora/wordnet`` from the database in ``source``; return nltk_data.

    Idempotent: files already copied with the same size are kept. Raises DatasetError naming the
    packages to install when the database is missing.
    """
    check_database(source)
    nltk_data = (cache_dir or cache_root()) / "nltk_data"
    target = nltk_data / "corpora" / "wordnet"
    target.mkdir(parents=True, exist_ok=True)
    for name in _DATABASE_FILES + _OPTIONAL_FILES:
        src = source / name
        dst = target / name
        if not src.is_file() or (dst.is_file() and dst.stat().st_size == src.stat().st_size):
            continue
        atomic_write(dst, partial(shutil.copyfile, src))
    lexnames = target / "lexnames"
    if not lexnames.is_file() or lexnames.read_text() != lexnames_text():
        atomic_write_text(lexnames, lexnames_text())
    return nltk_data


def open_wordnet(source: Path = DEBIAN_WORDNET_DIR, cache_dir: Path | None = None):
    """An NLTK ``WordNetCorpusReader`` over WordNet 3.0 (no multilingual data), offline.

    Raises DatasetError if the database is missing or is not version 3.0.
    """
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    nltk_data = prepare_nltk_data(source, cache_dir)
    if str(nltk_data) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_data))  # NLTK only opens files under its data path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": we need none
        reader = WordNetCorpusReader(str(nltk_data / "corpora" / "wordnet"), None)
    version = reader.get_version()
    if version != "3.0":
        raise DatasetError(f"WordNet in {source} is version {version}, not 3.0: {_MISSING_HINT}")
    return reader
