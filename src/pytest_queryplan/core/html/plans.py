"""Plans as the data a report draws: one small dict per node, built from the plan model's
node fields (type, relation, index, conditions, estimates), never from a vendor's text, with
the marks a verdict put on its nodes; a failed check's or a finding's queries with their
SQL, call sites and plans; a snapshot's two shapes as trees with the changed lines marked.

Built on the worker, inside the test's record, only for what failed or was found (and for
changed snapshots): a passing check carries no plan. Pure: stdlib only.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.plan.render import CONDITION_KEYS
from pytest_queryplan.core.text.blocks import mark_text
from pytest_queryplan.core.text.sql import REPORT_LIMIT, capped, collapse, format_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.checks.verdict import Offense, Verdict
    from pytest_queryplan.core.plan.node import PlanNode
    from pytest_queryplan.core.plan.tree import Plan

#: Nodes one plan keeps (the marked ones and their ancestors always): a record stays small
#: whatever the plan; a cut node says how many of its children were left out.
MAX_NODES = 300
#: Queries one failed check or finding keeps (the text lists them all).
MAX_QUERIES = 5
#: A condition's text, past this, is cut (the page shows conditions, not essays).
CONDITION_LIMIT = 400


def clipped(text: str, limit: int = REPORT_LIMIT) -> str:
    """At most ``limit`` characters, its lines kept (a page shows SQL and texts laid out)."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else round(number, 2)


def node_dict(node: PlanNode, mark: str | None, named: str | None) -> dict[str, Any]:
    """One node: what its box shows. Keys with nothing to say are left out."""
    raw = node.raw
    data: dict[str, Any] = {"label": node.label, "type": node.node_type}
    fields = (
        ("relation", node.relation_name),
        ("index", node.index_name),
        ("alias", node.alias),
        ("subplan", node.subplan_name),
        ("rows", _number(node.plan_rows)),
        ("cost", _number(node.total_cost)),
        ("actual_rows", _number(raw.get("Actual Rows"))),
        ("loops", _number(raw.get("Actual Loops"))),
    )
    data.update((key, value) for key, value in fields if value is not None)
    conditions = []
    for key in CONDITION_KEYS:
        value = raw.get(key)
        if value is not None:
            if isinstance(value, list):
                value = ", ".join(str(item) for item in value)
            conditions.append([key, capped(collapse(str(value)), CONDITION_LIMIT)])
    if conditions:
        data["conditions"] = conditions
    if mark:
        data["mark"] = mark.removeprefix("<-- ")
    if named is not None and node.index_name == named:
        data["named"] = True
    return data


def plan_tree(
    plan: Plan,
    marks: Mapping[PlanNode, str] | None = None,
    named: str | None = None,
    limit: int = MAX_NODES,
) -> dict[str, Any]:
    """The plan as nested dicts (``children``), at most ``limit`` nodes plus every marked
    node and its ancestors. Iterative: a deep plan cannot hit the recursion limit."""
    marks = marks or {}
    keep: set[int] = set()
    for node in marks:
        walk: PlanNode | None = node
        while walk is not None and id(walk) not in keep:
            keep.add(id(walk))
            walk = walk.parent
    root = plan.root
    top = node_dict(root, marks.get(root), named)
    kept = 1
    stack: list[tuple[PlanNode, dict[str, Any]]] = [(root, top)]
    while stack:
        node, data = stack.pop()
        kids, cut = [], 0
        for child in node.children:
            if kept < limit or id(child) in keep:
                kept += 1
                child_data = node_dict(child, marks.get(child), named)
                kids.append(child_data)
                stack.append((child, child_data))
            else:
                cut += 1
        if kids:
            data["children"] = kids
        if cut:
            data["cut"] = cut
    return top


def query_detail(
    query: ExplainedQuery,
    marks: Mapping[PlanNode, str] | None,
    named: str | None,
    rootdir: str,
) -> dict[str, Any]:
    """A query of a failed check or a finding: SQL formatted, call sites, plan drawn."""
    data: dict[str, Any] = {"sql": clipped(format_sql(query.sql))}
    if query.site is not None:
        data["site"] = query.site.relative_to(rootdir).to_dict()
    if query.test_site is not None:
        data["test_site"] = query.test_site.relative_to(rootdir).to_dict()
    if query.plan is not None:
        data["mode"] = query.mode
        data["plan"] = plan_tree(query.plan, marks, named)
    elif query.error:
        data["error"] = query.error.splitlines()[0]
    return data


def verdict_detail(
    verdict: Verdict, text: str, rootdir: str, offenses: Sequence[Offense] | None = None
) -> dict[str, Any]:
    """What a page shows of a failed check or a finding: the verdict's text, the index the
    check names, and its offending queries (``offenses``: a subset) with their plans."""
    name = getattr(verdict.check, "name", None)
    named = name if isinstance(name, str) else None
    chosen = list(verdict.offenses if offenses is None else offenses)
    # The queries with a marked node first: a block's check lists every query it judged,
    # and the reader comes for the one that failed it.
    chosen.sort(key=lambda offense: not offense.marks)
    queries = [
        query_detail(o.query, {m.node: mark_text(m) for m in o.marks}, named, rootdir)
        for o in chosen[:MAX_QUERIES]
    ]
    data: dict[str, Any] = {"text": clipped(text), "queries": queries}
    if named is not None:
        data["index"] = named
    if len(chosen) > MAX_QUERIES:
        data["more_queries"] = len(chosen) - MAX_QUERIES
    return data


def _shape_tree(lines: Sequence[str], changed: set[int]) -> dict[str, Any]:
    """A snapshot file's compared lines as a tree: ``query N:`` under a root, each plan's
    nodes under their query by their two-space indentation."""
    root: dict[str, Any] = {"label": "plans", "children": []}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    for number, line in enumerate(lines):
        depth = (len(line) - len(line.lstrip(" "))) // 2
        node: dict[str, Any] = {"label": line.strip()}
        if number in changed:
            node["change"] = True
        while stack[-1][0] >= depth:
            stack.pop()
        stack[-1][1].setdefault("children", []).append(node)
        stack.append((depth, node))
    return root


def shape_trees(before: Sequence[str], after: Sequence[str]) -> dict[str, Any]:
    """Both sides of a changed snapshot as trees, each line the diff touches marked."""
    removed: set[int] = set()
    added: set[int] = set()
    matcher = difflib.SequenceMatcher(a=list(before), b=list(after), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed.update(range(i1, i2))
            added.update(range(j1, j2))
    return {"before": _shape_tree(before, removed), "after": _shape_tree(after, added)}
