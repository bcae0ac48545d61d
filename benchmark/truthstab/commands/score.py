"""`truthstab score` and `truthstab results show|compare`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from pydantic import ValidationError

from truthstab.errors import ResultError, option_error
from truthstab.fileio import apply_umask
from truthstab.fitaware import N_REFITS
from truthstab.pipeline.config import DEFAULT_PROBES, MIN_BOOTSTRAP, RESULTS_ENV, RunConfig
from truthstab.results import dump_result, read_result
from truthstab.run_layout import RESULT_FILE

#: Shared by score and probe, so both describe --layers and --bootstrap the same way.
LAYERS_HELP = (
    "auto (sweep, pick per domain), paper (the paper's table), or layers and ranges like 12 or 8-14."
)
BOOTSTRAP_HELP = f"Bootstrap resamples (at least {MIN_BOOTSTRAP})."
#: The fit-aware options, shared by score and probe run.
REFITS_OPTION = click.option(
    "--refits",
    "n_refits",
    type=click.IntRange(0),
    default=N_REFITS,
    show_default=True,
    help="Bootstrap refits of the training rows per domain and probe (0: off; else at least 2).",
)
NOISE_ROWS_OPTION = click.option(
    "--noise-rows",
    type=click.Choice(["keep", "drop"]),
    default="keep",
    show_default=True,
    help="drop: leave the noise control out (as the reference code's runs did).",
)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.command("score")
@click.argument("model", default="smollm2-135m")
@click.option("--revision", default=None, help="Hub revision (branch, tag or sha); resolved to a commit sha.")
@click.option("--dataset", default="truthstab", show_default=True, help="Release NAME[@VERSION].")
@click.option(
    "--probes",
    default=",".join(DEFAULT_PROBES),
    show_default=True,
    help="Comma list of mean-diff, logistic, sawmil or module:Class plug-ins.",
)
@click.option("--layers", default="auto", show_default=True, help=LAYERS_HELP)
@click.option("--protocol", type=click.Choice(["fixed", "faithful"]), default="fixed", show_default=True)
@click.option("--dtype", type=click.Choice(["auto", "float32", "bfloat16", "float16"]), default="auto")
@click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda[:N].")
@click.option("--batch-size", default="auto", show_default=True, help="auto or a positive integer.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    type=click.IntRange(min=MIN_BOOTSTRAP),
    default=1000,
    show_default=True,
    help=BOOTSTRAP_HELP,
)
@REFITS_OPTION
@NOISE_ROWS_OPTION
@click.option(
    "--tracks",
    default="representational,behavioural",
    show_default=True,
    help="representational (probes) and/or behavioural (zero-shot answers), comma-separated; encoders "
    "skip the behavioural track with a note. The representational track always runs.",
)
@click.option("--domains", default=None, help="Comma-separated domains (default: all of the release).")
@click.option(
    "--max-per-kind", type=int, default=None, help="Cap statements per domain, kind and split (quick runs)."
)
@click.option(
    "--sample-fraction",
    type=float,
    default=None,
    help="Score a seeded share of each domain, kind and split, keeping their proportions (quick runs).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Folder to write the run into [default: ${RESULTS_ENV}, else the user data folder, else ./results].",
)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None, help="Activation cache root.")
@click.option("--chat-template", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True)
@click.option(
    "--trust-remote-code", is_flag=True, help="Run model code from the Hub (only for models you trust)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result JSON instead of the report card.")
@click.option("--quiet", is_flag=True, help="No progress display.")
def score_command(
    as_json: bool, quiet: bool, probes: str, domains: str | None, tracks: str, **options
) -> None:
    """Score MODEL (alias, Hub id or local folder) for representational stability of truth."""
    options["tracks"] = _split(tracks)
    if options.get("out") is None:
        options.pop("out")  # the config's default: $TRUTHSTAB_RESULTS, the user data folder or ./results
    try:
        config = RunConfig(probes=_split(probes), domains=_split(domains) if domains else None, **options)
    except ValidationError as exc:
        raise option_error(exc) from None
    echo = None if (quiet or as_json) else (lambda line: click.echo(line, err=True))
    if config.sample_fraction or config.max_per_kind:
        from truthstab.results.card import SAMPLE_WARNING

        # Said before any number exists, so nobody reads the numbers without it.
        click.echo(f"SMOKE TEST on a sample of the release. {SAMPLE_WARNING}", err=True)
    from truthstab.pipeline.score import score

    output = score(config, progress=not (quiet or as_json), echo=echo)
    apply_umask(output.run_dir)  # the run folder comes out of mkdtemp (0700): readable as the umask says
    if as_json:
        click.echo(dump_result(output.result), nl=False)
        return
    from truthstab.results.card import report_card

    click.echo(report_card(output.result))
    click.echo(f"result: {output.result_path}")


@click.group("results")
def results_group() -> None:
    """Read result files."""


def _result_file(path: Path) -> Path:
    """``path`` if it can be a result file; a folder or an impossible name is a one-line ResultError."""
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # ENAMETOOLONG: a component over the file system's 255-byte limit
        raise ResultError(
            f"{ascii(str(path))[:120]} is not a usable path ({exc.strerror}); give a result.json"
        ) from None
    if is_dir:
        found = sorted(path.rglob(RESULT_FILE))
        hint = f", for example {found[0]}" if found else f"; there is no {RESULT_FILE} under it"
        raise ResultError(f"{path} is a folder; give one of its {RESULT_FILE} files{hint}")
    return path


@results_group.command("show")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the headline as JSON.")
def show_command(path: Path, as_json: bool) -> None:
    """Print the report card of a result file."""
    from truthstab.results.card import report_card

    result = read_result(_result_file(path))
    if as_json:
        click.echo(json.dumps(result.headline.model_dump(mode="json"), indent=1, sort_keys=True))
    else:
        click.echo(report_card(result), nl=False)


@results_group.command("compare")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison and its warnings as JSON.")
def compare_command(a: Path, b: Path, as_json: bool) -> None:
    """Put two results side by side: differences, whether their CIs overlap, and warnings when they
    were scored on different samples, releases or protocols."""
    from truthstab.results.card import compare, compare_data

    ra, rb = read_result(_result_file(a)), read_result(_result_file(b))
    if as_json:
        click.echo(json.dumps(compare_data(ra, rb), indent=1))
    else:
        click.echo(compare(ra, rb), nl=False)


@results_group.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of result.json (the committed copy is docs/result.schema.json)."""
    from truthstab.results import result_json_schema

    click.echo(result_json_schema(), nl=False)
