"""The pipeline package's layout: one job per module, short functions, and no old module left behind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "benchmark" / "truthstab"
PIPELINE = PACKAGE / "pipeline"
#: The longest function the pipeline may have: a stage that does not fit is two stages.
MAX_LINES = 60


def _functions(path: Path) -> list[tuple[str, int]]:
    """(qualified name, lines from its first decorator to its last line) of every function in ``path``,
    nested functions and methods included."""
    out = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                out.append((f"{prefix}{child.name}", child.end_lineno - start + 1))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return out


MODULES = sorted(PIPELINE.glob("*.py"))


def test_the_pipeline_package_exists():
    names = {p.stem for p in MODULES}
    assert {"config", "score", "probe", "extract", "inputs"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_function_is_longer_than_the_limit(path):
    long = {name: n for name, n in _functions(path) if n > MAX_LINES}
    assert not long, f"{path.name}: functions over {MAX_LINES} lines: {long}"


def test_the_line_counter_counts_decorators_and_nested_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "@a\n@b\ndef f():\n    def g():\n        pass\n    return g\n\nclass C:\n    def m(self):\n        pass\n"
    )
    assert _functions(source) == [("f", 6), ("f.g", 2), ("C.m", 2)]


@pytest.mark.parametrize("old", ["scoring.py", "probe_run.py", "probe_inputs.py", "activations/run.py"])
def test_the_old_pipeline_modules_are_gone(old):
    # They moved into pipeline/; a shim left behind would be a second way in.
    assert not (PACKAGE / old).exists()
