"""`truthstab submit MODEL`: validate a model and file a PENDING evaluation request."""

from __future__ import annotations

import json
from pathlib import Path

import click

from truthstab.submissions.names import CHAT_TEMPLATE_MODES, DTYPES

SUBMISSIONS_OPTION = click.option(
    "--submissions",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("submissions"),
    envvar="TRUTHSTAB_SUBMISSIONS",
    show_default=True,
    help="The submissions folder (queue and results); env TRUTHSTAB_SUBMISSIONS.",
)


@click.command("submit")
@click.argument("model")
@click.option(
    "--revision", default=None, help="Hub branch, tag or commit sha (default main); not for local folders."
)
@click.option("--dtype", type=click.Choice(DTYPES), default="bfloat16", show_default=True)
@click.option("--chat-template", type=click.Choice(CHAT_TEMPLATE_MODES), default="auto", show_default=True)
@SUBMISSIONS_OPTION
@click.option("--allow-custom-code", is_flag=True, help="Accept a model that ships its own Python code.")
@click.option("--json", "as_json", is_flag=True, help="Print the request as JSON.")
def submit_command(
    model: str,
    revision: str | None,
    dtype: str,
    chat_template: str,
    submissions: Path,
    allow_custom_code: bool,
    as_json: bool,
) -> None:
    """Submit MODEL (a Hub id 'org/name' or a local folder) for evaluation: writes a PENDING request."""
    from truthstab.submissions.submit import submit

    request, path = submit(model, revision, dtype, chat_template, submissions, allow_custom_code)
    if as_json:
        click.echo(json.dumps({**request.model_dump(mode="json"), "request_file": str(path)}, indent=2))
        return
    click.echo(f"submitted {request.id} ({request.params:,} parameters, licence {request.license})")
    click.echo(f"request: {path}")
    click.echo(f"next: truthstab queue run --submissions {submissions}")
