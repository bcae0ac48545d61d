"""The package's import graph: no cycles (module-level or lazy), and the layering docs/architecture.md
states (pure modules import no stage; the result schema and the board never import the pipeline; only
the command line and the submission queue sit above the pipeline)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "benchmark"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in (ROOT / "truthstab").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """truthstab modules imported anywhere in module ``name`` (lazy imports inside functions included),
    plus the parent packages that importing a submodule runs, except ``name``'s own parents (Python has
    initialised those before ``name`` runs)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("truthstab"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("truthstab")}
    with_parents = set()
    for imported in found:
        parts = imported.split(".")
        with_parents |= {".".join(parts[:i]) for i in range(2, len(parts) + 1)}
    own = name.split(".")
    parents = {".".join(own[:i]) for i in range(1, len(own))}
    return {m for m in with_parents if m in MODULES and m not in parents and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_package_has_no_import_cycle():
    assert len(MODULES) > 50  # the walk found the package
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _reach(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for dep in GRAPH[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


#: The pipeline package: the run configuration and the runs that read it.
PIPELINE = frozenset(m for m in MODULES if m == "truthstab.pipeline" or m.startswith("truthstab.pipeline."))
#: What may import the pipeline: the command line and the submission queue (nothing below it may).
ABOVE_THE_PIPELINE = ("truthstab.cli", "truthstab.commands", "truthstab.submissions")

#: Pure functions and tables that everything may use; they import no stage.
PURE = (
    "truthstab.metrics",
    "truthstab.fitaware",
    "truthstab.seeds",
    "truthstab.errors",
    "truthstab.fileio",
    "truthstab.hub",
)

STAGES = (
    *sorted(PIPELINE),
    "truthstab.protocol",
    "truthstab.activations.extract",
    "truthstab.behaviour.run",
)


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_stage(module):
    assert not _reach(module) & set(STAGES), f"{module} reaches {_reach(module) & set(STAGES)}"


@pytest.mark.parametrize(
    "module", ["truthstab.results", "truthstab.leaderboard.build", "truthstab.leaderboard.render"]
)
def test_the_schema_and_the_board_never_import_the_pipeline(module):
    assert not _reach(module) & set(STAGES), f"{module} reaches {_reach(module) & set(STAGES)}"


@pytest.mark.parametrize("module", ["truthstab.fileio", "truthstab.hub"])
def test_the_helper_layers_import_nothing_of_ours(module):
    assert GRAPH[module] == set(), f"{module} imports {GRAPH[module]}"


def _in(module: str, packages) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_pipeline_package_was_found():
    assert {"truthstab.pipeline.config", "truthstab.pipeline.score"} <= PIPELINE


def test_nothing_below_the_pipeline_imports_it():
    # data/, models/, activations/, probes/, protocol/, behaviour/, metrics, results, leaderboard/ ...
    below = [m for m in MODULES if not _in(m, ("truthstab.pipeline", *ABOVE_THE_PIPELINE))]
    offenders = {m: sorted(_reach(m) & PIPELINE) for m in below if _reach(m) & PIPELINE}
    assert len(below) > 50 and offenders == {}


@pytest.mark.parametrize("module", sorted(PIPELINE))
def test_the_pipeline_imports_nothing_above_it(module):
    above = {m for m in _reach(module) if _in(m, (*ABOVE_THE_PIPELINE, "truthstab.leaderboard"))}
    assert not above, f"{module} reaches {sorted(above)}"


def test_the_configuration_loads_no_stage():
    # The commands import it at module level for their defaults: `truthstab --help` must stay fast.
    assert _reach("truthstab.pipeline.config") <= set(PURE)


def test_importing_the_figures_leaves_pyplot_and_the_backend_alone():
    import subprocess
    import sys

    code = "import truthstab.figures, sys; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
