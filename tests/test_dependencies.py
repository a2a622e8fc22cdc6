"""pyproject.toml declares what src/allianceld imports, and nothing else: every third-party package
the source imports (at module level or inside a function) is a declared dependency, and every
declared dependency is imported by the source."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "allianceld"


def _canonical(name: str) -> str:
    """A distribution name as the registry compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    """The distributions [project].dependencies names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in project["dependencies"]}


def _imported() -> dict[str, set[str]]:
    """Top-level import names of third-party packages in src/allianceld, each with the modules importing it."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "allianceld" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(SRC)))
    return found


@functools.cache
def _installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(import_name: str) -> set[str]:
    """The installed distributions that provide the top-level package ``import_name``."""
    return {_canonical(d) for d in _installed().get(import_name, [])}


def test_every_imported_package_is_declared() -> None:
    declared = _declared()
    undeclared = {name: sorted(modules) for name, modules in _imported().items() if not _distributions(name) & declared}
    assert not undeclared, f"imported by src/allianceld but not in [project].dependencies: {undeclared}"


def test_every_declared_package_is_imported() -> None:
    used = set().union(*(_distributions(name) for name in _imported()))
    unused = sorted(_declared() - used)
    assert not unused, f"declared in [project].dependencies but imported nowhere in src/allianceld: {unused}"


def test_the_check_sees_imports_inside_functions() -> None:
    """reasonable is imported only inside a function (materialise.rl_closure); the check finds it."""
    assert "reasonable" in _imported()
