"""`truthstab datasets build`: regenerate a truthstab release from its sources (parse, call, print)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from tabulate import tabulate

from truthstab.data.build.pipeline import DEFAULT_SEED, build_release
from truthstab.data.release import MANIFEST_NAME, counts_table, validate_version


@click.command("build")
@click.option("--version", "version", required=True, help="Release version, e.g. 1.0.0.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write truthstab-<version>/ into.",
)
@click.option(
    "--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of every random choice."
)
@click.option(
    "--wordnet-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with the WordNet 3.0 database files (default: Debian's /usr/share/wordnet).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing release folder of that version.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest summary as JSON.")
def build_command(
    version: str, out: Path, seed: int, wordnet_dir: Path | None, overwrite: bool, as_json: bool
) -> None:
    """Generate release truthstab-VERSION (deterministic: same seed and sources, same bytes)."""
    path = build_release(validate_version(version), out, seed, wordnet_dir=wordnet_dir, overwrite=overwrite)
    manifest = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    if as_json:
        summary = {k: manifest[k] for k in ("name", "version", "rows", "by_kind", "by_split", "sha256")}
        click.echo(json.dumps({"path": str(path), **summary}, indent=2))
        return
    header, rows = counts_table(manifest["files"])
    click.echo(tabulate(rows, headers=header))
    click.echo(f"\nwrote {path} (sha256 {manifest['sha256'][:16]}, {manifest['rows']} statements)")
