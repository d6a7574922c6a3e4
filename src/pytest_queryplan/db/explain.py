"""EXPLAIN through a backend: one statement, or every query a block captured.

The Django side of the pipeline: a backend runs its dialect's EXPLAIN, the dialect parses
it, and the plan is attached to the :class:`ExplainedQuery` the checks judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.dialects import get_backend
from pytest_queryplan.dialects.base import ExplainError
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.plan.tree import Plan
    from pytest_queryplan.db.plancache import PlanCache
    from pytest_queryplan.dialects.base import Backend


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
    settings: Sequence[str] = (),
) -> Plan:
    """EXPLAIN one statement on ``backend``; the session is left exactly as it was."""
    dialect = backend.dialect
    dialect.check_mode(mode)
    try:
        raw = backend.explain(
            sql, params, mode=mode, analyze=analyze, hide=hide, create=create, settings=settings
        )
        plan = dialect.parse(raw, sql)
        if analyze_tables and mode == Mode.NATURAL and plan.tables:
            # Statistics first (inside the same throw-away savepoint), then the real plan.
            tables = sorted(plan.tables)
            raw = backend.explain(sql, params, mode=mode, analyze=analyze, analyze_tables=tables)
            plan = dialect.parse(raw, sql)
    except ExplainError as exc:
        raise QueryPlanUsageError(
            f"{dialect.title} could not EXPLAIN the query: {exc}\nSQL: {' '.join(sql.split())}"
        ) from None
    return plan


def _explain_together(
    captured: Sequence[ExplainedQuery],
    mode: Mode,
    cache: PlanCache | None,
    backends: dict[str, Backend],
) -> set[int]:
    """Explain what the cache cannot answer in one go per connection; return the ids of
    the queries already looked up in the cache (and counted there)."""
    by_alias: dict[str, list[ExplainedQuery]] = {}
    looked_up = set()
    for query in captured:
        query.mode = mode
        known = None
        if cache is not None:
            known = cache.lookup(query, mode, False)
            looked_up.add(id(query))
        if known is not None:
            query.plan = known
        else:
            by_alias.setdefault(query.using, []).append(query)
    for alias, queries in by_alias.items():
        backend = backends.get(alias) or backends.setdefault(alias, get_backend(alias))
        items = [(query.sql, query.params) for query in queries]
        raws = backend.explain_many(items, mode=mode)
        if raws is None:
            continue
        for query, raw in zip(queries, raws, strict=True):
            query.plan = backend.dialect.parse(raw, query.sql)
            if cache is not None:
                cache.store(query, mode, False, query.plan)
    return looked_up


def explain_captured(
    captured: Sequence[ExplainedQuery],
    *,
    mode: Mode,
    analyze_tables: bool = False,
    cache: PlanCache | None = None,
) -> None:
    """Fill in ``plan`` (or ``error``) of every captured query, through ``cache`` if given.

    The queries the cache cannot answer go to the server together where the driver allows
    (one round trip for a whole test on psycopg 3); any failure among them, and the modes
    that need more than a plain EXPLAIN, are explained one by one.
    """
    backends: dict[str, Backend] = {}
    looked_up: set[int] = set()
    if not analyze_tables:
        looked_up = _explain_together(captured, mode, cache, backends)
    for query in captured:
        if query.plan is not None:
            continue
        query.mode = mode
        backend = backends.get(query.using)
        if backend is None:
            backend = backends[query.using] = get_backend(query.using)

        def run(query: ExplainedQuery = query, backend: Backend = backend) -> Plan:
            return explain_sql(
                backend, query.sql, query.params, mode=mode, analyze_tables=analyze_tables
            )

        try:
            if cache is None:
                query.plan = run()
            elif id(query) in looked_up:  # a miss, counted already: explain it and store it
                query.plan = run()
                cache.store(query, mode, analyze_tables, query.plan)
            else:
                query.plan = cache.plan(query, mode, analyze_tables, run)
        except QueryPlanUsageError as exc:
            query.error = str(exc)
