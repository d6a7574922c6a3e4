"""pytest-queryplan: assert PostgreSQL query plans in Django tests."""

from __future__ import annotations

from pytest_queryplan.errors import QueryPlanAssertionError, QueryPlanUsageError

__all__ = ["QueryPlanAssertionError", "QueryPlanUsageError"]
