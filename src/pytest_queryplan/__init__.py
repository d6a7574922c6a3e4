"""pytest-queryplan: assert query plans (PostgreSQL, SQLite, MariaDB) in Django tests.

The public names: ``parse_plan``, ``Plan``, ``PlanNode``, ``QueryPlanAssertionError``,
``QueryPlanUsageError``, and the fixtures' types ``AssertUsesIndex`` and ``QueryPlan``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_queryplan.errors import QueryPlanAssertionError, QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.node import PlanNode
    from pytest_queryplan.core.plan.tree import Plan
    from pytest_queryplan.dialects.postgresql import parse_plan
    from pytest_queryplan.fixtures import AssertUsesIndex, QueryPlan

__all__ = [
    "AssertUsesIndex",
    "Plan",
    "PlanNode",
    "QueryPlan",
    "QueryPlanAssertionError",
    "QueryPlanUsageError",
    "parse_plan",
]


_LAZY = {
    "AssertUsesIndex": "fixtures",
    "QueryPlan": "fixtures",
    "Plan": "core.plan.tree",
    "PlanNode": "core.plan.node",
    "parse_plan": "dialects.postgresql",
}


def __getattr__(name: str) -> Any:
    # Every submodule import runs this package first, the plugin's entry point included:
    # keep it to the exceptions, and import the rest when it is asked for.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_queryplan' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"pytest_queryplan.{module}"), name)
