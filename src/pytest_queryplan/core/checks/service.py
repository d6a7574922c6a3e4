"""What it means for a scan of an index to *serve* the query, as facts a dialect fills in.

A scan serves when it narrowed the read by the index (searched it, or delivered ORDER BY
under a LIMIT, or read a partial index whose predicate did the narrowing) and left no
condition on a key column to be checked row by row. How a vendor's plan says so is the
dialect's to read (``dialects/<vendor>/``); the facts and the rule are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.node import PlanNode


@dataclass(frozen=True)
class Cause:
    """Why one key column's condition was left to the Filter. ``kind``: "function" |
    "pattern" | "cast" | "operator" | "other"; ``detail``: the function's name, the operator
    (``<>``, ``<> ALL``, ``~~``, ``OR``), or a cast's ``"integer -> numeric"`` (the target
    type alone when the column's type is unknown)."""

    column: str
    kind: str
    condition: str
    detail: str


@dataclass(frozen=True)
class Service:
    """How one scan of the index served, or did not serve, the query."""

    index_name: str
    node: PlanNode
    heap: PlanNode | None
    index_cond: str | None
    filter: str | None
    keys: tuple[str, ...]
    keys_in_cond: tuple[str, ...]
    keys_in_filter: tuple[str, ...]
    full_walk: bool
    ordered_limit: bool
    partial: bool
    causes: tuple[Cause, ...]
    # An Index Cond without the first key: a btree then reads the whole index (PostgreSQL
    # 18's skip scan can jump between leading values). The rule still counts it as served.
    skips_leading_key: bool = False
    #: The index's access method as the catalog names it ("btree", "gin", ...): which
    #: operators it can search at all.
    method: str = "btree"
    # Asked by the check, filled in by it (``IndexUsed``), not by the dialect's reading:
    #: ordered=: the sort nodes above the scan that re-order its rows, so the index did
    #: not deliver the query's ORDER BY (nearest first).
    sorts: tuple[PlanNode, ...] = ()
    #: ordered=: the statement has no ORDER BY, so there is no order to deliver.
    unordered: bool = False
    #: A whole walk under a LIMIT whose statement has no ORDER BY (``.exists()``): no
    #: order asked for, so the walk delivered nothing (``ordered_limit`` is then False).
    unordered_limit: bool = False
    #: ordered=: the subquery (a SubPlan, an InitPlan, a CTE) whose rows the scan makes:
    #: the statement's ORDER BY is delivered, if at all, by another read.
    order_elsewhere: str | None = None
    #: keys=: the keys asked for that the scan's Index Cond did not search.
    keys_unsearched: tuple[str, ...] = ()
    #: The leading key compared only in a join: where ("<node>: <condition>").
    join_condition: str | None = None
    #: The settings the query was asked again with for that join, when that did not help
    #: ("" when the database refused to ask again).
    retried_with: str | None = None
    #: The condition a parameterised scan could search that key by, when the plan proves
    #: one possible (``"customer_id = upstream_customer.id"``); None where it cannot be
    #: (the preserved side of an outer join, a cast on the key).
    join_searchable: str | None = None
    #: Where the scan sits when its plan has others of the index (a UNION branch, an
    #: InitPlan), as the dialect words it; None for the plan's own scan.
    place: str | None = None

    @property
    def narrowed(self) -> bool:
        """The index narrowed the read, and no key column's condition was left to a Filter."""
        searched = not self.full_walk or self.ordered_limit or self.partial
        return searched and not self.keys_in_filter

    @property
    def asked(self) -> bool:
        """What the check asked beyond serving holds: the order delivered, the keys searched."""
        return (
            not self.sorts
            and not self.unordered
            and not self.order_elsewhere
            and not self.keys_unsearched
        )

    @property
    def serves(self) -> bool:
        return self.narrowed and self.asked
