"""PostgreSQL's node vocabulary: which nodes are full reads, which are of a given type,
and the node type names a user may name (``forbid=[...]``): PostgreSQL's own, as EXPLAIN's
JSON reports them and as psql's text prints them, so a misspelled name is an error, never a
check that silently finds nothing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.tree import Plan, PlanNode

SEQ_SCAN = "Seq Scan"
SYSTEM_CATALOG_PREFIX = "pg_"

# explain.c's node names (JSON "Node Type"), PostgreSQL 12 to 18.
NODE_TYPES = frozenset(
    name.strip()
    for name in """
    Result, ProjectSet, ModifyTable, Append, Merge Append, Recursive Union, BitmapAnd,
    BitmapOr, Nested Loop, Merge Join, Hash Join, Seq Scan, Sample Scan, Gather, Gather Merge,
    Index Scan, Index Only Scan, Bitmap Index Scan, Bitmap Heap Scan, Tid Scan, Tid Range Scan,
    Subquery Scan, Function Scan, Table Function Scan, Values Scan, CTE Scan,
    Named Tuplestore Scan, WorkTable Scan, Foreign Scan, Custom Scan, Materialize, Memoize,
    Sort, Incremental Sort, Group, Aggregate, WindowAgg, Unique, SetOp, LockRows, Limit, Hash
    """.split(",")
)
# The names psql's text format prints for some of them.
_LABELS = frozenset(
    {"HashAggregate", "GroupAggregate", "MixedAggregate", "HashSetOp", "Insert", "Update"}
    | {"Delete", "Merge", "Index Scan Backward", "Index Only Scan Backward"}
    | {f"{stem} {kind} Join" for stem in ("Hash", "Merge") for kind in ("Left", "Right", "Full")}
    | {f"{stem} {kind} Join" for stem in ("Hash", "Merge") for kind in ("Semi", "Anti")}
    | {f"Nested Loop {kind} Join" for kind in ("Left", "Right", "Full", "Semi", "Anti")}
)
_PARALLEL = frozenset(f"Parallel {name}" for name in NODE_TYPES | _LABELS)
KNOWN_NAMES = NODE_TYPES | _LABELS | _PARALLEL
_TARGET = re.compile(r" (?:on|using) ")


def is_system_catalog(name: str) -> bool:
    """PostgreSQL's own catalogs: Django's introspection reads them, no project index serves."""
    return name.startswith(SYSTEM_CATALOG_PREFIX)


def check_node_types(names: Iterable[str]) -> None:
    """A usage error for any name PostgreSQL never prints, with its near matches."""
    lowered = {name.lower(): name for name in KNOWN_NAMES}
    for name in names:
        if name in KNOWN_NAMES:
            continue
        close = [lowered[m] for m in difflib.get_close_matches(name.lower(), lowered, n=3)]
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise QueryPlanUsageError(
            f"forbid: {name!r} is not a PostgreSQL plan node type, so it would never match."
            f"{hint} Node types: {', '.join(sorted(NODE_TYPES))} (also psql's names such as "
            "'HashAggregate', 'Hash Left Join', and 'Parallel ...' forms)."
        )


def walked_index(node: PlanNode) -> str | None:
    """The index ``node`` reads whole (no Index Cond): its own for an Index / Index Only
    Scan, a Bitmap Index Scan's beneath a Bitmap Heap Scan (through BitmapAnd/BitmapOr)."""
    if node.node_type in ("Index Scan", "Index Only Scan"):
        return None if node.index_cond else node.index_name
    if node.node_type != "Bitmap Heap Scan":
        return None
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.node_type == "Bitmap Index Scan" and not child.index_cond:
            return child.index_name
        if child.node_type in ("BitmapAnd", "BitmapOr"):
            stack.extend(child.children)
    return None


def filtered_full_reads(plan: Plan, allow: Collection[str] = ()) -> list[PlanNode]:
    """Seq Scans with a Filter, and scans that read an index whole (``walked_index``)
    with a Filter (whatever the LIMIT), except on the tables named in ``allow``."""
    allowed = {allow} if isinstance(allow, str) else set(allow)
    return [
        node
        for node in plan.nodes()
        if node.filter is not None
        and node.relation_name not in allowed
        and (node.node_type == "Seq Scan" or walked_index(node) is not None)
    ]


#: ``forbid=[name]`` entries that stand for a family of nodes: "Sort" is every node that
#: sorts (an Incremental Sort sorts too, finishing what an index began; PostgreSQL 16+
#: picks it where 15 printed a Sort, so a check on "Sort" alone would pass on one and fail
#: on the other). "Incremental Sort" still names only that node.
FAMILIES = {"Sort": frozenset({"Sort", "Incremental Sort"})}


def matches_type(node: PlanNode, node_type: str) -> bool:
    """``"Seq Scan"`` matches its parallel form too; ``"Parallel Seq Scan"`` only that form;
    ``"Sort"`` every sort (Sort and Incremental Sort).

    psql's names match too: ``"HashAggregate"``, ``"Hash Left Join"``, ``"Index Scan
    Backward"``.
    """
    if node.node_type == node_type or node.node_type in FAMILIES.get(node_type, ()):
        return True
    kind = _TARGET.split(node.label, maxsplit=1)[0].removeprefix("Async ")
    return node_type in (kind, kind.removeprefix("Parallel "))
