"""`truthstab activations extract` and `truthstab cache list|clear`: parse, call one function, print."""

from __future__ import annotations

import json
from pathlib import Path

import click
from tabulate import tabulate

from truthstab.errors import ActivationError


def _check_batch_size(value: str) -> str:
    """``value`` if it is auto or a positive integer; checked before the configuration is built, so the
    message is this command's own."""
    if value == "auto" or (value.isdigit() and int(value) > 0):
        return value
    raise ActivationError(f"--batch-size must be auto or a positive integer, not {value!r}")


@click.group("activations")
def activations() -> None:
    """Hidden-state activations: extract them into the cache that the probe stage reads."""


@activations.command("extract")
@click.argument("model")
@click.option("--dataset", default="truthstab", show_default=True, help="Release NAME[@VERSION] or folder.")
@click.option("--domain", "domains", multiple=True, help="Domain(s) to extract (repeatable); default: all.")
@click.option(
    "--layers",
    default="all",
    show_default=True,
    help="all, or layers and ranges like 12 or 8-14 (0-based blocks).",
)
@click.option("--bag-layers", default="", help="Layers whose token bags are stored too, like 12,15.")
@click.option("--batch-size", default="auto", show_default=True, help="auto (GPU: backs off on OOM) or N.")
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default="auto",
    show_default=True,
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--revision", default=None, help="Hub branch, tag or commit (resolved to a commit sha).")
@click.option(
    "--trust-remote-code", is_flag=True, help="Run the model repository's own code (off by default)."
)
@click.option("--chat-template", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True)
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), default=None, help="Store root (default: user cache)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def extract_cmd(
    model,
    dataset,
    domains,
    layers,
    bag_layers,
    batch_size,
    dtype,
    device,
    revision,
    trust_remote_code,
    chat_template,
    cache_dir,
    as_json,
) -> None:
    """Extract MODEL's activations on a dataset release into the activation store (resumable)."""
    from truthstab.pipeline.config import RunConfig
    from truthstab.pipeline.extract import extract_release

    config = RunConfig(
        run="extract",
        model=model,
        dataset=dataset,
        domains=list(domains) or None,
        layers=layers,
        bag_layers=bag_layers,
        batch_size=_check_batch_size(batch_size),
        dtype=dtype,
        device=device,
        revision=revision,
        trust_remote_code=trust_remote_code,
        chat_template=chat_template,
        cache_dir=cache_dir,
    )
    rows = extract_release(config, progress=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    keys = ["domain", "statements", "layers", "bag_layers", "seconds", "statements_per_s", "store_entries"]
    click.echo(tabulate([[r[k] for k in keys] for r in rows], headers=keys))
    if rows:
        click.echo(
            f"model {rows[0]['model']} @ {rows[0]['revision'][:12]} ({rows[0]['weights']}), {rows[0]['dataset']}"
        )


@click.group("cache")
def cache() -> None:
    """The activation cache: list its entries, or clear them."""


@cache.command("list")
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), default=None, help="Store root (default: user cache)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def cache_list(cache_dir, as_json) -> None:
    """Every stored entry: model, revision, dataset, domain, layers, rows done, size."""
    from truthstab.activations.store import ActivationStore

    rows = ActivationStore(cache_dir).list()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("the activation cache is empty")
    else:
        click.echo(tabulate([list(r.values()) for r in rows], headers=list(rows[0])))


@cache.command("clear")
@click.option("--model", default=None, help="Only this model's entries (alias, id or revision sha prefix).")
@click.option("--key", default=None, help="Only the entry with this key (as `cache list` shows it).")
@click.option("--all", "everything", is_flag=True, help="Clear every entry.")
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), default=None, help="Store root (default: user cache)."
)
def cache_clear(model, key, everything, cache_dir) -> None:
    """Delete cached activations (say which: --model, --key or --all)."""
    from truthstab.activations.store import ActivationStore

    if not (model or key or everything):
        raise ActivationError("say what to clear: --model NAME, --key KEY or --all")
    removed = ActivationStore(cache_dir).clear(model=model, key=key)
    click.echo(f"removed {removed} cache entr{'y' if removed == 1 else 'ies'}")
