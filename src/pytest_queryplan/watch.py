"""One test's watch: capture while the body runs, then explain and judge before the test's
transaction is rolled back, and put what was found into the test report.

Used by the call-phase hook wrapper in ``plugin.py`` for tests that carry the marker or
use the database. The marker and the guard only *choose* checks here; each (check,
connection) is judged once by the same runner the fixtures use, so a marker and a guard
asking the same question share one verdict and one failure text.

A unittest-style test (Django's ``TestCase`` and friends) is watched from inside its test
method: pytest runs ``setUp``, the method, ``tearDown`` and Django's per-test rollback all
in its call phase, so watching that whole phase would judge ``setUp``'s queries, and
explain after the rollback, when what the test created is gone.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pytest_queryplan import databases
from pytest_queryplan.core.checks.judge import Check, judge
from pytest_queryplan.core.checks.modes import GuardLevel, GuardScope
from pytest_queryplan.core.checks.nodes import NoFilteredFullScan, condition
from pytest_queryplan.core.checks.query import ExplainedQuery
from pytest_queryplan.core.report.baseline import Entry
from pytest_queryplan.core.report.nplusone import KINDS as NPLUSONE_KINDS
from pytest_queryplan.core.report.nplusone import repeats
from pytest_queryplan.core.report.record import PROPERTY, Finding, TestRecord, site_dict
from pytest_queryplan.core.report.shape import sql_shape
from pytest_queryplan.core.text.failure import render
from pytest_queryplan.core.text.nodes import repeat_text
from pytest_queryplan.db.catalog import DjangoCatalog
from pytest_queryplan.db.explain import explain_captured
from pytest_queryplan.dialects import get_backend
from pytest_queryplan.errors import QueryPlanAssertionError

if TYPE_CHECKING:
    import pytest

    from pytest_queryplan.core.checks.verdict import Verdict
    from pytest_queryplan.core.report.nplusone import Relation, Repeat
    from pytest_queryplan.marker import MarkerSpec
    from pytest_queryplan.session import Recorder


#: A test body runs the same SQL text again and again (values are parameters): shape once.
shape_of = functools.lru_cache(maxsize=4096)(sql_shape)
_TABLE = re.compile(r'\b(?:FROM|UPDATE|INTO)\s+"?(?P<table>[\w$]+)"?', re.IGNORECASE)


class TestWatch:
    __test__ = False  # not a test class, whatever pytest's naming rules say

    def __init__(self, item: pytest.Item, spec: MarkerSpec | None, recorder: Recorder) -> None:
        self.item = item
        # A marker on a connection no adapter handles is a warning, then checks nothing.
        if spec is not None and databases.warn_unsupported(item.config, spec.using):
            spec = None
        self.spec = spec
        self.recorder = recorder
        self.run = recorder.run
        self.defaults = recorder.defaults
        self.record = TestRecord()
        self.captured: list[ExplainedQuery] = []
        #: Every other statement the body ran, for the N+1 check: (SQL, call sites).
        self.statements: list[tuple[str, Any]] = []
        self.others: dict[str, list[tuple[str, Any]]] = {}  # the same, by connection
        self.verdicts: dict[tuple[Check, str, int], Verdict] = {}
        self.catalogs: dict[str, DjangoCatalog] = {}
        #: The body changed the schema: plans cached by earlier tests do not hold for it.
        self.ran_ddl = False

    @functools.cached_property
    def full_reads(self) -> NoFilteredFullScan:
        """The one full-read check of this test: a bare marker's and the guard's (the
        guard then keeps the findings in its scope). A guard warning carries its suggestion
        too (worked out and tried once per (table, filter) a test reads whole). Only a bare
        marker's verdict suggests for every finding; the guard asks for suggestions for the
        findings in its scope alone (:meth:`guard_failures`): one for a query the test's
        own code ran would be worked out, tried in a savepoint, and thrown away."""
        spec = self.spec
        allow = self.run.allow_seq_scan | set(spec.allow_seq_scan if spec else ())
        bare = spec is not None and spec.checks_seq_scans
        return NoFilteredFullScan(allow, suggest=bare)

    def aliases(self) -> list[str]:
        """The spec's connection, and with the guard (or a query budget, which counts per
        connection) every connection a dialect explains."""
        names = {self.spec.using} if self.spec else set()
        if self.run.captures_every_test or self.budget is not None:
            names |= databases.explained_aliases()
        return sorted(names)

    @property
    def budget(self) -> int | None:
        return self.spec.max_queries if self.spec is not None else None

    @property
    def needs_statements(self) -> bool:
        """Whether every statement counts, not only what EXPLAIN can describe."""
        return self.run.nplusone != GuardLevel.OFF or self.budget is not None

    @contextmanager
    def recording(self) -> Iterator[None]:
        self.recorder.current = self.record
        try:
            yield
        finally:
            self.recorder.current = None
            if self.record and self.run.keeps_plans and not self.recorder.described:
                from pytest_queryplan.db.server import describe

                self.record.databases = describe(self.aliases())
                self.recorder.described = bool(self.record.databases)
            if self.record:
                self.item.user_properties.append((PROPERTY, self.record.encode()))

    def watches_method(self) -> bool:
        """Whether the test is a unittest method this watch wraps (see the module's doc).

        Coroutine methods only of Django's test cases: Django runs them through
        ``async_to_sync`` and so do we; other frameworks' async runners are left alone."""
        unittest = sys.modules.get("unittest")
        cls = getattr(self.item, "cls", None)
        if unittest is None or not isinstance(cls, type) or not issubclass(cls, unittest.TestCase):
            return False
        if not inspect.iscoroutinefunction(getattr(self.item, "obj", None)):
            return True
        django_test = sys.modules.get("django.test")
        return django_test is not None and issubclass(cls, django_test.SimpleTestCase)

    @contextmanager
    def inside_method(self) -> Iterator[None]:
        """Wrap the test method for the call phase: capture its body, judge before it returns.

        pytest calls ``item.obj`` (it puts it on the test case instance first), and
        pytest-django has Django's test case look the method up on the instance itself: the
        wrapper goes in both places. A failed verdict is then the method's own failure."""
        item = self.item
        method = item.obj
        run: Callable[..., Any] = method
        if inspect.iscoroutinefunction(method):
            from asgiref.sync import async_to_sync

            run = async_to_sync(method)  # as Django itself runs an async test method

        @functools.wraps(method)
        def watched(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            with self.capturing():
                result = run(*args, **kwargs)
            self.verdict()
            return result

        testcase = method.__self__
        from pytest_queryplan.testcase import QueryPlanMixin

        if isinstance(testcase, QueryPlanMixin):
            testcase.queryplan_defaults = self.defaults  # the run's ini and flags
        item.obj = watched
        setattr(testcase, item.name, watched)
        try:
            yield
        finally:
            item.obj = method
            if vars(testcase).get(item.name) is watched:  # pytest may have removed it
                delattr(testcase, item.name)

    @contextmanager
    def capturing(self) -> Iterator[None]:
        aliases = self.aliases()
        with ExitStack() as stack:
            lists: list[list[ExplainedQuery]] = []
            if aliases:  # Django is imported only for a test that has something to capture
                from pytest_queryplan.db.capture import capture_queries

                sites = self.defaults.sites
                for alias in aliases:
                    others = self.others.setdefault(alias, []) if self.needs_statements else None
                    capture = capture_queries(alias, sites, others, self.saw_ddl)
                    lists.append(stack.enter_context(capture))
            try:
                yield
            except QueryPlanAssertionError as exc:
                self.record.check("failed")  # a fixture's check failed the body
                rootdir = str(self.item.config.rootpath)
                for verdict, text in exc.failures:  # the text the test failed with
                    self.record.fail(verdict, text, rootdir, self.run.keeps_plans)
                raise
        self.captured = [query for captured in lists for query in captured]
        self.statements = [found for others in self.others.values() for found in others]

    def saw_ddl(self) -> None:
        self.ran_ddl = True
        self.defaults.index_cache.clear()
        self.recorder.index_cache.clear()

    def judge(
        self, check: Check, alias: str, among: Sequence[ExplainedQuery] | None = None
    ) -> Verdict:
        """``check`` over the queries run on ``alias`` (of ``among``, default: all the body
        ran), judged once per watch for the same queries."""
        pool = self.captured if among is None else among
        queries = [query for query in pool if query.using == alias]
        key = (check, alias, hash(tuple(id(q) for q in queries)))
        if key not in self.verdicts:
            catalog = self.catalogs.get(alias)
            if catalog is None:
                # What the catalog says of the indexes in the plans lasts as long as the
                # plans do (the plan cache's lifetime); for a body that ran DDL, this test.
                defaults = self.defaults
                if not self.ran_ddl:
                    defaults = replace(defaults, index_cache=self.recorder.index_cache)
                catalog = DjangoCatalog.for_alias(alias, defaults)
                self.catalogs[alias] = catalog
            self.verdicts[key] = judge(check, queries, catalog)
        return self.verdicts[key]

    def verdict(self) -> None:
        """Explain what the body ran, check it, and fail the test with every failure found."""
        __tracebackhide__ = True
        spec = self.spec
        mode = self.defaults.mode_for(spec.mode if spec else None)
        cache = self.recorder.cache
        seen, explained = cache.seen, cache.explained
        analyze_tables = self.defaults.analyze_tables
        rootdir = str(self.item.config.rootpath)
        # N+1 and a query budget alone need no EXPLAIN.
        plans = spec is not None and (spec.checks_plans or self.run.snapshot != "off")
        if plans or self.run.explains_every_test:
            if self.ran_ddl:
                cache.clear()
            explain_captured(
                self.to_explain(plans), mode=mode, analyze_tables=analyze_tables, cache=cache
            )
            if self.ran_ddl:  # this test's schema dies with its transaction
                cache.clear()
            self.record.queries += cache.seen - seen
            self.record.explained += cache.explained - explained
            for query in self.captured:
                if query.error is not None:
                    self.record.could_not_explain(query, rootdir)
        failed: list[Verdict] = []
        if spec is not None:
            for check in spec.checks(self.full_reads, self.defaults):
                found = self.judge(check, spec.using)
                self.record.add(found)
                if not found.passed:
                    failed.append(found)
        failures = []
        for found in failed:
            failures.append(render(found, self.defaults.verbose))
            self.record.fail(found, failures[-1], rootdir, self.run.keeps_plans)
        if self.budget is not None:
            failures += self.budget_failures(self.budget)
        if spec is not None and self.run.snapshot != "off":
            failures += self.snapshot([q for q in self.captured if q.using == spec.using])
        if self.run.guard != GuardLevel.OFF:
            failures += self.guard_failures(failed)
        if self.run.nplusone != GuardLevel.OFF:
            failures += self.nplusone_failures()
        if self.run.index_report:
            self.note_usage()
        if failures:
            raise QueryPlanAssertionError("\n\n".join(failures))

    def relation(self, repeat: Repeat) -> Relation | None:
        """The relation a repeated read follows, and where the body loaded its owners: the
        statements on its connection before its first run."""
        from pytest_queryplan.db.relations import relation_of

        captured = self.captured
        first = next(
            (
                n
                for n, q in enumerate(captured)
                if q.sql == repeat.sql and q.site == repeat.call_site
            ),
            None,
        )
        if first is None:
            return None
        alias = captured[first].using
        earlier = [(q.sql, q.site) for q in captured[:first] if q.using == alias]
        return relation_of(repeat.sql, earlier, repeat.read)

    def budget_failures(self, limit: int) -> list[str]:
        """``max_queries``: the body's statements on each connection, within the budget."""
        from pytest_queryplan.core.checks.budget import over_budget
        from pytest_queryplan.core.text.nodes import budget_text

        texts = []
        rootdir = str(self.item.config.rootpath)
        for alias in sorted(self.others):
            statements = [(q.sql, q.site) for q in self.captured if q.using == alias]
            statements += [(sql, sites[0]) for sql, sites in self.others[alias]]
            excess = over_budget(statements, limit, alias, shape_of)
            self.record.check("passed" if excess is None else "failed")
            if excess is None:
                continue
            text = budget_text(excess, "the test body", f"max_queries={limit}")
            texts.append(text)
            site = next((s for s, _ in excess.shapes[0].sites if s is not None), None)
            self.record.failures.append(
                {
                    "kind": "query-budget",
                    "message": text.splitlines()[0],
                    "site": site_dict(site, rootdir),
                }
            )
        return texts

    def snapshot(self, queries: list[ExplainedQuery]) -> list[str]:
        from pytest_queryplan.core.report.snapshot import compare

        rootpath = self.item.config.rootpath
        status, failure = compare(
            self.item.nodeid,
            queries,
            self.run.snapshot_dir,
            rootpath,
            update=self.run.snapshot == "update",
        )
        self.record.snapshot = {"status": status}
        if status == "changed" and self.run.keeps_plans:
            self.record.snapshot.update(self.shapes(queries))
        self.record.check("failed" if failure else "passed")
        return [failure] if failure else []

    def shapes(self, queries: list[ExplainedQuery]) -> dict[str, list[str]]:
        """A changed snapshot's baseline and current shape lines, for a page to draw."""
        from pytest_queryplan.core.report.snapshot import compared, path_for, render

        baseline = path_for(self.run.snapshot_dir, self.item.nodeid).read_text()
        current = render(self.item.nodeid, queries)
        return {"before": compared(baseline), "after": compared(current)}

    def note_usage(self) -> None:
        """Tables read and indexes scanned, and the catalog of tables first seen here."""
        backends = {alias: get_backend(alias) for alias in self.aliases()}
        for alias, backend in backends.items():
            plans = [q.plan for q in self.captured if q.using == alias and q.plan is not None]
            self.recorder.read(plans, backend.dialect)
        new = sorted(self.record.tables - self.recorder.cataloged)
        if not new:
            return
        for backend in backends.values():
            for info in backend.indexes_on(new):
                self.record.indexes.append(info.to_dict())
        self.recorder.cataloged.update(new)

    def to_explain(self, plans: bool) -> list[ExplainedQuery]:
        """The captured queries something will read the plans of: all of them for the
        marker's checks (``plans``) and the index report; for the guard alone, those not
        run by test code, which scope ``app`` leaves out unjudged (counted in the summary).
        A QuerySet the test built but the application ran is explained: its findings are
        counted as the test's."""
        if plans or self.run.index_report:
            return self.captured
        return [query for query in self.captured if not self.left_out(query.site)]

    def in_scope(self, queries: Sequence[ExplainedQuery]) -> list[ExplainedQuery]:
        """``queries`` the guard judges: under scope ``app``, those not run by test code,
        nor built by it (a QuerySet the test made and handed to the application)."""
        return [q for q in queries if not self.left_out(q.site) and not self.test_built(q)]

    def test_built(self, query: ExplainedQuery) -> bool:
        return query.by_test and self.run.scope != GuardScope.ALL

    def left_out(self, site: Any) -> bool:
        """Whether a query run from ``site`` is test code's, which scope ``app`` leaves out."""
        is_test = getattr(self.defaults.sites, "is_test", None)
        if self.run.scope == GuardScope.ALL or is_test is None or site is None:
            return False
        return bool(is_test(site.path))

    def accepted(self, finding: Finding) -> bool:
        if self.run.baseline_update:
            return True
        entries = self.recorder.baseline_entries()
        return Entry(self.item.nodeid, finding.kind, finding.table, finding.sql) in entries

    def guard_failures(self, said: Sequence[Verdict]) -> list[str]:
        """Judge the filtered full reads; the failure texts of the new ones at ``fail`` level."""
        captured = self.captured
        judged = self.in_scope(captured)
        self.record.left_out += len(captured) - len(judged)
        if not any(query.plan for query in captured):
            return []
        level = self.run.guard
        in_scope = {id(q) for q in judged}
        verdicts = []
        for alias in sorted({q.using for q in captured}):
            # The same check, over the same queries, as a bare marker's: one verdict for both.
            found = self.judge(self.full_reads, alias)
            kept = tuple(o for o in found.offenses if id(o.query) in in_scope)
            warned = tuple(o for o in found.warnings if id(o.query) in in_scope)
            for offense in (*found.offenses, *found.warnings):
                if id(offense.query) not in in_scope:  # said in the summary, as a count
                    kind = offense.marks[0].reason if offense in found.warnings else found.kind
                    built = " (a QuerySet the test built)" if offense.query.by_test else ""
                    self.record.leave_out(f"{kind}{built}", len(offense.marks))
            suggestions = found.suggestions
            if not self.full_reads.suggest and (kept or warned):
                dialect = self.catalogs[alias].dialect
                suggestions = dialect.suggest([*kept, *warned], self.catalogs[alias])
            verdicts.append(
                replace(
                    found,
                    passed=not kept,
                    offenses=kept,
                    warnings=warned,
                    suggestions=suggestions,
                )
            )
        rootdir = str(self.item.config.rootpath)
        texts, accepted_only, warned_only = [], True, True
        for verdict in verdicts:
            # An ordered walk under a LIMIT is served (as IndexUsed counts it): a warning of
            # its own kind at either level, with the index that would search and order.
            for offense in verdict.warnings:
                one = replace(verdict, offenses=(offense,), warnings=())
                detail = self.detail(one, offense) if self.run.keeps_plans else None
                for mark in offense.marks:
                    finding = self.guard_finding(verdict, offense, mark, "warn", rootdir)
                    finding.detail = detail
                    if finding.level == "warn":
                        warned_only = False
                    self.record.find(finding)
            if verdict.passed:
                continue
            new = []
            for offense in verdict.offenses:
                fresh = False
                detail = self.detail(verdict, offense) if self.run.keeps_plans else None
                for mark in offense.marks:
                    finding = self.guard_finding(verdict, offense, mark, level, rootdir)
                    finding.detail = detail
                    fresh = fresh or finding.level != "accepted"
                    self.record.find(finding)
                if fresh:
                    new.append(offense)
            if not new:
                continue
            accepted_only = False
            # Said once: the marker may have failed the test with the same queries already.
            seen = {id(o.query) for other in said for o in other.offenses}
            if level == GuardLevel.FAIL and any(id(o.query) not in seen for o in new):
                text = render(replace(verdict, offenses=tuple(new)), self.defaults.verbose)
                texts.append("queryplan guard (--queryplan-guard=fail): " + text)
        failed = any(not v.passed for v in verdicts) and not accepted_only
        outcome = ("warned" if level == GuardLevel.WARN else "failed") if failed else "passed"
        self.record.check("warned" if outcome == "passed" and not warned_only else outcome)
        return texts

    def guard_finding(
        self, verdict: Verdict, offense: Any, mark: Any, level: str, rootdir: str
    ) -> Finding:
        """One full read's finding: its kind (an ordered walk's own), its suggestion's text
        (the (table, Filter) it answers), accepted when the baseline has it."""
        from pytest_queryplan.core.checks.verdict import Reason

        table = mark.node.relation_name or "?"
        kind = Reason.ORDERED_WALK if mark.reason == Reason.ORDERED_WALK else verdict.kind
        finding = Finding.of(str(kind), table, offense.query, condition(mark), level, rootdir)
        filtered = mark.node.filter or ""
        finding.advice = next(
            (
                s.render()
                for s in verdict.suggestions
                if s.table == table and getattr(s, "condition", "") == filtered
            ),
            "",
        )
        if self.accepted(finding):
            finding.level = "accepted"
        return finding

    def detail(self, verdict: Verdict, offense: Any) -> dict[str, Any]:
        """A finding's text and marked plan, for a report that draws it."""
        from pytest_queryplan.core.html.plans import verdict_detail

        one = replace(verdict, offenses=(offense,))
        text = render(one, self.defaults.verbose)
        return verdict_detail(one, text, str(self.item.config.rootpath))

    def tests_loop(self, repeat: Repeat, queries: Sequence[ExplainedQuery], threshold: int) -> bool:
        """Whether the repetition is the test's: no one call the test made into the code
        under test ran the statement ``threshold`` times (each run its own call, as a
        test calling ``add_child()`` in a loop). Left out under scope ``app``; scope
        ``all`` still reports it."""
        if self.run.scope == GuardScope.ALL:
            return False
        runs = [
            q.call
            for q in queries
            if q.site == repeat.call_site and shape_of(q.sql) == repeat.shape
        ]
        if not runs or 0 in runs:  # a run outside any call by the test: not known
            return False
        return max(Counter(runs).values()) < threshold

    def nplusone_failures(self) -> list[str]:
        """The same statement shape from the same line, run at least the threshold times."""
        run = self.run
        threshold = run.nplusone_threshold
        if self.spec is not None and self.spec.allow_repeats is not None:
            threshold = max(threshold, self.spec.allow_repeats + 1)
        others = [
            ExplainedQuery(sql, None, "", site=found[0], call=found[2] if len(found) > 2 else 0)
            for sql, found in self.statements
        ]
        queries = [*self.captured, *others]
        found = repeats(((shape_of(q.sql), q.site, q.sql) for q in queries), threshold)
        rootdir = str(self.item.config.rootpath)
        texts = []
        for repeat in found:
            if self.left_out(repeat.call_site):  # test code's: a count in the summary
                self.record.leave_out(repeat.kind)
                continue
            if self.tests_loop(repeat, queries, threshold):
                self.record.leave_out(f"{repeat.kind} (the test's loop)")
                continue
            if repeat.kind == NPLUSONE_KINDS[0]:  # a read: name the relation it follows
                repeat = replace(repeat, relation=self.relation(repeat))
            match = _TABLE.search(repeat.sql)
            table = match.group("table") if match else "?"
            query = next(q for q in queries if q.site == repeat.call_site and q.sql == repeat.sql)
            finding = Finding.of(
                repeat.kind, table, query, "", run.nplusone, rootdir, count=repeat.count
            )
            text = ""
            if run.keeps_plans or run.nplusone == GuardLevel.FAIL:
                text = repeat_text(repeat, threshold, self.defaults.verbose)
            if run.keeps_plans:
                from pytest_queryplan.core.html.plans import query_detail

                drawn = query_detail(query, None, None, rootdir)
                finding.detail = {"text": text, "queries": [drawn]}
            if self.accepted(finding):
                finding.level = "accepted"
            elif run.nplusone == GuardLevel.FAIL:
                texts.append(text)
            self.record.find(finding)
        # Called only with --queryplan-nplusone on: the check ran.
        new = [
            f for f in self.record.findings if f.kind in NPLUSONE_KINDS and f.level != "accepted"
        ]
        warned = run.nplusone == GuardLevel.WARN
        self.record.check("passed" if not new else ("warned" if warned else "failed"))
        return texts
