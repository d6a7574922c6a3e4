"""Capture the statements a block of code runs, through ``connection.execute_wrapper``,
on every thread that runs them.

Only what EXPLAIN can describe without running it is kept: SELECT (and WITH, VALUES,
TABLE), UPDATE and DELETE. Transaction control, DDL and SET are passed through unrecorded.

Django's connections are per thread, and a test's queries do not all run on its own
thread: Django's async ORM (``acount()``, ``aget()``, ``async for``, ``sync_to_async``)
runs them where asgiref runs thread-sensitive code, and a test may start worker threads.
So the block's wrapper also goes on the same alias's connection of

- every thread that opens a connection during the block (``connection_created``);
- asgiref's thread-sensitive thread, whose connection earlier tests may have opened
  already: under ``async_to_sync`` (Django's async test methods) the thread that called it,
  otherwise (pytest-asyncio) the one thread asgiref keeps for the whole process. A job
  queued there puts the wrapper on before any ORM call queued after it can run. asgiref
  has no public handle on either executor; these two class attributes are its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pytest_queryplan.core.checks.query import ExplainedQuery
from pytest_queryplan.db.sites import SiteFinder
from pytest_queryplan.dialects import connection_for
from pytest_queryplan.errors import QueryPlanAssertionError, QueryPlanUsageError

_EXPLAINABLE = frozenset({"select", "with", "values", "table", "update", "delete"})
_DDL = frozenset({"create", "alter", "drop", "truncate", "comment", "reindex", "cluster"})
_LEADING = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(*\s*([A-Za-z]+)", re.DOTALL)

Wrapper = Callable[..., Any]
T = TypeVar("T")


def is_ddl(sql: str) -> bool:
    match = _LEADING.match(sql)
    return bool(match) and match.group(1).lower() in _DDL


def is_explainable(sql: str) -> bool:
    match = _LEADING.match(sql)
    return bool(match) and match.group(1).lower() in _EXPLAINABLE


@contextmanager
def capture_queries(
    using: str,
    sites: SiteFinder | None = None,
    statements: list[tuple[str, tuple[Any, ...]]] | None = None,
    on_ddl: Callable[[], None] | None = None,
) -> Iterator[list[ExplainedQuery]]:
    """Record explainable statements run on connection ``using`` inside the block, by
    this thread and by the others (see the module's docstring).

    ``sites`` finds each statement's application (and test) line; ``statements``, when
    given, also receives every other statement's SQL and (lines, call by the test) (an
    INSERT run once per row is a repeated query too, though EXPLAIN has nothing to say
    about it); ``on_ddl``
    is called when the block changes the schema.
    """
    connection = connection_for(using)  # an unknown alias is a one-line usage error
    captured: list[ExplainedQuery] = []

    def record(execute: Wrapper, sql: str, params: Any, many: bool, context: Any) -> Any:
        if isinstance(sql, str):
            if is_explainable(sql):
                first = params
                if many:
                    # executemany: the first parameter set stands for all of them.
                    first = next(iter(params), None) if params is not None else None
                query = ExplainedQuery(sql, first, using)
                if sites is not None:
                    # One walk up the stack: the lines, the test's call, and (asked only
                    # where the two lines differ) whether the test built the QuerySet.
                    origin = sites.origin(sys._getframe(1))
                    query.site, query.test_site = origin.site, origin.test_site
                    query.call, query.by_test = origin.call, origin.by_test
                captured.append(query)
            else:
                if statements is not None:
                    found = (None, None, 0)
                    if sites is not None:
                        origin = sites.origin(sys._getframe(1), built=False)
                        found = (origin.site, origin.test_site, origin.call)
                    statements.append((sql, found))
                if on_ddl is not None and is_ddl(sql):
                    on_ddl()
        return execute(sql, params, many, context)

    others = _OtherThreads(using, record)
    try:
        with connection.execute_wrapper(record), others:
            yield captured
    finally:
        if sites is not None and hasattr(sites, "forget"):
            sites.forget()


class _OtherThreads:
    """Puts ``record`` on the alias's connections of other threads for the block's length."""

    def __init__(self, using: str, record: Wrapper) -> None:
        self.using = using
        self.record = record
        self.lock = threading.Lock()
        self.closed = False
        self.hooked: list[Any] = []

    def hook(self, connection: Any) -> None:
        with self.lock:
            # A job that runs after the block ended must not leave the wrapper behind.
            if self.closed or self.record in connection.execute_wrappers:
                return
            connection.execute_wrappers.append(self.record)
            self.hooked.append(connection)

    def opened(self, sender: Any, connection: Any, **kwargs: Any) -> None:
        """``connection_created``: sent in the thread that connects, before its first query."""
        if connection.alias == self.using:
            self.hook(connection)

    def hook_thread_sensitive(self) -> None:
        from django.db import connections

        for executor in _thread_sensitive_executors():
            if not getattr(executor, "_threads", True):
                # A pool that never started its thread holds no connection yet: the one
                # it opens, should the block use it, is hooked by ``opened``. (Waking the
                # thread for every test cost more than the rest of the capture.)
                continue
            # Queued, not awaited: the thread may be busy, or be this very thread (then its
            # connection already has the wrapper, and the job finds the block closed).
            with contextlib.suppress(RuntimeError):  # shut down, or submitted from itself
                executor.submit(lambda: self.hook(connections[self.using]))

    def __enter__(self) -> _OtherThreads:
        from django.db.backends.signals import connection_created

        connection_created.connect(self.opened, weak=False, dispatch_uid=id(self))
        self.hook_thread_sensitive()
        return self

    def __exit__(self, *exc_info: object) -> None:
        from django.db.backends.signals import connection_created

        connection_created.disconnect(dispatch_uid=id(self))
        with self.lock:
            self.closed = True
            for connection in self.hooked:
                with contextlib.suppress(ValueError):
                    connection.execute_wrappers.remove(self.record)


def in_sync_thread(work: Callable[[], T]) -> T:
    """``work()`` where Django allows database work, with the connection the ORM used.

    That is here, unless this thread runs an event loop (a plain ``with`` block or call
    inside an async test, where Django raises SynchronousOnlyOperation): then ``work`` runs
    in asgiref's thread-sensitive thread, where the async ORM ran the test's queries, and
    this thread waits for it (as a synchronous call from async code blocks anyway).
    """
    __tracebackhide__ = True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    import asgiref.sync  # noqa: F401 - Django's own dependency, imported by its ORM anyway

    executor = _thread_sensitive_executors()[-1]
    try:
        return executor.submit(work).result()
    except (QueryPlanAssertionError, QueryPlanUsageError) as exc:
        raise exc.with_traceback(None) from None  # the verdict is the news, not the hop


def _thread_sensitive_executors() -> list[Any]:
    """Where asgiref runs ``sync_to_async(thread_sensitive=True)`` code from here on."""
    sync = sys.modules.get("asgiref.sync")
    if sync is None:  # nothing can have run thread-sensitive code yet
        return []
    # The last is where the next thread-sensitive call runs: under async_to_sync its
    # caller's thread, otherwise the process's single thread.
    executors = [sync.SyncToAsync.single_thread_executor]
    current = getattr(sync.AsyncToSync.executors, "current", None)
    if current is not None:
        executors.append(current)
    return executors
