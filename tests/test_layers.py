"""The package's layers, read from the source: no module imports from a layer above its own or from
a sibling package the table below does not allow, and no two modules import each other (directly or
round a cycle). Imports inside functions count as much as those at the top of a module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "allianceld"

# The first part of a module's name under allianceld -> its layer (1 is the top).
LAYERS = {
    "cli": 1,
    "web": 1,
    "operations": 2,
    "importers": 2,
    "write": 3,
    "validation": 4,
    "reasoning": 4,
    "linking": 4,
    "browse": 4,
    "store": 5,
    "rdf": 6,
    "config": 6,
    "errors": 6,
    "vocab": 6,
    "logs": 6,
    "tokens": 6,
    "forked": 6,
    "collector": 6,
}
# Imports between different parts of one layer that are allowed, each with the reason.
SIBLINGS = {
    ("cli", "web"): "`allianceld serve` starts the web application",
    ("operations", "importers"): "operations.file_writes runs `allianceld import` and POST /import",
}
# The bottom layer's modules are the shared base: they may import one another.
BASE = 6


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in SRC.rglob("*.py"):
        parts = ["allianceld", *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in its text."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in modules else base)
    return {t for t in targets if t in modules and t != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _part(module: str) -> str | None:
    """The layer table's key for ``module``; None for the package itself (``allianceld``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import from a higher layer, or from a sibling part of the same layer not allowed."""
    wrong = []
    for module, targets in graph.items():
        source = _part(module)
        if source is None:
            continue  # the package's __init__ only names the version and the two main classes
        for target in sorted(targets):
            part = _part(target)
            if part is None or part == source:
                continue
            if part not in LAYERS or source not in LAYERS:
                wrong.append(f"{module} -> {target}: {part if part not in LAYERS else source} has no layer")
            elif LAYERS[part] < LAYERS[source]:
                wrong.append(f"{module} -> {target}: layer {LAYERS[part]} is above layer {LAYERS[source]}")
            elif LAYERS[part] == LAYERS[source] != BASE and (source, part) not in SIBLINGS:
                wrong.append(f"{module} -> {target}: {source} and {part} are siblings on layer {LAYERS[part]}")
    return wrong


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: each strongly connected set of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(m) for m in _graph()} - {None}
    assert parts <= set(LAYERS), sorted(parts - set(LAYERS))


def test_no_module_imports_from_above_its_layer_or_a_sibling() -> None:
    assert upward_imports(_graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(_graph()) == []


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        ("allianceld.store.execution", "allianceld.write.gate", "above"),
        ("allianceld.linking.discovery", "allianceld.browse.describe", "siblings"),
    ],
)
def test_the_check_sees_a_wrong_import(source: str, target: str, why: str) -> None:
    graph = {source: {target}, target: set()}
    assert [w for w in upward_imports(graph) if why in w]


def test_the_check_sees_a_cycle() -> None:
    graph = {"allianceld.rdf.a": {"allianceld.rdf.b"}, "allianceld.rdf.b": {"allianceld.rdf.a"}}
    assert cycles(graph) == [["allianceld.rdf.a", "allianceld.rdf.b"]]
