"""The plan checks as plain functions, usable with or without pytest.

``explain``, ``assert_index_used`` and the block form :class:`IndexUsageBlock` collect
queries (one given target, or what a block runs), explain them, hand the chosen checks to
the one runner and raise the rendered verdict. The fixtures and the TestCase mixin are
thin wrappers that supply defaults from their configuration (:class:`Defaults`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from pytest_queryplan.backends import get_backend
from pytest_queryplan.core.checks import Check, IndexUsed, judge_all
from pytest_queryplan.core.defaults import DEFAULTS, Defaults
from pytest_queryplan.core.messages import render
from pytest_queryplan.core.modes import Mode
from pytest_queryplan.core.plan import Plan
from pytest_queryplan.core.query import ExplainedQuery
from pytest_queryplan.core.verdict import Verdict
from pytest_queryplan.db.capture import capture_queries
from pytest_queryplan.db.catalog import DjangoCatalog
from pytest_queryplan.db.explain import explain_captured, explain_sql
from pytest_queryplan.db.targets import to_sql
from pytest_queryplan.errors import QueryPlanAssertionError, QueryPlanUsageError


def resolve_mode(mode: object, defaults: Defaults, where: str = "mode=") -> Mode:
    return defaults.mode if mode is None else Mode.parse(mode, where)


def resolve_strict(strict: object, defaults: Defaults) -> bool:
    if strict is None:
        return defaults.strict
    if not isinstance(strict, bool):
        raise QueryPlanUsageError(f"strict= takes True or False, not {strict!r}.")
    return strict


def check_index_name(index_name: Any) -> str:
    if not isinstance(index_name, str) or not index_name:
        raise QueryPlanUsageError(f"The index name must be a non-empty string, not {index_name!r}.")
    return index_name


def run_checks(
    checks: Iterable[Check],
    queries: Sequence[ExplainedQuery],
    catalog: DjangoCatalog,
    defaults: Defaults,
) -> list[Verdict]:
    """Judge ``queries`` with every check, tell ``defaults.on_verdict``, return the verdicts."""
    verdicts = judge_all(checks, queries, catalog)
    if defaults.on_verdict is not None:
        for verdict in verdicts:
            defaults.on_verdict(verdict)
    return verdicts


def raise_failures(verdicts: Iterable[Verdict], verbose: bool) -> None:
    """One AssertionError with the text of every verdict that did not pass."""
    __tracebackhide__ = True
    failed = [render(verdict, verbose) for verdict in verdicts if not verdict.passed]
    if failed:
        raise QueryPlanAssertionError("\n\n".join(failed))


def explain(
    target: Any,
    *,
    using: str = "default",
    mode: str | None = None,
    analyze: bool = False,
    analyze_tables: bool | None = None,
    defaults: Defaults = DEFAULTS,
) -> Plan:
    """Parse the plan of ``target`` (QuerySet, SQL, or ``(sql, params)``) on ``using``."""
    backend = get_backend(using)
    sql, params = to_sql(target, using)
    return explain_sql(
        backend,
        sql,
        params,
        mode=resolve_mode(mode, defaults),
        analyze=analyze,
        analyze_tables=defaults.analyze_tables if analyze_tables is None else analyze_tables,
    )


def assert_index_used(
    target: Any,
    index_name: str,
    *,
    using: str = "default",
    mode: str | None = None,
    strict: bool | None = None,
    defaults: Defaults = DEFAULTS,
) -> Plan:
    """Fail unless ``index_name`` serves ``target`` (``strict=False``: appears in its plan);
    return the plan that proved it."""
    __tracebackhide__ = True
    check = IndexUsed(check_index_name(index_name), strict=resolve_strict(strict, defaults))
    mode = resolve_mode(mode, defaults)
    backend = get_backend(using)
    sql, params = to_sql(target, using)
    plan = explain_sql(backend, sql, params, mode=mode, analyze_tables=defaults.analyze_tables)
    query = ExplainedQuery(sql, params, using, plan, mode=mode)
    verdicts = run_checks([check], [query], DjangoCatalog(backend, defaults.index_names), defaults)
    raise_failures(verdicts, defaults.verbose)
    assert query.plan is not None
    return query.plan  # in forced mode, the plan that proved it (competitors set aside)


class IndexUsageBlock(AbstractContextManager["IndexUsageBlock"]):
    """``with assert_uses_index(name):`` -- capture the block's queries, check afterwards.

    ``captured`` holds the block's queries, explained, once the block is left.
    """

    def __init__(
        self,
        index_name: str,
        *,
        using: str = "default",
        mode: str | None = None,
        every: bool = False,
        strict: bool | None = None,
        defaults: Defaults = DEFAULTS,
    ) -> None:
        self.check = IndexUsed(
            check_index_name(index_name),
            every=every,
            block=True,
            strict=resolve_strict(strict, defaults),
        )
        self.using = using
        self.mode = resolve_mode(mode, defaults)
        self.defaults = defaults
        # A bad alias fails before the block runs.
        self.catalog = DjangoCatalog.for_alias(using, defaults.index_names)
        self.captured: list[ExplainedQuery] = []
        self._context: AbstractContextManager[list[ExplainedQuery]] | None = None

    def __enter__(self) -> IndexUsageBlock:
        self._context = capture_queries(self.using)
        self.captured = self._context.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        __tracebackhide__ = True
        assert self._context is not None
        self._context.__exit__(exc_type, exc, tb)
        if exc_type is not None:
            return None  # the block's own exception propagates; no plan verdict
        explain_captured(self.captured, mode=self.mode, analyze_tables=self.defaults.analyze_tables)
        verdicts = run_checks([self.check], self.captured, self.catalog, self.defaults)
        raise_failures(verdicts, self.defaults.verbose)
        return None
