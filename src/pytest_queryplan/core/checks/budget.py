"""Query budgets: at most N statements per connection in a test body (``max_queries=``).

Counted from the captured SQL alone (no EXPLAIN): every statement the body sent, except
transaction control (savepoints, ``SET``), which Django adds on its own. An excess is
reported grouped by statement *shape* (values taken out) with the call sites that ran it,
so the repeated statement that blew the budget is the first line. Pure: stdlib only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pytest_queryplan.core.report.callsite import CallSite
from pytest_queryplan.core.report.nplusone import is_control
from pytest_queryplan.errors import QueryPlanUsageError


@dataclass(frozen=True)
class ShapeCount:
    """One statement shape: how often it ran, and from where (call site, runs)."""

    shape: str
    count: int
    sites: tuple[tuple[CallSite | None, int], ...]


@dataclass(frozen=True)
class Excess:
    """A budget that was exceeded on connection ``using``."""

    limit: int
    using: str
    count: int
    shapes: tuple[ShapeCount, ...]


def check_limit(value: object, where: str) -> int:
    """A budget must be a whole number of statements, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QueryPlanUsageError(
            f"{where} takes a whole number of queries (0 or more), not {value!r}."
        )
    return value


def over_budget(
    statements: Iterable[tuple[str, CallSite | None]],
    limit: int,
    using: str,
    shape_of: Callable[[str], str],
) -> Excess | None:
    """The excess of ``statements`` (SQL, call site) run on ``using`` over ``limit``, or
    None when they fit. Shapes are listed most-run first, then in the order first run."""
    by_shape: dict[str, Counter[CallSite | None]] = {}
    total = 0
    for sql, site in statements:
        if is_control(sql):
            continue
        total += 1
        by_shape.setdefault(shape_of(sql), Counter())[site] += 1
    if total <= limit:
        return None
    shapes = [
        ShapeCount(shape, sum(sites.values()), tuple(sites.most_common()))
        for shape, sites in by_shape.items()
    ]
    shapes.sort(key=lambda found: -found.count)  # stable: ties keep the order first run
    return Excess(limit, using, total, tuple(shapes))
