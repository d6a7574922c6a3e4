"""The package's layers, checked from its source: no import cycles (function-level imports
included), a pure core, and modules small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "pytest_queryplan"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """Every module ``path`` imports when it runs, at any depth, except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for child in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


GRAPH = {
    module_name(path): {
        name
        for name in runtime_imports(path)
        if name.startswith("pytest_queryplan")
        and name in {module_name(p) for p in MODULES}
        and name != "pytest_queryplan"
    }
    for path in MODULES
}


def test_no_import_cycles() -> None:
    def visit(name: str, trail: tuple[str, ...]) -> None:
        for target in GRAPH[name]:
            if target in trail:
                cycle = " -> ".join((*trail[trail.index(target) :], target))
                pytest.fail(f"import cycle: {cycle}")
            visit(target, (*trail, target))

    for name in GRAPH:
        visit(name, (name,))


@pytest.mark.parametrize("path", [p for p in MODULES if "core" in p.parts], ids=lambda p: p.name)
def test_the_core_needs_no_pytest_django_or_driver(path: Path) -> None:
    third_party = {
        name.split(".")[0]
        for name in runtime_imports(path)
        if name.split(".")[0] != "pytest_queryplan"
    }
    assert not third_party & {"pytest", "django", "psycopg", "psycopg2", "_pytest"}
    allowed = {"pytest_queryplan.core", "pytest_queryplan.errors"}
    inner = {name for name in GRAPH[module_name(path)]}
    assert all(any(name.startswith(a) for a in allowed) for name in inner), inner


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_300_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 300


def test_every_hook_lives_in_plugin_py() -> None:
    hooks = {
        str(path.relative_to(PACKAGE))
        for path in MODULES
        if any(
            isinstance(node, ast.FunctionDef) and node.name.startswith("pytest_")
            for node in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert hooks == {"plugin.py"}
