"""The code's shape: no import cycle anywhere, and training's sub-packages import downwards only."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Where each top-level package of the repository lives (lambda/ is put on sys.path by pyproject.toml).
ROOTS = {"training": REPO / "training", "stacks": REPO / "stacks", "ntm_glue": REPO / "lambda" / "ntm_glue",
         "ntm_client": REPO / "ntm_client", "tests": REPO / "tests"}
# A training sub-package may import itself and those after it here, never those before it.
LAYERS = ("reporting", "evaluation", "similarity", "serving", "preparation", "formats", "common")


def module_files() -> dict[str, Path]:
    modules = {}
    for package, folder in ROOTS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that `name` imports, at module level or inside functions."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules] or [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@functools.lru_cache(maxsize=1)  # parsing the repository once serves every test here
def import_graph() -> dict[str, frozenset[str]]:
    modules = module_files()
    return {name: frozenset(imports_of(name, path, modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]] | dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "training" and len(parts) > 2 and parts[1] in LAYERS else None


def test_the_graph_sees_known_imports():
    graph = import_graph()
    assert "training.formats.recordio" in graph["training.formats.dataset"]
    assert "training.reporting.render" in graph["training.reporting.report"]
    assert "training.preparation.prepare" in graph["training.prepare"]


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_repository():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("package", LAYERS)
def test_training_sub_packages_import_downwards_only(package):
    upward = []
    for module, targets in import_graph().items():
        if layer(module) != package:
            continue
        for target in targets:
            target_layer = layer(target)
            if target.startswith("training.") and target_layer is None and target != "training":
                upward.append(f"{module} -> {target} (an entrypoint)")
            elif target_layer and LAYERS.index(target_layer) < LAYERS.index(package):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_nothing_imports_the_report():
    importers = sorted(
        module for module, targets in import_graph().items()
        if layer(module) != "reporting" and any(layer(target) == "reporting" for target in targets)
        and module != "training.report" and not module.startswith("tests.")
    )
    assert importers == []


def test_every_sub_package_says_what_it_holds():
    for package in LAYERS:
        docstring = ast.get_docstring(ast.parse((REPO / "training" / package / "__init__.py").read_text()))
        assert docstring and len(docstring) > 40, package
