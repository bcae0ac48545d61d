"""`truthstab results show|compare` on paths that are not result files: one line each, no traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from truthstab.cli import main


def _one_line_error(result) -> str:
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (
        result.output,
        result.exception,
    )
    assert result.output.count("\n") == 1 and result.output.startswith("error: "), result.output
    return result.output


@pytest.mark.parametrize("command", ["show", "compare"])
def test_a_folder_is_refused_with_a_pointer_to_a_result_file_in_it(tmp_path, command):
    run = tmp_path / "org__m" / ("a" * 40) / "tag"
    run.mkdir(parents=True)
    (run / "result.json").write_text("{}")
    args = ["results", command, str(tmp_path)] + ([str(run / "result.json")] if command == "compare" else [])
    line = _one_line_error(CliRunner().invoke(main, args))
    assert f"{tmp_path} is a folder" in line and f"for example {run / 'result.json'}" in line


def test_an_empty_folder_and_an_overlong_name_are_one_line_errors(tmp_path):
    empty = _one_line_error(CliRunner().invoke(main, ["results", "show", str(tmp_path)]))
    assert "is a folder" in empty and "there is no result.json under it" in empty
    long = _one_line_error(CliRunner().invoke(main, ["results", "show", str(tmp_path / ("r" * 300))]))
    assert "File name too long" in long and len(long) < 300
