"""One test's watch: capture while the body runs, then explain and judge before the test's
transaction is rolled back, and put what was found into the test report.

Used by the call-phase hook wrapper (``marker.py``) for tests that carry the marker or
use the database. Everything is judged in the call phase, so a failed check is the test
failing, and a body that raised on its own gets no plan verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import pytest

from pytest_queryplan import guard
from pytest_queryplan.core.hygiene import IndexEntry
from pytest_queryplan.core.record import PROPERTY, TestRecord
from pytest_queryplan.errors import QueryPlanAssertionError
from pytest_queryplan.options import ALLOW_SEQ_SCAN_KEY, SETTINGS_KEY
from pytest_queryplan.session import RECORDER_KEY

if TYPE_CHECKING:
    from pytest_queryplan.db.capture import CapturedQuery
    from pytest_queryplan.marker import MarkerSpec


class TestWatch:
    __test__ = False  # not a test class, whatever pytest's naming rules say

    def __init__(self, item: pytest.Item, spec: MarkerSpec | None) -> None:
        config = item.config
        self.item = item
        self.spec = spec
        self.recorder = config.stash[RECORDER_KEY]
        self.run = self.recorder.run
        self.settings = config.stash[SETTINGS_KEY]
        marked = spec.allow_seq_scan if spec else ()
        self.allow = set(config.stash[ALLOW_SEQ_SCAN_KEY]) | set(marked)
        self.record = TestRecord()
        self.captured: list[CapturedQuery] = []

    def aliases(self) -> list[str]:
        """The spec's connection, and with the guard every PostgreSQL connection."""
        names = {self.spec.using} if self.spec else set()
        if self.run.explains_every_test:
            names |= guard.postgres_aliases()
        return sorted(names)

    @contextmanager
    def recording(self) -> Iterator[None]:
        self.recorder.current = self.record
        try:
            yield
        finally:
            self.recorder.current = None
            if self.record:
                self.item.user_properties.append((PROPERTY, self.record.encode()))

    @contextmanager
    def capturing(self) -> Iterator[None]:
        aliases = self.aliases()
        with ExitStack() as stack:
            lists: list[list[CapturedQuery]] = []
            if aliases:  # Django is imported only for a test that has something to capture
                from pytest_queryplan.db.capture import capture_queries

                lists = [stack.enter_context(capture_queries(alias)) for alias in aliases]
            try:
                yield
            except QueryPlanAssertionError:
                self.record.check("failed")  # a fixture's check failed the body
                raise
        self.captured = [query for captured in lists for query in captured]

    def verdict(self) -> None:
        """Explain what the body ran, check it, and fail the test with every failure found."""
        __tracebackhide__ = True
        from pytest_queryplan.db.assertions import check_mode, explain_captured

        spec = self.spec
        mode = check_mode((spec.mode if spec else None) or self.settings.mode)
        cache = self.recorder.cache
        seen, explained = cache.seen, cache.explained
        analyze_tables = self.settings.analyze_tables
        explain_captured(self.captured, mode=mode, analyze_tables=analyze_tables, cache=cache)
        self.record.queries += cache.seen - seen
        self.record.explained += cache.explained - explained
        self.record.unexplained += sum(query.error is not None for query in self.captured)
        failures: list[str] = []
        if spec is not None:
            from pytest_queryplan.marker import run_checks

            mine = [query for query in self.captured if query.using == spec.using]
            failures += run_checks(spec, mine, self.settings, self.allow, self.record, mode)
            if self.run.snapshot != "off":
                failures += self.snapshot(mine)
        if self.run.guard != "off":
            failures += self.guard_verdict(mode)
        if self.run.index_report:
            self.note_usage()
        if failures:
            raise QueryPlanAssertionError("\n\n".join(failures))

    def guard_verdict(self, mode: str) -> list[str]:
        if not any(query.plan for query in self.captured):
            return []
        level = self.run.guard
        findings = guard.seq_scan_findings(self.captured, self.allow, level)
        self.record.findings += findings
        if not findings:
            self.record.check("passed")
            return []
        self.record.check("warned" if level == "warn" else "failed")
        spec = self.spec
        said = spec and spec.checks_seq_scans and spec.tables is None
        if level == "warn" or (said and all(q.using == spec.using for q in self.captured)):
            return []  # a warning only, or the marker's own check already says it
        return [guard.failure_text(self.captured, self.allow, self.settings, mode)]

    def snapshot(self, queries: list[CapturedQuery]) -> list[str]:
        from pytest_queryplan.snapshot import compare

        rootpath = self.item.config.rootpath
        status, failure = compare(self.item.nodeid, queries, self.run, rootpath)
        self.record.snapshot = {"status": status}
        self.record.check("failed" if failure else "passed")
        return [failure] if failure else []

    def note_usage(self) -> None:
        """Tables read and indexes scanned, and the catalog of tables first seen here."""
        from pytest_queryplan.backends import get_backend

        self.recorder.read(query.plan for query in self.captured if query.plan is not None)
        new = sorted(self.record.tables - self.recorder.cataloged)
        if not new:
            return
        for alias in self.aliases():
            for info in get_backend(alias).indexes_on(new):
                entry = IndexEntry(
                    info.name, info.table, info.definition, info.predicate, info.method, info.unique
                )
                self.record.indexes.append(entry.to_dict())
        self.recorder.cataloged.update(new)
