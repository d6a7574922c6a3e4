"""Pure matchers over parsed plans: which nodes use an index, which nodes are findings."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_queryplan.core.plan import Plan, PlanNode

SEQ_SCAN = "Seq Scan"


def filtered_seq_scans(plan: Plan, allow: Collection[str] = ()) -> list[PlanNode]:
    """Sequential scans carrying a Filter: a WHERE clause that no index served.

    An unfiltered full read (no Filter) is not a finding; tables in ``allow`` are exempt.
    """
    return [
        node
        for node in plan.nodes()
        if node.node_type == SEQ_SCAN and node.filter and node.relation_name not in allow
    ]


def matches_type(node: PlanNode, node_type: str) -> bool:
    """``"Seq Scan"`` matches its parallel form too; ``"Parallel Seq Scan"`` only that form."""
    if node.node_type == node_type:
        return True
    return node_type == f"Parallel {node.node_type}" and bool(node.raw.get("Parallel Aware"))


def relations_under(node: PlanNode) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.relation_name:
            yield current.relation_name
        stack.extend(current.children)


def forbidden_nodes(
    plan: Plan, node_types: Iterable[str], tables: Collection[str] | None = None
) -> list[PlanNode]:
    """Nodes of a forbidden type that concern ``tables`` (all tables when None).

    A node without a relation of its own (Sort, Hash Join) concerns the tables beneath it.
    """
    wanted = list(node_types)
    found = []
    for node in plan.nodes():
        if not any(matches_type(node, node_type) for node_type in wanted):
            continue
        if tables is None or any(name in tables for name in relations_under(node)):
            found.append(node)
    return found
