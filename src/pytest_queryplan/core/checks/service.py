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

    @property
    def serves(self) -> bool:
        narrowed = not self.full_walk or self.ordered_limit or self.partial
        return narrowed and not self.keys_in_filter
