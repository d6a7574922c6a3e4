"""The fixtures users call: ``assert_uses_index`` and ``queryplan``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, overload

import pytest

from pytest_queryplan.errors import QueryPlanUsageError
from pytest_queryplan.session import RECORDER_KEY

if TYPE_CHECKING:
    # The checks themselves are imported when a fixture is first used, not when pytest
    # loads the plugin: a run that never asks for them pays nothing.
    from pytest_queryplan.core.defaults import Defaults
    from pytest_queryplan.core.plan import Plan
    from pytest_queryplan.core.query import ExplainedQuery
    from pytest_queryplan.db.assertions import IndexUsageBlock


class AssertUsesIndex(Protocol):
    """The type of the ``assert_uses_index`` fixture, for annotating tests."""

    @overload
    def __call__(
        self,
        target: Any,
        index_name: str,
        *,
        using: str = ...,
        mode: str | None = ...,
        strict: bool | None = ...,
        analyze_tables: bool | None = ...,
    ) -> Plan: ...

    @overload
    def __call__(
        self,
        index_name: str,
        *,
        using: str = ...,
        mode: str | None = ...,
        every: bool = ...,
        strict: bool | None = ...,
        analyze_tables: bool | None = ...,
    ) -> IndexUsageBlock: ...


class _AssertUsesIndex:
    def __init__(self, defaults: Defaults) -> None:
        self.defaults = defaults

    def __call__(
        self,
        target: Any,
        index_name: str | None = None,
        *,
        using: str = "default",
        mode: str | None = None,
        every: bool | None = None,
        strict: bool | None = None,
        analyze_tables: bool | None = None,
    ) -> Any:
        __tracebackhide__ = True
        from pytest_queryplan.db.assertions import IndexUsageBlock, assert_index_used

        defaults = _with_analyze(self.defaults, analyze_tables)
        if index_name is None:
            if isinstance(target, str) and len(target.split()) > 1:
                raise QueryPlanUsageError(
                    "assert_uses_index got SQL but no index name: call "
                    "assert_uses_index(sql, 'index_name'), or use "
                    "`with assert_uses_index('index_name'):` around code that runs queries."
                )
            if not isinstance(target, str):
                raise QueryPlanUsageError(
                    f"assert_uses_index({type(target).__name__}) is missing the index name: "
                    "call assert_uses_index(queryset, 'index_name')."
                )
            return IndexUsageBlock(
                target,
                using=using,
                mode=mode,
                every=bool(every),
                strict=strict,
                defaults=defaults,
            )
        if every is not None:
            raise QueryPlanUsageError(
                "every= applies only to the block form: `with assert_uses_index(name, "
                "every=True):`."
            )
        return assert_index_used(
            target, index_name, using=using, mode=mode, strict=strict, defaults=defaults
        )


def _with_analyze(defaults: Defaults, analyze_tables: bool | None) -> Defaults:
    """``analyze_tables=`` of one call overrides ini ``queryplan_analyze``."""
    if analyze_tables is None:
        return defaults
    return replace(defaults, analyze_tables=analyze_tables)


class QueryPlan:
    """The ``queryplan`` fixture: explain a target, or capture and explain a block."""

    def __init__(self, defaults: Defaults) -> None:
        self.defaults = defaults

    def explain(
        self,
        target: Any,
        *,
        using: str = "default",
        mode: str | None = None,
        analyze: bool = False,
        analyze_tables: bool | None = None,
    ) -> Plan:
        """The parsed plan of a QuerySet, SQL or ``(sql, params)``. ``analyze=True`` runs it
        (EXPLAIN ANALYZE) inside a savepoint that is always rolled back."""
        from pytest_queryplan.db.assertions import explain

        defaults = _with_analyze(self.defaults, analyze_tables)
        return explain(target, using=using, mode=mode, analyze=analyze, defaults=defaults)

    @contextmanager
    def capture(
        self,
        using: str = "default",
        *,
        mode: str | None = None,
        analyze_tables: bool | None = None,
    ) -> Iterator[list[ExplainedQuery]]:
        """Capture the block's queries; afterwards each has ``.sql``, ``.params``, ``.plan``."""
        from pytest_queryplan.db.assertions import resolve_mode
        from pytest_queryplan.db.capture import capture_queries
        from pytest_queryplan.db.explain import explain_captured

        chosen = resolve_mode(mode, self.defaults)
        with capture_queries(using) as captured:
            yield captured
        defaults = _with_analyze(self.defaults, analyze_tables)
        explain_captured(captured, mode=chosen, analyze_tables=defaults.analyze_tables)


@pytest.fixture
def assert_uses_index(request: pytest.FixtureRequest) -> AssertUsesIndex:
    """Assert that an index serves a query (forced mode and strict by default).

    ``assert_uses_index(queryset_or_sql, "index_name")`` returns the parsed Plan;
    ``with assert_uses_index("index_name"):`` checks the queries the block runs.
    """
    return _AssertUsesIndex(request.config.stash[RECORDER_KEY].defaults)


@pytest.fixture
def queryplan(request: pytest.FixtureRequest) -> QueryPlan:
    """Explain querysets and SQL (``queryplan.explain``) or capture a block (``.capture``)."""
    return QueryPlan(request.config.stash[RECORDER_KEY].defaults)
