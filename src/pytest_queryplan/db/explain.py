"""EXPLAIN through a backend: one statement, or every query a block captured.

The Django side of the pipeline: a backend runs the EXPLAIN, ``core.plan`` parses it, and
the plan is attached to the :class:`ExplainedQuery` the checks judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.backends import get_backend
from pytest_queryplan.backends.base import ExplainError
from pytest_queryplan.core.modes import Mode
from pytest_queryplan.core.plan import Plan, parse_plan
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.backends.base import Backend
    from pytest_queryplan.core.query import ExplainedQuery
    from pytest_queryplan.db.plancache import PlanCache


def explain_sql(
    backend: Backend,
    sql: str,
    params: Any,
    *,
    mode: Mode,
    analyze: bool = False,
    analyze_tables: bool = False,
    hide: Sequence[str] = (),
    create: Sequence[str] = (),
) -> Plan:
    """EXPLAIN one statement on ``backend``; the session is left exactly as it was."""
    forced = mode == Mode.FORCED
    generic = mode == Mode.GENERIC
    try:
        raw = backend.explain(
            sql, params, forced=forced, generic=generic, analyze=analyze, hide=hide, create=create
        )
        plan = parse_plan(raw)
        if analyze_tables and mode == Mode.NATURAL and plan.tables:
            # Statistics first (inside the same throw-away savepoint), then the real plan.
            raw = backend.explain(
                sql, params, forced=False, analyze=analyze, analyze_tables=sorted(plan.tables)
            )
            plan = parse_plan(raw)
    except ExplainError as exc:
        raise QueryPlanUsageError(
            f"PostgreSQL could not EXPLAIN the query: {exc}\nSQL: {' '.join(sql.split())}"
        ) from None
    return plan


def explain_captured(
    captured: Sequence[ExplainedQuery],
    *,
    mode: Mode,
    analyze_tables: bool = False,
    cache: PlanCache | None = None,
) -> None:
    """Fill in ``plan`` (or ``error``) of every captured query, through ``cache`` if given."""
    backends: dict[str, Backend] = {}
    for query in captured:
        query.mode = mode
        backend = backends.get(query.using)
        if backend is None:
            backend = backends[query.using] = get_backend(query.using)

        def run(query: ExplainedQuery = query, backend: Backend = backend) -> Plan:
            return explain_sql(
                backend, query.sql, query.params, mode=mode, analyze_tables=analyze_tables
            )

        try:
            query.plan = run() if cache is None else cache.plan(query, mode, analyze_tables, run)
        except QueryPlanUsageError as exc:
            query.error = str(exc)
