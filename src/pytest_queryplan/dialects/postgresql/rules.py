"""The rules that read the plan model's vocabulary (PostgreSQL's own JSON keys: "Index
Cond", "Filter", "Sort", ...): which scans serve, which reads are full, which sorts sit
above a scan. PostgreSQL's plans are in that vocabulary already, and every dialect that
normalises its plans into it (SQLite, MariaDB) reads them with the same rules: one mixin,
not a copy per dialect. Pure: stdlib only.

Order: a plan cannot say whether the statement had an ORDER BY (``... ORDER BY customer_id
LIMIT 1`` walking an index on customer_id gives exactly the plan of ``... LIMIT 1``
without one), so the statement's text answers that, and the plan answers whether a Sort
(or an Incremental Sort, which sorts what the index delivered only in part) re-orders the
scan's rows on their way up.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import TYPE_CHECKING

import pytest_queryplan.dialects.postgresql.conditions as conditions
import pytest_queryplan.dialects.postgresql.vocabulary as vocabulary

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.service import Service
    from pytest_queryplan.core.plan.node import PlanNode
    from pytest_queryplan.core.plan.tree import Plan


#: Node types that sort their input. Gather Merge and Merge Append merge streams that are
#: sorted below them; the sort, when there is one, is the node beneath.
SORTS = frozenset({"Sort", "Incremental Sort"})
# A subplan's rows are not its parent's rows: its order ends there.
_BOUNDARIES = frozenset({"InitPlan", "SubPlan"})

_SQL_TOKEN = re.compile(
    r"""(?P<skip>'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\$(?P<tag>\w*)\$.*?\$(?P=tag)\$)
    |(?P<open>\()|(?P<close>\))|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<space>\s+)|(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def sorts_above(node: PlanNode) -> tuple[PlanNode, ...]:
    """The Sort and Incremental Sort nodes that re-order ``node``'s rows above it, nearest
    first, up to the top of its plan or subplan (an InitPlan's or SubPlan's rows end there)."""
    found = []
    child, parent = node, node.parent
    while parent is not None:
        if parent.node_type in SORTS:
            found.append(parent)
        if child.parent_relationship in _BOUNDARIES:
            break
        child, parent = parent, parent.parent
    return tuple(found)


def _words(sql: str) -> Iterator[tuple[int, str, str]]:
    """Each word of a statement, upper-cased, with its bracket depth and the word just
    before it ("" after punctuation); string literals and comments skipped."""
    depth, previous = 0, ""
    for match in _SQL_TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "word":
            word = match.group().upper()
            yield depth, previous, word
            previous = word
        elif kind == "other":
            previous = ""


def has_order_by(sql: str) -> bool:
    """Whether the statement itself orders its rows: an ORDER BY outside every bracket
    (not a window's, a subquery's or an aggregate's), string literals and comments
    skipped. A UNION's trailing ORDER BY is top-level; ``(SELECT ... ORDER BY ...)`` is not."""
    return any(
        not depth and previous == "ORDER" and word == "BY" for depth, previous, word in _words(sql)
    )


#: Words that keep a subquery whole instead of flattening it into its parent's joins.
_KEPT_WHOLE = frozenset(
    {"DISTINCT", "GROUP", "HAVING", "LIMIT", "OFFSET", "FETCH", "OVER", "WINDOW", "UNION",
     "INTERSECT", "EXCEPT"}
)  # fmt: skip


def keeps_subqueries_whole(sql: str) -> bool:
    """Whether the statement may hold a subquery the planner keeps whole: DISTINCT, GROUP
    BY, a LIMIT, a window, a set operation anywhere, or an ORDER BY inside brackets. Without
    any, an Aggregate, Unique or Sort below a join is the planner's own (a semi join's
    lookup made unique, a merge join's input), not a subquery's."""
    return any(
        word in _KEPT_WHOLE or (depth and previous == "ORDER" and word == "BY")
        for depth, previous, word in _words(sql)
    )


def feeds_a_subplan(node: PlanNode) -> str | None:
    """The InitPlan, SubPlan or CTE (as the plan names it) whose rows ``node`` makes, or
    None when its rows are the statement's own."""
    child, parent = node, node.parent
    while parent is not None:
        if child.parent_relationship in _BOUNDARIES:
            return child.subplan_name or child.parent_relationship
        child, parent = parent, parent.parent
    return None


class ModelRules:
    """The serve, full-read and order rules over the model's vocabulary."""

    def feeds_a_subplan(self, node: PlanNode) -> str | None:
        return feeds_a_subplan(node)

    def walked_index(self, node: PlanNode) -> str | None:
        return vocabulary.walked_index(node)

    def filtered_full_reads(self, plan: Plan, allow: Collection[str]) -> list[PlanNode]:
        return vocabulary.filtered_full_reads(plan, allow)

    def skips_leading_key(self, node: PlanNode, info: IndexInfo) -> bool:
        return conditions.skips_leading_key(node, info)

    def ordered_walk(self, node: PlanNode) -> bool:
        return conditions.ordered_walk(node)

    def walks_to_limit(self, node: PlanNode) -> bool:
        return node.node_type in ("Index Scan", "Index Only Scan") and conditions.under_limit(node)

    def index_scans(self, plan: Plan, names: Collection[str]) -> list[PlanNode]:
        return conditions.index_scans(plan, names)

    def plainly_served(self, node: PlanNode, info: IndexInfo) -> bool:
        return conditions.plainly_served(node, info)

    def serve(
        self, node: PlanNode, info: IndexInfo, column_types: Mapping[str, str] | None = None
    ) -> Service:
        return conditions.service(
            node,
            info.columns,
            partial=info.is_partial,
            column_types=column_types,
            method=info.method,
        )

    def conjuncts(self, text: str | None) -> list[str]:
        return conditions.conjuncts(text)

    def scan_place(self, node: PlanNode) -> str | None:
        return conditions.scan_place(node)

    def sorts_above(self, node: PlanNode) -> tuple[PlanNode, ...]:
        return sorts_above(node)

    def has_order_by(self, sql: str) -> bool:
        return has_order_by(sql)

    def order_lines(self, service: Service, info: IndexInfo) -> list[str]:
        from pytest_queryplan.dialects.postgresql.hints import order_lines

        return order_lines(service, info)
