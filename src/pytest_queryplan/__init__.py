"""pytest-queryplan: assert PostgreSQL query plans in Django tests.

The public names: ``parse_plan``, ``Plan``, ``PlanNode``, ``QueryPlanAssertionError``,
``QueryPlanUsageError``, and the fixtures' types ``AssertUsesIndex`` and ``QueryPlan``.
"""

from __future__ import annotations

from typing import Any

from pytest_queryplan.errors import QueryPlanAssertionError, QueryPlanUsageError
from pytest_queryplan.plan import Plan, PlanNode, parse_plan

__all__ = [
    "AssertUsesIndex",
    "Plan",
    "PlanNode",
    "QueryPlan",
    "QueryPlanAssertionError",
    "QueryPlanUsageError",
    "parse_plan",
]


def __getattr__(name: str) -> Any:
    # The fixture types live with the fixtures; import them only when asked for.
    if name in ("AssertUsesIndex", "QueryPlan"):
        from pytest_queryplan import fixtures

        return getattr(fixtures, name)
    raise AttributeError(f"module 'pytest_queryplan' has no attribute {name!r}")
