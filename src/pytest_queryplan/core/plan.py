"""The plan model: ``EXPLAIN (FORMAT JSON)`` output turned into a walkable tree.

This module owns parsing (:func:`parse_plan`), the node type (:class:`PlanNode`), the
whole-plan queries the matchers build on (:class:`Plan`), and the psql-style one-line
label of a node. It is pure: stdlib only, no pytest, Django or database driver.

Plans can be huge (a generated query with tens of thousands of nodes), so the per-node
cost is kept to one small object: every field is read lazily from the node's own JSON
dict, which is kept by reference, and both parsing and walking are iterative.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from pytest_queryplan.core.render import render

__all__ = ["Plan", "PlanNode", "parse_plan"]

# Node types that read an index. In JSON the parallel and backward forms keep these base
# names and say so in "Parallel Aware" / "Scan Direction" instead.
INDEX_SCAN_TYPES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})

# The key each kind of scan uses for the object it reads, in ExplainTargetRel's order.
_TARGET_KEYS = (
    "Relation Name",
    "Function Name",
    "CTE Name",
    "Tuplestore Name",
    "Table Function Name",
)

_AGG_NAMES = {
    "Plain": "Aggregate",
    "Sorted": "GroupAggregate",
    "Hashed": "HashAggregate",
    "Mixed": "MixedAggregate",
}

# psql prints "Hash Left Join" but "Hash Join" for inner joins; the stem is what precedes
# the join type.
_JOIN_STEMS = {"Nested Loop": "Nested Loop", "Hash Join": "Hash", "Merge Join": "Merge"}

_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*\Z")

# Keywords PostgreSQL's quote_identifier() wraps in quotes (every keyword that is not
# unreserved). Only labels use this, so a rare miss costs a pair of quotes, nothing more.
_QUOTED_KEYWORDS = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization between bigint
    binary bit boolean both case cast char character check coalesce collate collation
    column concurrently constraint create cross current_catalog current_date current_role
    current_schema current_time current_timestamp current_user dec decimal default
    deferrable desc distinct do else end except exists extract false fetch float for
    foreign freeze from full grant greatest group grouping having ilike in initially inner
    inout int integer intersect interval into is isnull join json json_array
    json_arrayagg json_exists json_object json_objectagg json_query json_scalar
    json_serialize json_table json_value lateral leading least left like limit localtime
    localtimestamp merge_action national natural nchar none normalize not notnull null
    nullif numeric offset on only or order out outer overlaps overlay placing position
    precision primary real references returning right row select session_user setof
    similar smallint some substring symmetric system_user table tablesample then time
    timestamp to trailing treat trim true union unique user using values varchar variadic
    verbose when where window with xmlattributes xmlconcat xmlelement xmlexists xmlforest
    xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
    """.split()
)


def quote_identifier(name: str) -> str:
    """Quote ``name`` the way EXPLAIN's text format does, so labels read like psql's."""
    if _PLAIN_IDENTIFIER.match(name) and name not in _QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


class PlanNode:
    """One node of a plan. Fields are read from :attr:`raw` on access, never copied.

    Equality and hashing are by identity (the ``object`` defaults), so nodes can key the
    ``marks`` mapping the renderer takes even when two nodes have identical JSON.
    """

    __slots__ = ("raw", "parent", "depth", "children")

    raw: dict[str, Any]
    parent: PlanNode | None
    depth: int
    children: list[PlanNode]

    def __init__(self, raw: dict[str, Any], parent: PlanNode | None = None, depth: int = 0) -> None:
        self.raw = raw
        self.parent = parent
        self.depth = depth
        self.children = []

    def __repr__(self) -> str:
        return f"<PlanNode {self.label!r} depth={self.depth}>"

    @property
    def node_type(self) -> str:
        return self.raw["Node Type"]

    @property
    def relation_name(self) -> str | None:
        return self.raw.get("Relation Name")

    @property
    def schema(self) -> str | None:
        return self.raw.get("Schema")

    @property
    def index_name(self) -> str | None:
        return self.raw.get("Index Name")

    @property
    def alias(self) -> str | None:
        return self.raw.get("Alias")

    @property
    def filter(self) -> str | None:
        return self.raw.get("Filter")

    @property
    def index_cond(self) -> str | None:
        return self.raw.get("Index Cond")

    @property
    def recheck_cond(self) -> str | None:
        return self.raw.get("Recheck Cond")

    @property
    def startup_cost(self) -> float | None:
        return _float_or_none(self.raw.get("Startup Cost"))

    @property
    def total_cost(self) -> float | None:
        return _float_or_none(self.raw.get("Total Cost"))

    @property
    def plan_rows(self) -> float | None:
        return _float_or_none(self.raw.get("Plan Rows"))

    @property
    def parent_relationship(self) -> str | None:
        return self.raw.get("Parent Relationship")

    @property
    def subplan_name(self) -> str | None:
        return self.raw.get("Subplan Name")

    @property
    def is_index_scan(self) -> bool:
        """True for Index Scan, Index Only Scan and Bitmap Index Scan, in every form."""
        return self.raw["Node Type"] in INDEX_SCAN_TYPES

    @property
    def label(self) -> str:
        """The node's line as psql's text EXPLAIN prints it, without the cost part."""
        raw = self.raw
        node_type = raw["Node Type"]
        name = node_type
        if node_type == "Aggregate":
            name = _AGG_NAMES.get(raw.get("Strategy", "Plain"), "Aggregate")
            mode = raw.get("Partial Mode")
            if mode == "Partial" or mode == "Finalize":
                name = f"{mode} {name}"
        elif node_type in _JOIN_STEMS:
            join_type = raw.get("Join Type", "Inner")
            if join_type != "Inner":
                name = f"{_JOIN_STEMS[node_type]} {join_type} Join"
        elif node_type == "ModifyTable":
            name = raw.get("Operation") or node_type
        elif node_type == "SetOp":
            name = "HashSetOp" if raw.get("Strategy") == "Hashed" else "SetOp"
            if raw.get("Command"):
                name = f"{name} {raw['Command']}"
        elif node_type == "Foreign Scan":
            operation = raw.get("Operation")
            if operation and operation != "Select":
                name = f"Foreign {operation}"
        elif node_type == "Custom Scan" and raw.get("Custom Plan Provider"):
            name = f"Custom Scan ({raw['Custom Plan Provider']})"

        parts = []
        if raw.get("Parallel Aware"):
            parts.append("Parallel ")
        if raw.get("Async Capable"):
            parts.append("Async ")
        parts.append(name)
        index_name = raw.get("Index Name")
        if index_name is not None:
            if node_type == "Bitmap Index Scan":
                parts.append(f" on {quote_identifier(index_name)}")
            else:
                if raw.get("Scan Direction") == "Backward":
                    parts.append(" Backward")
                parts.append(f" using {quote_identifier(index_name)}")
        if "Alias" in raw:
            parts.append(" on")
            target = None
            for key in _TARGET_KEYS:
                target = raw.get(key)
                if target is not None:
                    break
            schema = raw.get("Schema")
            if target is not None and schema is not None:
                parts.append(f" {quote_identifier(schema)}.{quote_identifier(target)}")
            elif target is not None:
                parts.append(f" {quote_identifier(target)}")
            alias = raw["Alias"]
            if target is None or alias != target:
                parts.append(f" {quote_identifier(alias)}")
        return "".join(parts)


class Plan:
    """A parsed plan: the root node, the top-level JSON, and queries over all nodes."""

    root: PlanNode
    raw: dict[str, Any]

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.root, self._order = _build(raw["Plan"])

    def __repr__(self) -> str:
        return f"<Plan {self.root.label!r} nodes={len(self._order)}>"

    @property
    def planning_time(self) -> float | None:
        """Milliseconds; present only with ``EXPLAIN (ANALYZE)``."""
        return _float_or_none(self.raw.get("Planning Time"))

    @property
    def execution_time(self) -> float | None:
        """Milliseconds; present only with ``EXPLAIN (ANALYZE)``."""
        return _float_or_none(self.raw.get("Execution Time"))

    def nodes(self) -> Iterator[PlanNode]:
        """Every node, depth-first pre-order: root first, children in plan order."""
        return iter(self._order)

    @cached_property
    def index_names(self) -> frozenset[str]:
        """Every index any node scans (partitions' indexes included)."""
        return frozenset(
            name for node in self._order if (name := node.raw.get("Index Name")) is not None
        )

    @cached_property
    def tables(self) -> frozenset[str]:
        """Every relation a scan node reads. A ModifyTable's target alone does not count:
        an INSERT writes its table without reading it."""
        return frozenset(
            name
            for node in self._order
            if (name := node.raw.get("Relation Name")) is not None
            and node.raw["Node Type"] != "ModifyTable"
        )

    def uses_index(self, name: str) -> bool:
        return name in self.index_names

    def find(
        self,
        node_type: str | None = None,
        relation: str | None = None,
        index: str | None = None,
    ) -> list[PlanNode]:
        """Nodes matching every given criterion, in :meth:`nodes` order.

        ``node_type`` is the base type JSON reports, so "Index Scan" also finds parallel
        and backward index scans, and "Aggregate" finds HashAggregate.
        """
        found = []
        for node in self._order:
            raw = node.raw
            if node_type is not None and raw["Node Type"] != node_type:
                continue
            if relation is not None and raw.get("Relation Name") != relation:
                continue
            if index is not None and raw.get("Index Name") != index:
                continue
            found.append(node)
        return found

    def render(self, marks: Mapping[PlanNode, str] | None = None, verbose: bool = False) -> str:
        """The plan as an indented tree like psql's (:func:`.render.render`)."""
        return render(self, marks=marks, verbose=verbose)


def _build(top: Any) -> tuple[PlanNode, list[PlanNode]]:
    """Link every node to its parent and children; return the root and pre-order list.

    A stack instead of recursion, so a 100,000-deep plan cannot hit the recursion limit.
    Popping from the end and pushing children reversed visits them in pre-order, so the
    walk order is recorded here once and :meth:`Plan.nodes` is just an iterator over it.
    """
    if not isinstance(top, dict) or "Node Type" not in top:
        raise ValueError(
            f'EXPLAIN output\'s "Plan" must be a node object with a "Node Type", got {_show(top)}'
        )
    with _gc_paused():
        return _link(top)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a plan's objects are allocated.

    Allocating 100,000 nodes would otherwise trigger many full passes over the whole
    JSON tree, costing more than the allocations themselves. Nothing made meanwhile is
    garbage until the plan is dropped, so the pause loses nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _link(top: dict[str, Any]) -> tuple[PlanNode, list[PlanNode]]:
    # Nodes are made with __new__ and plain stores: a Python-level __init__ call per node
    # was a third of the parse time.
    new = PlanNode.__new__
    root = new(PlanNode)
    root.raw = top
    root.parent = None
    root.depth = 0
    order: list[PlanNode] = []
    add = order.append
    stack = [root]
    pop = stack.pop
    extend = stack.extend
    try:
        while stack:
            node = pop()
            add(node)
            kids: list[PlanNode] = []
            node.children = kids
            subplans = node.raw.get("Plans")
            if subplans:
                depth = node.depth + 1
                append = kids.append
                for sub in subplans:
                    kid = new(PlanNode)
                    kid.raw = sub
                    kid.parent = node
                    kid.depth = depth
                    append(kid)
                extend(reversed(kids))
    except (AttributeError, TypeError):
        # A malformed child fails on .get() or iteration; one check here beats one per node.
        if isinstance(node.raw, dict):
            problem = f'a "Plans" value that is not a list: {_show(node.raw.get("Plans"))}'
        else:
            problem = f'an entry in "Plans" that is not a node object: {_show(node.raw)}'
        raise ValueError(f"EXPLAIN output has {problem}") from None
    return root, order


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(value).__name__} {text}"


_EXPECTED = (
    "expected EXPLAIN (FORMAT JSON) output: the list psycopg returns, its JSON text "
    '(str or bytes, as Django\'s explain(format="json") returns), or the {"Plan": ...} dict'
)


def parse_plan(explain_output: Any) -> Plan:
    """Parse ``EXPLAIN (FORMAT JSON)`` output into a :class:`Plan`.

    Accepts the list psycopg returns, its JSON text as ``str`` or ``bytes`` (what
    Django's ``queryset.explain(format="json")`` returns), or the single top dict
    ``{"Plan": {...}, ...}``. Anything else raises ``ValueError`` saying what came in.
    """
    data = explain_output
    if isinstance(data, (str, bytes, bytearray)):
        try:
            with _gc_paused():
                data = json.loads(data)
        except ValueError:
            text = data.decode(errors="replace") if not isinstance(data, str) else data
            hint = ""
            if "->" in text or " on " in text or "cost=" in text:
                hint = " (it looks like text-format EXPLAIN; ask for FORMAT JSON)"
            raise ValueError(
                f"{_EXPECTED}; got text that is not JSON{hint}: {_show(text)}"
            ) from None
    if isinstance(data, list):
        if len(data) != 1:
            raise ValueError(f"{_EXPECTED}; got a list of {len(data)} items: {_show(data)}")
        data = data[0]
    if not isinstance(data, dict) or "Plan" not in data:
        raise ValueError(f"{_EXPECTED}; got {_show(explain_output)}")
    return Plan(data)
