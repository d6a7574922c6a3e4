"""The fixtures users call: ``assert_uses_index`` and ``queryplan``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol, overload

import pytest

from pytest_queryplan.session import RECORDER_KEY

if TYPE_CHECKING:
    # The checks themselves are imported when a fixture is first used, not when pytest
    # loads the plugin: a run that never asks for them pays nothing.
    from pytest_queryplan.core.checks.defaults import Defaults
    from pytest_queryplan.core.checks.modes import Mode
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.plan.tree import Plan
    from pytest_queryplan.db.assertions import IndexUsageBlock


class AssertUsesIndex(Protocol):
    """The type of the ``assert_uses_index`` fixture, for annotating tests."""

    @overload
    def __call__(
        self,
        target: Any,
        index_name: str,
        *,
        using: str | None = ...,
        mode: str | None = ...,
        strict: bool | None = ...,
        ordered: bool = ...,
        keys: Sequence[str] | str | None = ...,
        analyze_tables: bool | None = ...,
    ) -> Plan: ...

    @overload
    def __call__(
        self,
        index_name: str,
        *,
        using: str | None = ...,
        mode: str | None = ...,
        every: bool = ...,
        strict: bool | None = ...,
        ordered: bool = ...,
        keys: Sequence[str] | str | None = ...,
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
        using: str | None = None,
        mode: str | None = None,
        every: bool | None = None,
        strict: bool | None = None,
        ordered: bool = False,
        keys: Sequence[str] | str | None = None,
        analyze_tables: bool | None = None,
    ) -> Any:
        __tracebackhide__ = True
        from pytest_queryplan.db.assertions import user_call, uses_index

        return user_call(
            "assert_uses_index",
            uses_index,
            target,
            index_name,
            using=using,
            mode=mode,
            every=every,
            strict=strict,
            ordered=ordered,
            keys=keys,
            analyze_tables=analyze_tables,
            defaults=self.defaults,
        )


class QueryPlan:
    """The ``queryplan`` fixture: explain a target, or capture and explain a block."""

    def __init__(self, defaults: Defaults) -> None:
        self.defaults = defaults

    def explain(
        self,
        target: Any,
        *,
        using: str | None = None,
        mode: str | None = None,
        analyze: bool = False,
        analyze_tables: bool | None = None,
    ) -> Plan:
        """The parsed plan of a QuerySet, SQL or ``(sql, params)``. ``analyze=True`` runs it
        (EXPLAIN ANALYZE) inside a savepoint that is always rolled back."""
        __tracebackhide__ = True
        from pytest_queryplan.db.assertions import explain, user_call, with_analyze

        defaults = with_analyze(self.defaults, analyze_tables)
        return user_call(
            "queryplan.explain",
            explain,
            target,
            using=using,
            mode=mode,
            analyze=analyze,
            defaults=defaults,
        )

    def capture(
        self,
        using: str = "default",
        *,
        mode: str | None = None,
        analyze_tables: bool | None = None,
    ) -> AbstractContextManager[list[ExplainedQuery]]:
        """Capture the block's queries; afterwards each has ``.sql``, ``.params``, ``.plan``."""
        __tracebackhide__ = True
        from pytest_queryplan.db.assertions import user_call, with_analyze
        from pytest_queryplan.dialects import connection_for

        # Both mistakes are reported on the caller's line, before the block runs.
        chosen = user_call("queryplan.capture", self.defaults.mode_for, mode)
        user_call("queryplan.capture", connection_for, using)
        return self._capture(using, chosen, with_analyze(self.defaults, analyze_tables))

    @contextmanager
    def _capture(
        self, using: str, mode: Mode, defaults: Defaults
    ) -> Iterator[list[ExplainedQuery]]:
        from pytest_queryplan.db.capture import capture_queries, in_sync_thread
        from pytest_queryplan.db.explain import explain_captured

        with capture_queries(using) as captured:
            yield captured
        # In an async test the connection the queries ran on is another thread's.
        in_sync_thread(
            lambda: explain_captured(captured, mode=mode, analyze_tables=defaults.analyze_tables)
        )


@pytest.fixture
def assert_uses_index(request: pytest.FixtureRequest) -> AssertUsesIndex:
    """Assert that an index serves a query (forced mode and strict by default).

    ``assert_uses_index(queryset_or_sql, "index_name")`` returns the parsed Plan;
    ``with assert_uses_index("index_name"):`` checks the queries the block runs.
    ``ordered=True``: the index delivers the ORDER BY too (no sort of its rows);
    ``keys=[...]`` (or ``"all"``): its Index Cond searches these keys.
    """
    return _AssertUsesIndex(request.config.stash[RECORDER_KEY].defaults)


@pytest.fixture
def queryplan(request: pytest.FixtureRequest) -> QueryPlan:
    """Explain querysets and SQL (``queryplan.explain``) or capture a block (``.capture``)."""
    return QueryPlan(request.config.stash[RECORDER_KEY].defaults)
