"""The plan model: ``EXPLAIN (FORMAT JSON)`` output turned into a walkable tree.

This module owns parsing (:func:`parse_plan`) and the whole-plan queries the matchers
build on (:class:`Plan`); the node type is ``node.py``'s, a node's psql-style one-line
label ``labels.py``'s. It is pure: stdlib only, no pytest, Django or database driver.

Plans can be huge (a generated query with tens of thousands of nodes), so the per-node
cost is kept to one small object: every field is read lazily from the node's own JSON
dict, which is kept by reference, and both parsing and walking are iterative.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from pytest_queryplan.core.plan.label import quote_identifier
from pytest_queryplan.core.plan.node import PlanNode, float_or_none
from pytest_queryplan.core.plan.render import render

__all__ = ["Plan", "PlanNode", "parse_plan", "quote_identifier"]


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
        return float_or_none(self.raw.get("Planning Time"))

    @property
    def execution_time(self) -> float | None:
        """Milliseconds; present only with ``EXPLAIN (ANALYZE)``."""
        return float_or_none(self.raw.get("Execution Time"))

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

    @cached_property
    def derived(self) -> dict[str, Any]:
        """Facts a check derived from this plan and the catalog, kept for as long as the plan
        is (the plan cache drops a plan when a test's DDL may change what they say), so a
        plan explained once is judged once."""
        return {}

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
