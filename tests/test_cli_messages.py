"""Error messages name the command-line option; help texts agree across commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from truthstab.cli import main


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--sample-fraction", "2"], "--sample-fraction"),
        (["--max-per-kind", "0"], "--max-per-kind"),
        (["--layers", "x"], "--layers"),
        (["--batch-size", "0"], "--batch-size"),
    ],
)
def test_score_errors_name_the_option_in_one_line(args, option):
    res = CliRunner().invoke(main, ["score", *args, "--quiet"])
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}: "), res.output
    assert "Value error" not in res.output and "_" not in lines[0].split(":")[1], res.output
    assert "Traceback" not in res.output


def _help(*command: str) -> str:
    return " ".join(CliRunner().invoke(main, [*command, "--help"]).output.split())


def test_help_texts_agree_on_layers_bootstrap_and_remote_code():
    score, probe = _help("score"), _help("probe", "run")
    for text in (score, probe):
        assert "layers and ranges like 12 or 8-14" in text
        assert "Bootstrap resamples (at least 10)" in text
    assert "layers and ranges like 12 or 8-14" in _help("activations", "extract")
    assert "--trust-remote-code" in score and "--trust-remote-code" in _help("activations", "extract")
    too_few = CliRunner().invoke(main, ["score", "--bootstrap", "5"])
    assert too_few.exit_code != 0 and "--bootstrap" in too_few.output
