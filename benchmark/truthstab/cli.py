"""The `truthstab` command line: parses, calls one library function, prints. No logic here."""

from __future__ import annotations

import sys

import click
from pydantic import ValidationError

from truthstab import __version__
from truthstab.errors import TruthstabError, option_error


class _Group(click.Group):
    """Turns a TruthstabError into one clear line on stderr and a non-zero exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except TruthstabError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except ValidationError as exc:  # an option that click let through but the config model refuses
            click.echo(f"error: {option_error(exc)}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="truthstab")
def main() -> None:
    """truthstab: representational stability of truth in language models."""


# Command groups (one module each under truthstab/commands/):
from truthstab.commands.models import models_group  # noqa: E402
from truthstab.commands.queue import queue_group  # noqa: E402
from truthstab.commands.submit import submit_command  # noqa: E402

main.add_command(submit_command)
main.add_command(queue_group)
main.add_command(models_group)
from truthstab.commands.datasets import datasets as datasets_group  # noqa: E402

main.add_command(datasets_group)
from truthstab.commands.datasets_build import build_command  # noqa: E402

datasets_group.add_command(build_command)
from truthstab.commands.datasets_audit import audit_command  # noqa: E402

datasets_group.add_command(audit_command)
from truthstab.commands.leaderboard import leaderboard as leaderboard_group  # noqa: E402

main.add_command(leaderboard_group)
from truthstab.commands.score import results_group, score_command  # noqa: E402

main.add_command(score_command)
main.add_command(results_group)
from truthstab.commands import activations as activations_commands  # noqa: E402

main.add_command(activations_commands.activations)
main.add_command(activations_commands.cache)
from truthstab.commands.probe import probe_group  # noqa: E402

main.add_command(probe_group)


if __name__ == "__main__":  # `python -m truthstab.cli ...` works like the `truthstab` script
    main()
