"""Whether an index delivers the query's order: the sort nodes above a scan, and whether
the statement asks for an order at all (a top-level ORDER BY).

A plan cannot say whether the statement had an ORDER BY: ``... ORDER BY customer_id
LIMIT 1`` walking an index on customer_id gives exactly the plan of ``... LIMIT 1``
without one. So the statement's text answers that, and the plan answers whether a Sort
(or an Incremental Sort, which sorts what the index delivered only in part) re-orders the
scan's rows on their way up. Pure: stdlib only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.node import PlanNode

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


def has_order_by(sql: str) -> bool:
    """Whether the statement itself orders its rows: an ORDER BY outside every bracket
    (not a window's, a subquery's or an aggregate's), string literals and comments
    skipped. A UNION's trailing ORDER BY is top-level; ``(SELECT ... ORDER BY ...)`` is not."""
    depth, previous = 0, ""
    for match in _SQL_TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "word":
            word = match.group().upper()
            if depth == 0 and previous == "ORDER" and word == "BY":
                return True
            previous = word
            continue
        elif kind == "other":
            previous = ""
    return False


def missing_order(sort: PlanNode) -> tuple[str, ...]:
    """The sort keys the index did not deliver: an Incremental Sort's keys after its
    Presorted Key, every key of a Sort."""
    keys = tuple(sort.raw.get("Sort Key") or ())
    presorted = sort.raw.get("Presorted Key") or ()
    return keys[len(presorted) :]
