"""One node of a parsed plan: its fields, read lazily from the node's own JSON dict.

Pure: stdlib only. ``plan.py`` builds the tree of these; this module only describes one.
"""

from __future__ import annotations

from typing import Any

from pytest_queryplan.core.plan.label import node_label

# Node types that read an index. In JSON the parallel and backward forms keep these base
# names and say so in "Parallel Aware" / "Scan Direction" instead.
INDEX_SCAN_TYPES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})


def float_or_none(value: Any) -> float | None:
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
        return float_or_none(self.raw.get("Startup Cost"))

    @property
    def total_cost(self) -> float | None:
        return float_or_none(self.raw.get("Total Cost"))

    @property
    def plan_rows(self) -> float | None:
        return float_or_none(self.raw.get("Plan Rows"))

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
        return node_label(self.raw)
