"""The architecture of zoo/, checked from the source: imports flow one way and never in a circle.

    commands -> page -> inference -> hub -> engine -> shared helpers (errors, files, outputs, native_logs)
    commands -> lab -> engine
    zoo -> recipes -> layers, datasets

Every `import` and `from ... import` counts, also the ones inside functions
(the zoo imports TensorFlow lazily, and a lazy import is still a dependency).
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Which packages each package of zoo/ may import (besides itself).
ALLOWED = {
    "shared": set(),
    "engine": {"shared"},
    "hub": {"engine", "shared"},
    "inference": {"hub", "engine", "shared"},
    "lab": {"engine", "shared"},
    "page": {"hub", "inference", "engine", "shared"},
    "commands": {"lab", "hub", "page", "inference", "engine", "shared", "api"},
    "api": {"lab", "hub", "inference", "engine", "shared"},
}


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts == ["zoo"]:
        return "api"
    if parts[1] in ("errors", "files", "outputs", "native_logs"):
        return "shared"
    if parts[1] == "__main__":
        return "commands"
    return parts[1]


def zoo_modules() -> dict:
    modules = {}
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def imports_of(path: pathlib.Path, modules: dict) -> set:
    """The zoo modules `path` imports anywhere in its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name.startswith("zoo"):
                found.add(name)
    return found


GRAPH = {name: imports_of(path, zoo_modules()) - {name} for name, path in zoo_modules().items()}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_flow_one_way(module):
    mine = package_of(module)
    wrong = sorted(
        target for target in GRAPH[module]
        if package_of(target) != mine and package_of(target) not in ALLOWED[mine] and target != "zoo"
    )
    assert wrong == [], f"{module} ({mine}) may not import {wrong}"


def test_no_command_imports_another_command():
    commands = {name for name in GRAPH if name.startswith("zoo.commands.") and name not in ("zoo.commands.options",)}
    crossing = {name: sorted(GRAPH[name] & commands - {"zoo.commands.cli"}) for name in commands if name != "zoo.commands.cli"}
    assert {name: targets for name, targets in crossing.items() if targets} == {}


def test_no_import_circle():
    def visit(node, path):
        if node in path:
            return path[path.index(node):] + [node]
        for target in sorted(GRAPH.get(node, ())):
            if target.startswith(("zoo.commands", "zoo.__main__")) or target == "zoo":
                continue  # The API and the CLI sit on top: what they import is checked above.
            circle = visit(target, path + [node])
            if circle:
                return circle
        return None

    for module in sorted(GRAPH):
        if module == "zoo" or module.startswith("zoo.commands"):
            continue
        assert visit(module, []) is None, f"import circle: {' -> '.join(visit(module, []))}"


def test_layers_datasets_and_recipes_import_nothing_of_zoo():
    for folder in ("layers", "datasets", "recipes"):
        for path in sorted((ROOT / folder).glob("*.py")):
            tree = ast.parse(path.read_text())
            names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
            names += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
            assert not [name for name in names if name == "zoo" or name.startswith("zoo.")], path


@pytest.mark.parametrize("folder", ["zoo", "recipes"])
def test_no_module_switches_the_matplotlib_backend(folder):
    """Plots are drawn on matplotlib.figure.Figure: a notebook's inline figures survive a run."""
    offenders = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Call) and ast.unparse(node.func) == "matplotlib.use":
                names = ["matplotlib.use()"]
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names if name in ("matplotlib.pyplot", "matplotlib.use()")]
    assert offenders == []
