"""The plan checks as plain functions, usable with or without pytest.

``explain``, ``assert_index_used`` and the block form :class:`IndexUsageBlock` collect
queries (one given target, or what a block runs), explain them, hand the chosen checks to
the one runner and raise the rendered verdict. The fixtures and the TestCase mixin are
thin wrappers that supply defaults from their configuration (:class:`Defaults`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, TypeVar

from pytest_queryplan.core.checks.defaults import DEFAULTS, Defaults, check_keys, check_ordered
from pytest_queryplan.core.checks.index import IndexUsed
from pytest_queryplan.core.checks.judge import Check, judge_all
from pytest_queryplan.core.checks.query import ExplainedQuery
from pytest_queryplan.core.checks.verdict import Verdict
from pytest_queryplan.core.plan.tree import Plan
from pytest_queryplan.core.text.failure import render
from pytest_queryplan.db.capture import capture_queries, in_sync_thread
from pytest_queryplan.db.catalog import DjangoCatalog
from pytest_queryplan.db.explain import explain_captured, explain_sql
from pytest_queryplan.db.targets import alias_of, to_sql
from pytest_queryplan.dialects import get_backend
from pytest_queryplan.errors import QueryPlanAssertionError, QueryPlanUsageError

T = TypeVar("T")


def user_call(name: str, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` for a call a user made as ``name``: its errors point
    at the user's line.

    The traceback of a verdict or usage error raised deep inside is cut here (a frame
    pytest hides; under unittest the one frame left of the plugin's), and pytest-django's
    "Database access not allowed" becomes one line naming the fix."""
    __tracebackhide__ = True
    try:
        return function(*args, **kwargs)
    except (QueryPlanUsageError, QueryPlanAssertionError) as exc:
        raise exc.with_traceback(None) from None
    except RuntimeError as exc:
        if "Database access not allowed" not in str(exc):
            raise
        raise QueryPlanUsageError(
            f"{name} needs the database, and this test may not use it: mark the test with "
            "@pytest.mark.django_db (or request the db fixture)."
        ) from None


def with_analyze(defaults: Defaults, analyze_tables: bool | None) -> Defaults:
    """``analyze_tables=`` of one call overrides ini ``queryplan_analyze``."""
    if analyze_tables is None:
        return defaults
    return replace(defaults, analyze_tables=analyze_tables)


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


def raise_failures(verdicts: Iterable[Verdict], defaults: Defaults) -> None:
    """One AssertionError with the text of every verdict that did not pass."""
    __tracebackhide__ = True
    failed = [
        (verdict, render(verdict, defaults.verbose, defaults.verbose_how))
        for verdict in verdicts
        if not verdict.passed
    ]
    if failed:
        raise QueryPlanAssertionError("\n\n".join(text for _, text in failed), failed)


def explain(
    target: Any,
    *,
    using: str | None = None,
    mode: str | None = None,
    analyze: bool = False,
    defaults: Defaults = DEFAULTS,
) -> Plan:
    """Parse the plan of ``target`` (QuerySet, SQL, or ``(sql, params)``) on ``using`` (a
    QuerySet's own alias when not given); ``defaults.analyze_tables`` says whether to
    ANALYZE its tables first."""
    chosen = defaults.mode_for(mode)

    def run() -> Plan:
        alias = alias_of(target, using)
        backend = get_backend(alias)
        sql, params = to_sql(target, alias)
        return explain_sql(
            backend,
            sql,
            params,
            mode=chosen,
            analyze=analyze,
            analyze_tables=defaults.analyze_tables,
        )

    return in_sync_thread(run)


def assert_index_used(
    target: Any,
    index_name: str,
    *,
    using: str | None = None,
    mode: str | None = None,
    strict: bool | None = None,
    ordered: bool = False,
    keys: Any = None,
    defaults: Defaults = DEFAULTS,
) -> Plan:
    """Fail unless ``index_name`` serves ``target`` (``strict=False``: appears in its plan);
    return the plan that proved it. ``ordered``: the index delivers its ORDER BY too;
    ``keys``: it searches these keys."""
    __tracebackhide__ = True
    check = IndexUsed(
        check_index_name(index_name),
        strict=defaults.strict_for(strict),
        ordered=check_ordered(ordered),
        keys=check_keys(keys),
    )
    mode = defaults.mode_for(mode)

    def judge() -> list[Verdict]:
        alias = alias_of(target, using)
        backend = get_backend(alias)
        sql, params = to_sql(target, alias)
        plan = explain_sql(backend, sql, params, mode=mode, analyze_tables=defaults.analyze_tables)
        queries.append(ExplainedQuery(sql, params, alias, plan, mode=mode))
        return run_checks([check], queries, DjangoCatalog(backend, defaults), defaults)

    queries: list[ExplainedQuery] = []
    raise_failures(in_sync_thread(judge), defaults)
    query = queries[0]
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
        ordered: bool = False,
        keys: Any = None,
        defaults: Defaults = DEFAULTS,
    ) -> None:
        self.check = IndexUsed(
            check_index_name(index_name),
            every=every,
            block=True,
            strict=defaults.strict_for(strict),
            ordered=check_ordered(ordered),
            keys=check_keys(keys),
        )
        self.using = using
        self.mode = defaults.mode_for(mode)
        self.defaults = defaults
        # A bad alias fails before the block runs.
        self.catalog = DjangoCatalog.for_alias(using, defaults)
        self.captured: list[ExplainedQuery] = []
        self._context: AbstractContextManager[list[ExplainedQuery]] | None = None

    def __enter__(self) -> IndexUsageBlock:
        self._context = capture_queries(self.using, self.defaults.sites)
        self.captured = self._context.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        __tracebackhide__ = True
        assert self._context is not None
        self._context.__exit__(exc_type, exc, tb)
        if exc_type is not None:
            return None  # the block's own exception propagates; no plan verdict

        def judge() -> list[Verdict]:
            explain_captured(
                self.captured, mode=self.mode, analyze_tables=self.defaults.analyze_tables
            )
            # This thread's connection: in async code that is not the one __init__ saw.
            catalog = DjangoCatalog.for_alias(self.using, self.defaults)
            return run_checks([self.check], self.captured, catalog, self.defaults)

        raise_failures(in_sync_thread(judge), self.defaults)
        return None


def uses_index(
    target: Any,
    index_name: str | None = None,
    *,
    using: str | None = None,
    mode: str | None = None,
    every: bool | None = None,
    strict: bool | None = None,
    ordered: bool = False,
    keys: Any = None,
    analyze_tables: bool | None = None,
    defaults: Defaults = DEFAULTS,
    name: str = "assert_uses_index",
) -> Plan | IndexUsageBlock:
    """The one behaviour of the fixture ``assert_uses_index`` and of the TestCase mixin's
    ``assertUsesIndex`` (``name`` is how usage errors call it): with a target and an index
    name, check the target now and return its plan; with a name alone, the block form."""
    __tracebackhide__ = True
    defaults = with_analyze(defaults, analyze_tables)
    if index_name is None:
        if isinstance(target, str) and len(target.split()) > 1:
            raise QueryPlanUsageError(
                f"{name} got SQL but no index name: call {name}(sql, 'index_name'), or use "
                f"`with {name}('index_name'):` around code that runs queries."
            )
        if not isinstance(target, str):
            raise QueryPlanUsageError(
                f"{name}({type(target).__name__}) is missing the index name: "
                f"call {name}(queryset, 'index_name')."
            )
        return IndexUsageBlock(
            target,
            using=using or "default",
            mode=mode,
            every=bool(every),
            strict=strict,
            ordered=ordered,
            keys=keys,
            defaults=defaults,
        )
    if every is not None:
        raise QueryPlanUsageError(
            f"every= applies only to the block form: `with {name}(name, every=True):`."
        )
    return assert_index_used(
        target,
        index_name,
        using=using,
        mode=mode,
        strict=strict,
        ordered=ordered,
        keys=keys,
        defaults=defaults,
    )


class QueryBudgetBlock:
    """``with self.assertMaxQueries(n):`` -- at most ``n`` queries on ``using`` in the
    block (transaction control not counted), else the queries by shape with call sites."""

    def __init__(
        self, limit: int, *, using: str = "default", defaults: Defaults = DEFAULTS, name: str
    ) -> None:
        from pytest_queryplan.core.checks.budget import check_limit

        self.limit = check_limit(limit, f"{name}(max_queries)")
        self.using = using
        self.defaults = defaults
        self.name = name
        self.captured: list[ExplainedQuery] = []
        self.others: list[tuple[str, Any]] = []
        self._context: AbstractContextManager[list[ExplainedQuery]] | None = None

    def __enter__(self) -> QueryBudgetBlock:
        from pytest_queryplan.db.sites import SiteFinder

        sites = self.defaults.sites or SiteFinder()
        self._context = capture_queries(self.using, sites, self.others)
        self.captured = self._context.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        __tracebackhide__ = True
        assert self._context is not None
        self._context.__exit__(exc_type, exc, tb)
        if exc_type is not None:
            return None  # the block's own exception propagates
        from pytest_queryplan.core.checks.budget import over_budget
        from pytest_queryplan.core.report.shape import sql_shape
        from pytest_queryplan.core.text.nodes import budget_text

        statements = [(q.sql, q.site) for q in self.captured]
        statements += [(sql, sites[0]) for sql, sites in self.others]
        excess = over_budget(statements, self.limit, self.using, sql_shape)
        if excess is not None:
            raise QueryPlanAssertionError(
                budget_text(excess, "the block", f"{self.name}({self.limit})")
            )
        return None
