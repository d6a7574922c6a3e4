"""The checks themselves, usable with or without pytest: explain, assert an index is used.

The fixtures in ``fixtures.py`` are thin wrappers that supply defaults from the pytest
configuration (:class:`Settings`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from pytest_queryplan.backends import get_backend
from pytest_queryplan.backends.base import Backend, ExplainError
from pytest_queryplan.core.defaults import DEFAULT_SETTINGS, MODES, Settings
from pytest_queryplan.core.messages import (
    ExplainedQuery,
    index_not_used,
    missing_index,
    no_query_on_table,
)
from pytest_queryplan.core.plan import Plan, PlanNode, parse_plan
from pytest_queryplan.core.suggest import IndexSuggestion, suggest_index
from pytest_queryplan.db.capture import CapturedQuery, capture_queries
from pytest_queryplan.db.targets import to_sql
from pytest_queryplan.errors import QueryPlanAssertionError, QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.db.plancache import PlanCache


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise QueryPlanUsageError(
            f"Unknown queryplan mode {mode!r}: use 'forced' (can an index serve the query?) "
            "or 'natural' (what the planner picks for the data as it is)."
        )
    return mode


def explain_sql(
    backend: Backend,
    sql: str,
    params: Any,
    *,
    mode: str,
    analyze: bool = False,
    analyze_tables: bool = False,
    hide_indexes: Sequence[str] = (),
) -> Plan:
    """EXPLAIN one statement on ``backend``; the session is left exactly as it was."""
    forced = check_mode(mode) == "forced"
    try:
        raw = backend.explain(
            sql, params, forced=forced, analyze=analyze, hide_indexes=hide_indexes
        )
        plan = parse_plan(raw)
        if analyze_tables and not forced and plan.tables:
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


def explain(
    target: Any,
    *,
    using: str = "default",
    mode: str | None = None,
    analyze: bool = False,
    analyze_tables: bool | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> Plan:
    """Parse the plan of ``target`` (QuerySet, SQL, or ``(sql, params)``) on ``using``."""
    backend = get_backend(using)
    sql, params = to_sql(target, using)
    return explain_sql(
        backend,
        sql,
        params,
        mode=mode or settings.mode,
        analyze=analyze,
        analyze_tables=settings.analyze_tables if analyze_tables is None else analyze_tables,
    )


def _field_names(table: str) -> dict[str, str]:
    """Column -> model field name, so suggestions read like Django code."""
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return {field.column: field.name for field in model._meta.concrete_fields}
    return {}


def seq_scan_suggestion(node: PlanNode) -> IndexSuggestion | None:
    """An index that would serve a filtered Seq Scan node, in Django's field names."""
    if node.node_type != "Seq Scan" or not node.filter or not node.relation_name:
        return None
    return suggest_index(node.relation_name, node.filter, _field_names(node.relation_name))


def _suggestion(info: Any, plans: Sequence[Plan]) -> IndexSuggestion | None:
    for plan in plans:
        for node in plan.nodes():
            if node.relation_name == info.table and (found := seq_scan_suggestion(node)):
                return found
    return None


def _fail(message: str) -> QueryPlanAssertionError:
    return QueryPlanAssertionError(message)


def verdict(
    backend: Backend,
    index_name: str,
    queries: Sequence[ExplainedQuery],
    *,
    mode: str,
    verbose: bool,
    every: bool = False,
    block: bool = False,
) -> None:
    """Raise QueryPlanAssertionError unless the queries used ``index_name`` as asked.

    ``block``: the queries were captured from a block of code (not one given target).
    """
    __tracebackhide__ = True
    plans = [q.plan for q in queries if q.plan is not None]
    if not every and any(plan.uses_index(index_name) for plan in plans):
        return  # the common, passing case costs no catalog query at all
    names = backend.attached_indexes(index_name)
    infos = {info.name: info for info in backend.index_info(names)}
    info = infos.get(index_name)
    tables_read = sorted({table for plan in plans for table in plan.tables})
    if info is None:
        raise _fail(missing_index(index_name, tables_read, backend.indexes_on(tables_read)))
    index_tables = {i.table for i in infos.values()}
    relevant = [q for q in queries if q.plan is None or q.plan.tables & index_tables]
    if mode == "forced":
        _ask_without_competitors(backend, relevant, names, index_tables)
    users = [q for q in relevant if q.plan is not None and q.plan.index_names & names]
    if every:
        offenders = [q for q in relevant if q not in users]
        if relevant and not offenders:
            return
    else:
        offenders = relevant
        if users:
            return
    if block and not relevant:
        raise _fail(no_query_on_table(info, queries))
    suggestion = None
    if mode == "forced":
        suggestion = _suggestion(info, [q.plan for q in offenders if q.plan is not None])
    raise _fail(
        index_not_used(
            info,
            offenders or list(queries),
            mode=mode,
            verbose=verbose,
            suggestion=suggestion,
            every=every,
            block=block,
            total=len(queries),
        )
    )


def _ask_without_competitors(
    backend: Backend,
    queries: Sequence[ExplainedQuery],
    names: frozenset[str],
    tables: set[str],
) -> None:
    """Forced mode asks whether the index *can* serve the query. When the planner took
    another index of the same table instead (a cheaper-looking one, say a foreign-key
    index that leads the named one), the answer depends on statistics, not on the query:
    ask again with those competitors dropped inside the rolled-back savepoint. A query
    whose plan then scans the named index gets that plan. Indexes backing a constraint
    cannot be dropped and stay in the way.
    """
    pending = [q for q in queries if q.plan is not None and not q.plan.index_names & names]
    used = {name for q in pending for name in q.plan.index_names} - names
    if not used:
        return
    # One catalog look-up for every competitor of every query.
    hideable = {
        info.name
        for info in backend.index_info(used)
        if info.table in tables and not info.constraint
    }
    for query in pending:
        hide = sorted(hideable & query.plan.index_names)
        if not hide:
            continue
        try:
            plan = explain_sql(backend, query.sql, query.params, mode="forced", hide_indexes=hide)
        except QueryPlanUsageError:
            continue  # no right to drop them, for one: the first answer stands
        if plan.index_names & names:
            query.plan = plan


def assert_index_used(
    target: Any,
    index_name: str,
    *,
    using: str = "default",
    mode: str | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> Plan:
    """Fail unless some node of ``target``'s plan scans ``index_name``; return the plan."""
    __tracebackhide__ = True
    _check_index_name(index_name)
    backend = get_backend(using)
    sql, params = to_sql(target, using)
    mode = check_mode(mode or settings.mode)
    plan = explain_sql(backend, sql, params, mode=mode, analyze_tables=settings.analyze_tables)
    query = CapturedQuery(sql, params, using, plan)
    verdict(backend, index_name, [query], mode=mode, verbose=settings.verbose)
    assert query.plan is not None
    if settings.on_proof is not None:
        settings.on_proof(index_name, [query.plan])
    return query.plan  # in forced mode, the plan that proved it (see _ask_without_competitors)


def _check_index_name(index_name: Any) -> None:
    if not isinstance(index_name, str) or not index_name:
        raise QueryPlanUsageError(f"The index name must be a non-empty string, not {index_name!r}.")


def explain_captured(
    captured: Sequence[CapturedQuery],
    *,
    mode: str,
    analyze_tables: bool = False,
    cache: PlanCache | None = None,
) -> None:
    """Fill in ``plan`` (or ``error``) of every captured query, through ``cache`` if given."""
    backends: dict[str, Backend] = {}
    for query in captured:
        backend = backends.get(query.using)
        if backend is None:
            backend = backends[query.using] = get_backend(query.using)

        def run(query: CapturedQuery = query, backend: Backend = backend) -> Plan:
            return explain_sql(
                backend, query.sql, query.params, mode=mode, analyze_tables=analyze_tables
            )

        try:
            query.plan = run() if cache is None else cache.plan(query, mode, analyze_tables, run)
        except QueryPlanUsageError as exc:
            query.error = str(exc)


class IndexUsageCheck(AbstractContextManager["IndexUsageCheck"]):
    """``with assert_uses_index(name):`` -- capture the block's queries, check afterwards."""

    def __init__(
        self,
        index_name: str,
        *,
        using: str = "default",
        mode: str | None = None,
        every: bool = False,
        settings: Settings = DEFAULT_SETTINGS,
    ) -> None:
        _check_index_name(index_name)
        self.index_name = index_name
        self.using = using
        self.mode = check_mode(mode or settings.mode)
        self.every = every
        self.settings = settings
        self.backend = get_backend(using)  # fail on a bad alias before the block runs
        self.captured: list[CapturedQuery] = []
        self._context: AbstractContextManager[list[CapturedQuery]] | None = None

    def __enter__(self) -> IndexUsageCheck:
        self._context = capture_queries(self.using)
        self.captured = self._context.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        __tracebackhide__ = True
        assert self._context is not None
        self._context.__exit__(exc_type, exc, tb)
        if exc_type is not None:
            return None  # the block's own exception propagates; no plan verdict
        explain_captured(self.captured, mode=self.mode, analyze_tables=self.settings.analyze_tables)
        verdict(
            self.backend,
            self.index_name,
            self.captured,
            mode=self.mode,
            verbose=self.settings.verbose,
            every=self.every,
            block=True,
        )
        if self.settings.on_proof is not None:
            self.settings.on_proof(self.index_name, [q.plan for q in self.captured if q.plan])
        return None

    def __iter__(self) -> Iterator[CapturedQuery]:
        return iter(self.captured)
