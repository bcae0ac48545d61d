"""`truthstab datasets ...`: list, show, verify, export, download and import dataset releases.

Each command parses its options, calls one library function and prints (a tabulate table, or JSON with
``--json``). Other modules add commands to this group with ``datasets.add_command(...)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from truthstab.data import export as export_mod
from truthstab.data import hub, paper_import, registry
from truthstab.data.release import counts_table
from truthstab.errors import DatasetError

REF_HELP = "NAME[@VERSION], e.g. truthstab@1.0.0 (no version: the latest), or a release folder"


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _release_summary(release: registry.Release) -> dict[str, Any]:
    m = release.manifest
    return {
        "name": release.name,
        "version": release.version,
        "domains": release.domains,
        "rows": m.rows,
        "by_kind": m.by_kind,
        "by_split": m.by_split,
        "sha256": release.sha256,
        "license": m.license,
        "origin": release.origin,
        "path": str(release.path),
    }


@click.group("datasets")
def datasets() -> None:
    """The versioned statement datasets: list, show, verify, export, download, import."""


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(as_json: bool) -> None:
    """Releases found here, with version, domains, row counts and sha256 prefix; broken folders named."""
    releases, broken = registry.scan_releases()
    # A broken folder is reported on stderr, so the JSON on stdout stays the list of usable releases.
    for b in broken:
        click.echo(f"broken release folder {b.path}: {b.reason}", err=True)
    if as_json:
        _echo_json([_release_summary(r) for r in releases])
        return
    if not releases:
        roots = ", ".join(str(p) for _, p in registry.release_roots())
        click.echo(f"no releases found (searched {roots}; set {registry.ENV_ROOTS} to add a folder)")
        return
    rows = [
        [r.name, r.version, ",".join(r.domains), r.manifest.rows, r.sha256[:12], r.origin, r.path]
        for r in releases
    ]
    click.echo(tabulate(rows, headers=["name", "version", "domains", "rows", "sha256", "origin", "path"]))


@datasets.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def show_cmd(ref: str, as_json: bool) -> None:
    """Counts by domain x kind x split, sources and licence of release REF."""
    release = registry.get_release(ref)
    m = release.manifest
    if as_json:
        _echo_json({**_release_summary(release), "manifest": m.model_dump(mode="json")})
        return
    click.echo(f"{release.ref}  ({release.path})")
    click.echo(f"sha256 {release.sha256}   rows {m.rows}   licence {m.license}")
    creation = ", ".join(
        f"{k}={v}" if not isinstance(v, dict | list) else f"{k}=({len(v)} entries)"
        for k, v in m.creation.items()
    )
    click.echo(f"created by truthstab {m.created_by.get('version', '?')}; creation: {creation or '-'}\n")
    header, rows = counts_table([f.model_dump() for f in m.files])
    click.echo(tabulate(rows, headers=header) + "\n")
    sources = [
        [s.get("name"), s.get("version") or "-", s.get("license"), s.get("url") or "-"] for s in m.sources
    ]
    click.echo(
        tabulate(sources, headers=["source", "version", "licence", "url"]) if sources else "sources: -"
    )


@datasets.command("verify")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the verification report as JSON.")
def verify_cmd(ref: str, as_json: bool) -> None:
    """Recompute every checksum and re-validate every row of release REF; exit non-zero on a problem."""
    report = registry.verify_release(ref)
    if as_json:
        _echo_json({**report.model_dump(mode="json"), "ok": report.ok})
    else:
        rows = [[f.path, f.rows_actual, "ok" if f.ok else "FAIL", f.sha256_actual[:12]] for f in report.files]
        click.echo(tabulate(rows, headers=["file", "rows", "status", "sha256"]))
        for problem in report.all_problems():
            click.echo(f"  problem: {problem}")
    if not report.ok:
        first = report.all_problems()[0]
        raise DatasetError(
            f"release {report.ref} failed verification ({len(report.all_problems())} problems; first: {first}): "
            "restore or re-download it"
        )
    if not as_json:
        click.echo(f"{report.ref}: OK, {len(report.files)} files, sha256 {report.sha256_actual}")


@datasets.command("export")
@click.argument("ref")
@click.option(
    "--format", "fmt", type=click.Choice(export_mod.FORMATS), required=True, help="File format to write."
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write into.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty --out folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the export report as JSON.")
def export_cmd(ref: str, fmt: str, out: Path, overwrite: bool, as_json: bool) -> None:
    """Export release REF as CSV, Parquet or JSON Lines files (one per domain and split)."""
    report = export_mod.export_release(ref, fmt, out, overwrite=overwrite)
    if as_json:
        _echo_json(report.model_dump(mode="json"))
        return
    click.echo(tabulate([[f.path, f.rows] for f in report.files], headers=["file", "rows"]))
    click.echo(f"exported {report.ref} as {fmt} to {report.out}")


@datasets.command("download")
@click.argument("ref")
@click.option(
    "--to", "to", type=click.Path(path_type=Path), required=True, help="Folder to place the release in."
)
@click.option("--from-hub", default=None, help="Hugging Face dataset repository holding a mirror (ORG/NAME).")
@click.option("--revision", default=None, help="Branch, tag or commit of the Hub mirror (default: main).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def download_cmd(ref: str, to: Path, from_hub: str | None, revision: str | None, as_json: bool) -> None:
    """Copy a shipped release, or fetch and verify a Hub mirror, into --to. Honours HF_HUB_OFFLINE."""
    if revision is not None and from_hub is None:
        raise click.UsageError("--revision needs --from-hub")
    result = hub.download_release(ref, to, from_hub=from_hub, revision=revision)
    if as_json:
        _echo_json(result.model_dump(mode="json"))
        return
    commit = f" at {result.revision}" if result.revision else ""
    click.echo(
        f"{result.ref} verified (sha256 {result.sha256}) from {result.source}{commit} -> {result.path}"
    )


@datasets.command("import-paper")
@click.option(
    "--from",
    "src",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder with the paper's CSV files (cities_loc_true_false.csv, ...).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("datasets"),
    show_default=True,
    help="Releases folder.",
)
@click.option("--version", default=paper_import.PAPER_VERSION, show_default=True, help="Release version.")
@click.option("--overwrite", is_flag=True, help="Replace an existing release of that version.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
def import_paper_cmd(src: Path, out: Path, version: str, overwrite: bool, as_json: bool) -> None:
    """Convert the paper's published CSV files into release paper-2511.19166."""
    report = paper_import.import_paper(src, out, version=version, overwrite=overwrite)
    if as_json:
        _echo_json(report.model_dump(mode="json"))
        return
    click.echo(
        tabulate([[f.file, f.rows_read, f.rows_kept] for f in report.files], headers=["file", "read", "kept"])
    )
    if report.missing_files:
        click.echo(f"missing files: {', '.join(report.missing_files)}")
    if report.problems:
        click.echo(f"\n{len(report.problems)} rows left out:")
        click.echo(
            tabulate(
                [[p.file, p.line, p.reason] for p in report.problems], headers=["file", "line", "reason"]
            )
        )
    click.echo(
        f"\nwrote {report.ref} ({report.rows} statements, {report.noise_rows_skipped} noise rows skipped) to "
        f"{report.path}; report in {report.path}/{paper_import.REPORT_NAME}"
    )
