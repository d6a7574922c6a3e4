"""Plan-shape snapshots (``--queryplan-snapshot``): a marked test's plans reduced to their
shape, compared with a baseline file, and the baselines no collected test produces.

A shape is each plan's node types, relations, indexes and nesting, one node per line in
psql's words (``Index Scan using x on t``); costs and row estimates are left out, so data
volume does not move it. One file per test, under ``<snapshot dir>/<test module>/``, so
xdist workers never write the same file. The SQL is kept in ``#`` comments for readers
and is not compared. No pytest here: ``plugin.py`` calls these from its hooks.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_queryplan.core.text.sql import short_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.plan.tree import Plan

HEADER = "# pytest-queryplan plan shapes: node types, relations, indexes, nesting (no costs)"
SUFFIX = ".plan"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\[\]=-]")


def shape_lines(plan: Plan) -> list[str]:
    lines = []
    for node in plan.nodes():
        label = node.label
        if node.subplan_name:
            label = f"{label}  [{node.subplan_name}]"
        lines.append("  " * node.depth + label)
    return lines


def render(nodeid: str, queries: Sequence[ExplainedQuery]) -> str:
    lines = [HEADER, f"# {nodeid}"]
    for number, query in enumerate(queries, 1):
        lines += ["", f"# {short_sql(query.sql, 200)}", f"query {number}:"]
        if query.plan is None:
            lines.append("  (could not be explained)")
        else:
            lines += ["  " + line for line in shape_lines(query.plan)]
    if not queries:
        lines += ["", "(no queries)"]
    return "\n".join(lines) + "\n"


def compared(text: str) -> list[str]:
    """The lines that make the shape: comments and blank lines are for people."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def path_for(snapshot_dir: Path, nodeid: str) -> Path:
    module, _, name = nodeid.partition("::")
    stem = _UNSAFE.sub("_", name.replace("::", "."))
    if len(stem) > 120:
        stem = stem[:100] + "-" + hashlib.sha1(name.encode()).hexdigest()[:12]
    return snapshot_dir / module.removesuffix(".py") / (stem + SUFFIX)


def _shown(path: Path, rootpath: Path) -> str:
    return str(path.relative_to(rootpath)) if path.is_relative_to(rootpath) else str(path)


def compare(
    nodeid: str,
    queries: Sequence[ExplainedQuery],
    snapshot_dir: Path,
    rootpath: Path,
    update: bool = False,
) -> tuple[str, str | None]:
    """(status, failure text or None); status is match, changed, missing or written."""
    path = path_for(snapshot_dir, nodeid)
    text = render(nodeid, queries)
    baseline = path.read_text() if path.exists() else None
    if baseline is not None and compared(baseline) == compared(text):
        return "match", None
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return "written", None
    shown = _shown(path, rootpath)
    if baseline is None:
        return "missing", (
            f"No plan-shape baseline {shown} for this test.\n"
            "Hint: run with --queryplan-snapshot-update to write it, and commit it."
        )
    diff = difflib.unified_diff(
        compared(baseline), compared(text), f"{shown} (baseline)", "this run", lineterm=""
    )
    return "changed", "\n".join(
        [f"The plan shape changed from the baseline {shown}:", "", *diff, ""]
        + ["Hint: if the new plans are intended, run with --queryplan-snapshot-update."]
    )


def stale(
    snapshot_dir: Path,
    rootpath: Path,
    produced: set[str],
    known: set[str],
    narrowed: Collection[str] = (),
) -> list[str]:
    """Baseline files of the collected test modules that no ``produced`` test writes.

    ``known`` holds every node id collected or deselected: a file belongs to a module only
    when some test of that module was collected, so a narrower run lists nothing else.
    In the ``narrowed`` modules (named with ``::`` on the command line) only some tests
    were collected: there only the files of those tests are judged.
    """
    expected = {path_for(snapshot_dir, nodeid) for nodeid in produced}
    modules = {nodeid.partition("::")[0] for nodeid in known}
    found = []
    for module in sorted(modules):
        if module in narrowed:
            mine = (path_for(snapshot_dir, n) for n in known if n.partition("::")[0] == module)
            found += sorted(p for p in set(mine) if p.is_file() and p not in expected)
            continue
        folder = snapshot_dir / module.removesuffix(".py")
        if folder.is_dir():
            found += [p for p in sorted(folder.glob("*" + SUFFIX)) if p not in expected]
    return [_shown(path, rootpath) for path in found]
