"""One test's queryplan record, and how it travels to the controller.

The record rides in ``item.user_properties`` under :data:`PROPERTY` as compact JSON: the
public channel pytest-xdist carries inside each test report, so the controller sees the
same records from ``-n 2`` as from a serial run. Findings carry shapes (values taken out)
and call sites relative to the rootdir, so the same suite records the same findings run
after run, serially or not. Pure: stdlib only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.report.shape import filter_shape, finding_key, sql_shape
from pytest_queryplan.core.text.sql import capped

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.checks.verdict import Verdict
    from pytest_queryplan.core.report.callsite import CallSite

PROPERTY = "queryplan"
#: Unexplained queries one test lists in its record (the count has them all).
UNEXPLAINED_LISTED = 20


def site_dict(site: CallSite | None, rootdir: str) -> dict[str, Any] | None:
    return None if site is None else site.relative_to(rootdir).to_dict()


@dataclass
class Finding:
    """What the guard (or the N+1 check) found in one test: the kind, the table, the SQL
    and filter *shapes*, how it was judged (``fail``, ``warn``, or ``accepted`` by the
    baseline), the application line that ran it (and the test's), how often it ran."""

    kind: str
    table: str
    sql: str
    filter: str
    level: str
    site: dict[str, Any] | None = None
    test_site: dict[str, Any] | None = None
    count: int = 1
    #: The index suggested (and how it was tried), or why none is, or a rewrite: the text.
    advice: str = ""
    #: For a report that draws it (``core/html/plans.py``): its text, SQL and marked plan.
    detail: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return finding_key(self.kind, self.table, self.sql, self.filter)

    @classmethod
    def of(
        cls,
        kind: str,
        table: str,
        query: ExplainedQuery,
        condition: str,
        level: str,
        rootdir: str,
        count: int = 1,
    ) -> Finding:
        return cls(
            kind,
            table,
            capped(sql_shape(query.sql)),
            capped(filter_shape(condition)) if condition else "",
            level,
            site_dict(query.site, rootdir),
            site_dict(query.test_site, rootdir),
            count,
        )


@dataclass
class TestRecord:
    """What the plugin checked, found and explained during one test's call phase."""

    __test__ = False  # a record about a test, not a test class

    checks: int = 0
    passed: int = 0
    failed: int = 0
    warned: int = 0
    proven: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    #: Plan checks that failed the test: kind, first line, call site (for SARIF).
    failures: list[dict[str, Any]] = field(default_factory=list)
    queries: int = 0
    explained: int = 0
    unexplained: int = 0
    #: The first unexplained queries: SQL shape, call site, the server's reason.
    why_unexplained: list[dict[str, Any]] = field(default_factory=list)
    #: Queries from test code the guard left out (scope ``app``).
    left_out: int = 0
    #: Findings in those queries, by kind: what scope ``all`` would have shown.
    left_out_findings: dict[str, int] = field(default_factory=dict)
    tables: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    #: The status; for a changed shape with plans kept, its ``before`` and ``after`` lines.
    snapshot: dict[str, Any] | None = None
    #: The databases this process explained on ("PostgreSQL 18.1"), said in its first record.
    databases: list[str] = field(default_factory=list)

    def check(self, outcome: str) -> None:
        """Count one check: ``passed``, ``failed`` or ``warned``."""
        self.checks += 1
        setattr(self, outcome, getattr(self, outcome) + 1)

    def add(self, verdict: Verdict, outcome: str | None = None) -> None:
        """Count one verdict (``outcome`` overrides: ``warned`` for a guard at warn level)."""
        self.check(outcome or ("passed" if verdict.passed else "failed"))
        if verdict.passed and verdict.kind == "index-used":
            self.proven.add(verdict.check.name)

    def fail(self, verdict: Verdict, message: str, rootdir: str, detailed: bool = False) -> None:
        """Note a plan check that failed the test, at its first query's call site;
        ``detailed``: with its text and its queries' plans, for a report that draws them."""
        queries = [o.query for o in verdict.offenses if o.query.site is not None]
        site = site_dict(queries[0].site, rootdir) if queries else None
        first = message.splitlines()[0] if message else verdict.kind
        failure = {"kind": verdict.kind, "message": first, "site": site}
        if detailed:
            from pytest_queryplan.core.html.plans import verdict_detail

            failure["detail"] = verdict_detail(verdict, message, rootdir)
        self.failures.append(failure)

    def find(self, finding: Finding) -> None:
        """Add a finding, once per (key, call site)."""
        if all((f.key, f.site) != (finding.key, finding.site) for f in self.findings):
            self.findings.append(finding)

    def leave_out(self, kind: str, count: int = 1) -> None:
        """Count findings in test code's queries that scope ``app`` leaves out."""
        self.left_out_findings[kind] = self.left_out_findings.get(kind, 0) + count

    def could_not_explain(self, query: ExplainedQuery, rootdir: str) -> None:
        self.unexplained += 1
        if len(self.why_unexplained) < UNEXPLAINED_LISTED:
            reason = (query.error or "unknown").splitlines()[0]
            self.why_unexplained.append(
                {
                    "sql": capped(sql_shape(query.sql)),  # a shape's value lists are one ?
                    "site": site_dict(query.site, rootdir),
                    # "<database> could not EXPLAIN the query: <the server's reason>"
                    "reason": reason.split(" could not EXPLAIN the query: ", 1)[-1],
                }
            )

    def read(self, tables: Iterable[str], indexes: Iterable[str]) -> None:
        """Note tables a plan read and indexes it scanned (for the index report)."""
        self.tables.update(tables)
        self.used.update(indexes)

    def __bool__(self) -> bool:
        return bool(
            self.checks
            or self.queries
            or self.snapshot
            or self.used
            or self.left_out
            or self.left_out_findings
        )

    def encode(self) -> str:
        data = {
            key: sorted(value) if isinstance(value, set) else value
            for key, value in self.__dict__.items()
            if value
        }
        if self.findings:
            data["findings"] = [
                {k: v for k, v in asdict(finding).items() if k != "detail" or v}
                for finding in self.findings
            ]
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> TestRecord:
        data = json.loads(text)
        record = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        for name in ("proven", "tables", "used"):
            setattr(record, name, set(getattr(record, name)))
        record.findings = [Finding(**f) for f in data.get("findings", [])]
        return record


def records_in(user_properties: Iterable[Any]) -> list[TestRecord]:
    """The queryplan records among a test report's user properties."""
    return [
        TestRecord.decode(value)
        for name, value in (tuple(pair) for pair in user_properties)
        if name == PROPERTY and isinstance(value, str)
    ]
