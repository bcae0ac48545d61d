"""The `truthstab` command line (placeholder until the groups land)."""

import click


@click.group()
def main() -> None:
    """truthstab: representational stability of truth in language models."""
