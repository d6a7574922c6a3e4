"""The package's layers, checked from its source: no import cycle of any kind (function-level
and type-only imports included), a pure core that names no database vendor, one package
per dialect, folders small enough to read, every pytest hook in ``plugin.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "pytest_queryplan"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path, type_only: bool = False) -> set[str]:
    """Every module ``path`` imports when it runs, at any depth; with ``type_only``, the
    imports under TYPE_CHECKING too."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if not type_only and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
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


NAMES = {module_name(p) for p in MODULES}


def graph(type_only: bool) -> dict[str, set[str]]:
    return {
        module_name(path): {
            name
            for name in runtime_imports(path, type_only)
            if name.startswith("pytest_queryplan")
            and name in NAMES
            and name not in ("pytest_queryplan", module_name(path))  # a package's own modules
        }
        for path in MODULES
    }


GRAPH = graph(type_only=False)


@pytest.mark.parametrize("type_only", [False, True], ids=["runtime", "with-type-only"])
def test_no_import_cycles(type_only: bool) -> None:
    edges = graph(type_only)
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        for target in edges[name]:
            if target in trail:
                cycle = " -> ".join((*trail[trail.index(target) :], target))
                pytest.fail(f"import cycle: {cycle}")
            if target not in done:
                visit(target, (*trail, target))
        done.add(name)

    for name in edges:
        visit(name, (name,))


CORE = [p for p in MODULES if p.relative_to(PACKAGE).parts[0] == "core"]
#: A dialect's pure half: what the checks ask, tested with stored plans and no database.
PURE_DIALECT = [
    p
    for p in MODULES
    if p.relative_to(PACKAGE).parts[0] == "dialects"
    and p.stem not in ("backend", "psycopg3", "psycopg2")
    and p.parent != PACKAGE / "dialects"
]
FORBIDDEN_THIRD_PARTY = {"pytest", "django", "psycopg", "psycopg2", "_pytest", "pymysql", "MySQLdb"}


def third_party(path: Path, type_only: bool = False) -> set[str]:
    return {
        name.split(".")[0]
        for name in runtime_imports(path, type_only)
        if name.split(".")[0] != "pytest_queryplan"
    }


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_needs_no_pytest_django_driver_or_dialect(path: Path) -> None:
    assert not third_party(path, type_only=True) & FORBIDDEN_THIRD_PARTY
    allowed = ("pytest_queryplan.core", "pytest_queryplan.errors")
    inner = graph(type_only=True)[module_name(path)]
    assert all(name.startswith(allowed) for name in inner), inner


@pytest.mark.parametrize("path", PURE_DIALECT, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_dialects_plan_side_needs_no_pytest_django_or_driver(path: Path) -> None:
    assert not third_party(path) & FORBIDDEN_THIRD_PARTY


#: Words only PostgreSQL's plans, settings and catalogs use: they belong to its dialect.
POSTGRESQL_WORDS = ("Seq Scan", "enable_seqscan", "pg_get_indexdef", "pg_catalog", "GENERIC_PLAN")


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_dialect_knows_its_vendors_plan_format(path: Path) -> None:
    text = path.read_text()
    assert [word for word in POSTGRESQL_WORDS if word in text] == []


def test_no_folder_holds_more_than_fifteen_modules() -> None:
    folders = {p.parent for p in MODULES}
    sizes = {str(f.relative_to(PACKAGE.parent)): len(list(f.glob("*.py"))) for f in folders}
    assert {folder: n for folder, n in sizes.items() if n > 15} == {}


def test_every_hook_lives_in_plugin_py() -> None:
    """pytest's hooks in ``plugin.py``; the plugin's own hook is specified in
    ``hookspecs.py`` and implemented by the output writers."""
    hooks: dict[str, set[str]] = {}
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("pytest_"):
                hooks.setdefault(node.name, set()).add(str(path.relative_to(PACKAGE)))
    own = hooks.pop("pytest_queryplan_write_report")
    assert own == {"hookspecs.py", "outputs/writers.py"}
    assert set().union(*hooks.values()) == {"plugin.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_imports(path: Path) -> None:
    """Function-level imports are only run when a test reaches them: a module one of them
    names must still exist (a merge once left one pointing at a module that had moved)."""
    import importlib

    for name in runtime_imports(path):
        if name.startswith("pytest_queryplan.") and name not in NAMES:
            parent, _, attribute = name.rpartition(".")
            assert parent in NAMES, f"{module_name(path)} imports {name}, which does not exist"
            assert hasattr(importlib.import_module(parent), attribute) or parent == name, name
