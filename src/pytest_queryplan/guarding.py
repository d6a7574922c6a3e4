"""The suite-wide findings of one watched test: filtered full reads (``--queryplan-guard``)
and repeated queries (``--queryplan-nplusone``), each judged within the guard's scope,
checked against the baseline, recorded, and turned into the test's failure texts.

Scope ``app`` leaves out queries whose call site is test code (a test's own lookup on a
column no application query filters by is noise); the record counts them. A finding the
baseline accepts is recorded as ``accepted`` and fails nothing; ``--queryplan-baseline-
update`` accepts every finding of the run.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pytest_queryplan.core.baseline import Entry
from pytest_queryplan.core.messages import render
from pytest_queryplan.core.modes import GuardLevel, GuardScope
from pytest_queryplan.core.node_messages import repeat_text
from pytest_queryplan.core.nodechecks import NoFilteredFullScan
from pytest_queryplan.core.nplusone import repeats
from pytest_queryplan.core.query import ExplainedQuery
from pytest_queryplan.core.record import Finding
from pytest_queryplan.core.shape import sql_shape

if TYPE_CHECKING:
    from pytest_queryplan.core.verdict import Verdict
    from pytest_queryplan.watch import TestWatch

#: A test body runs the same SQL text again and again (values are parameters): shape once.
shape_of = functools.lru_cache(maxsize=4096)(sql_shape)
_TABLE = re.compile(r'\b(?:FROM|UPDATE|INTO)\s+"?(?P<table>[\w$]+)"?', re.IGNORECASE)


def in_scope(watch: TestWatch, queries: Sequence[ExplainedQuery]) -> list[ExplainedQuery]:
    """``queries`` the guard judges: under scope ``app``, those not run by test code."""
    is_test = getattr(watch.defaults.sites, "is_test", None)
    if watch.run.scope == GuardScope.ALL or is_test is None:
        return list(queries)
    return [q for q in queries if q.site is None or not is_test(q.site.path)]


def _accepted(watch: TestWatch, finding: Finding) -> bool:
    if watch.run.baseline_update:
        return True
    entries = watch.recorder.baseline_entries()
    return Entry(watch.item.nodeid, finding.kind, finding.table, finding.sql) in entries


def guard_failures(watch: TestWatch, said: Sequence[Verdict]) -> list[str]:
    """Judge the filtered full reads; the failure texts of the new ones at ``fail`` level."""
    captured = watch.captured
    if not any(query.plan for query in captured):
        return []
    level = watch.run.guard
    judged = in_scope(watch, captured)
    watch.record.left_out += len(captured) - len(judged)
    spec = watch.spec
    allow = watch.run.allow_seq_scan | set(spec.allow_seq_scan if spec else ())
    # A warning shows no suggestion: none is worked out (or tried on the planner) for it.
    check = NoFilteredFullScan(allow, suggest=level == GuardLevel.FAIL)
    verdicts = [watch.judge(check, alias, judged) for alias in sorted({q.using for q in captured})]
    rootdir = str(watch.item.config.rootpath)
    texts, accepted_only = [], True
    for verdict in (v for v in verdicts if not v.passed):
        new = []
        for offense in verdict.offenses:
            fresh = False
            for mark in offense.marks:
                table = mark.node.relation_name or "?"
                finding = Finding.of(
                    verdict.kind, table, offense.query, mark.node.filter or "", level, rootdir
                )
                if _accepted(watch, finding):
                    finding.level = "accepted"
                else:
                    fresh = True
                watch.record.find(finding)
            if fresh:
                new.append(offense)
        if not new:
            continue
        accepted_only = False
        # Said once: the marker may have failed the test with the same queries already.
        seen = {id(o.query) for other in said for o in other.offenses}
        if level == GuardLevel.FAIL and any(id(o.query) not in seen for o in new):
            text = render(replace(verdict, offenses=tuple(new)), watch.defaults.verbose)
            texts.append("queryplan guard (--queryplan-guard=fail): " + text)
    failed = any(not v.passed for v in verdicts) and not accepted_only
    watch.record.check(("warned" if level == GuardLevel.WARN else "failed") if failed else "passed")
    return texts


def nplusone_failures(watch: TestWatch) -> list[str]:
    """The same statement shape from the same line, run at least the threshold times."""
    run = watch.run
    threshold = run.nplusone_threshold
    if watch.spec is not None and watch.spec.allow_repeats is not None:
        threshold = max(threshold, watch.spec.allow_repeats + 1)
    others = [ExplainedQuery(sql, None, "", site=site) for sql, (site, _) in watch.statements]
    queries = in_scope(watch, [*watch.captured, *others])
    found = repeats(((shape_of(q.sql), q.site, q.sql) for q in queries), threshold)
    rootdir = str(watch.item.config.rootpath)
    texts = []
    for repeat in found:
        match = _TABLE.search(repeat.sql)
        table = match.group("table") if match else "?"
        query = next(q for q in queries if q.site == repeat.call_site and q.sql == repeat.sql)
        finding = Finding.of(
            "repeated-query", table, query, "", run.nplusone, rootdir, count=repeat.count
        )
        if _accepted(watch, finding):
            finding.level = "accepted"
        elif run.nplusone == GuardLevel.FAIL:
            texts.append(repeat_text(repeat, threshold, watch.defaults.verbose))
        watch.record.find(finding)
    if run.nplusone != GuardLevel.OFF:
        new = [
            f for f in watch.record.findings if f.kind == "repeated-query" and f.level != "accepted"
        ]
        outcome = (
            "passed" if not new else ("warned" if run.nplusone == GuardLevel.WARN else "failed")
        )
        watch.record.check(outcome)
    return texts
