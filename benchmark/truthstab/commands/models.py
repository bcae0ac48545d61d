"""`truthstab models list`: the model catalogue."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from truthstab.models.registry import REGISTRY


def _params(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


@click.group("models")
def models_group() -> None:
    """The model catalogue (aliases `truthstab score` accepts)."""


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print every entry as JSON.")
def list_command(as_json: bool) -> None:
    """Every catalogued model: kind, parameters, licence, source and the revision its alias stands for."""
    if as_json:
        entries = [info.model_dump(mode="json") | {"kind": info.kind} for info in REGISTRY.values()]
        click.echo(json.dumps(entries, indent=1))
        return
    rows = [
        (
            info.alias,
            info.hf_id,
            info.kind,
            _params(info.n_parameters),
            info.license or "-",
            info.source,
            "package content sha" if info.source == "package" else (info.revision or "unpinned: --revision"),
        )
        for info in REGISTRY.values()
    ]
    click.echo(tabulate(rows, headers=["alias", "model", "kind", "params", "licence", "source", "revision"]))
