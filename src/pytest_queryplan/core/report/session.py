"""The session's queryplan report: test records added up, JSON in and out, merging shards.
(The summary's lines are ``summary.py``'s; writing any output is ``outputs/writers.py``'s.)

Pure: stdlib only. Every list is sorted and findings are grouped by shape
(``groups.py``), so a serial run, ``-n 2`` and merged shards give the same report; only
``plans.explains_run`` differs, since each process has its own cache, and a drawn plan's
estimates (``detail``), since each xdist worker has its own test database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.core.report.groups import (
    expand,
    expand_unexplained,
    finding_groups,
    unexplained_groups,
)
from pytest_queryplan.core.report.hygiene import redundant, unused
from pytest_queryplan.core.report.record import TestRecord

#: Format 3: format 2 (findings grouped by shape with call sites; unexplained queries and
#: failed checks listed; the guard's scope, queries left out, the baseline) plus what the
#: HTML page draws: the databases, each failed check's and finding group's ``detail`` (text,
#: SQL, call sites, marked plan) and the changed snapshots' shapes. Format 2 is still read.
FORMAT = 3
READS = (2, 3)
_COUNTS = ("run", "passed", "failed", "warned")
_PLANS = ("queries_seen", "explains_run", "unexplained", "left_out")
_SNAPSHOT_LISTS = ("changed", "missing", "written", "stale")


@dataclass
class SessionReport:
    guard: str = "off"
    mode: str = "forced"
    scope: str = "app"
    snapshots: bool = False
    index_report: bool = False
    tests: int = 0
    checks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTS, 0))
    failed_tests: set[str] = field(default_factory=set)
    proven: set[str] = field(default_factory=set)
    findings: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    unexplained: list[dict[str, Any]] = field(default_factory=list)
    plans: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_PLANS, 0))
    #: Findings in test code's queries that scope ``app`` left out, by kind.
    left_out_findings: dict[str, int] = field(default_factory=dict)
    #: --queryplan-baseline: {path, gone: [entries]}, set by the controller.
    baseline: dict[str, Any] | None = None
    snapshot: dict[str, Any] = field(
        default_factory=lambda: {"compared": 0, **{k: set() for k in _SNAPSHOT_LISTS}}
    )
    tables: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    indexes: dict[str, IndexInfo] = field(default_factory=dict)
    #: The databases the run explained on ("PostgreSQL 18.1").
    databases: set[str] = field(default_factory=set)
    #: Changed snapshots whose shapes were kept: test id -> {before, after} lines.
    shapes: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, test_id: str, record: TestRecord) -> None:
        self.tests += 1
        self.checks["run"] += record.checks
        for key in ("passed", "failed", "warned"):
            self.checks[key] += getattr(record, key)
        if record.failed:
            self.failed_tests.add(test_id)
        self.proven |= record.proven
        self.findings += [{"test": test_id, **finding.__dict__} for finding in record.findings]
        self.failures += [{"test": test_id, **failure} for failure in record.failures]
        self.unexplained += [{"test": test_id, **item} for item in record.why_unexplained]
        self.plans["queries_seen"] += record.queries
        self.plans["explains_run"] += record.explained
        self.plans["unexplained"] += record.unexplained
        self.plans["left_out"] += record.left_out
        _add_counts(self.left_out_findings, record.left_out_findings)
        if record.snapshot:
            self.snapshot["compared"] += 1
            status = record.snapshot["status"]
            if status in self.snapshot:
                self.snapshot[status].add(test_id)
            if "before" in record.snapshot:
                self.shapes[test_id] = {k: record.snapshot[k] for k in ("before", "after")}
        self.databases.update(record.databases)
        self.tables |= record.tables
        self.used |= record.used
        for data in record.indexes:
            self.indexes[data["name"]] = IndexInfo.from_dict(data)

    @property
    def did_something(self) -> bool:
        return bool(self.tests or self.snapshot["stale"])

    @property
    def failed(self) -> bool:
        """A check failed or a finding at ``fail`` level that no baseline accepted."""
        return bool(self.checks["failed"]) or any(f["level"] == "fail" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        failures = sorted(self.failures, key=lambda f: (f["test"], f["kind"], f["message"]))
        data: dict[str, Any] = {
            "queryplan_report": FORMAT,
            "guard": self.guard,
            "mode": self.mode,
            "scope": self.scope,
            "databases": sorted(self.databases),
            "tests": self.tests,
            "checks": dict(self.checks),
            "failed_tests": sorted(self.failed_tests),
            "failed_checks": failures,
            "indexes_proven": sorted(self.proven),
            "findings": finding_groups(self.findings),
            "unexplained": unexplained_groups(self.unexplained),
            "plans": dict(self.plans),
            "left_out_findings": dict(sorted(self.left_out_findings.items())),
            "baseline": self.baseline,
            "snapshots": None,
            "index_usage": None,
            "index_report": None,
        }
        if self.snapshots:
            data["snapshots"] = {
                key: sorted(v) if isinstance(v, set) else v for key, v in self.snapshot.items()
            }
            data["snapshots"]["shapes"] = {test: self.shapes[test] for test in sorted(self.shapes)}
        if self.index_report:
            data["index_usage"] = {
                "tables": sorted(self.tables),
                "used": sorted(self.used),
                "indexes": [self.indexes[name].to_dict() for name in sorted(self.indexes)],
            }
            tables = self.tables
            data["index_report"] = {
                "unused": [i.to_dict() for i in unused(self.indexes.values(), self.used, tables)],
                "redundant": [
                    {**r.index.to_dict(), "covered_by": list(r.covered_by)}
                    for r in redundant(self.indexes.values(), tables)
                ],
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionReport:
        if data.get("queryplan_report") not in READS:
            raise ValueError(f"not a queryplan report (format {FORMAT}): {str(data)[:80]}")
        report = cls(
            guard=data["guard"], mode=data["mode"], scope=data["scope"], tests=data["tests"]
        )
        report.checks.update(data["checks"])
        report.failed_tests = set(data["failed_tests"])
        report.failures = list(data["failed_checks"])
        report.proven = set(data["indexes_proven"])
        report.findings = expand(data["findings"])
        report.unexplained = expand_unexplained(data["unexplained"])
        report.plans.update(data["plans"])
        report.left_out_findings = dict(data.get("left_out_findings") or {})
        report.baseline = data.get("baseline")
        report.databases = set(data.get("databases", ()))
        if data.get("snapshots") is not None:
            report.snapshots = True
            for key, value in data["snapshots"].items():
                if key == "shapes":
                    report.shapes = dict(value)
                else:
                    report.snapshot[key] = set(value) if isinstance(value, list) else value
        if data.get("index_usage") is not None:
            report.index_report = True
            usage = data["index_usage"]
            report.tables, report.used = set(usage["tables"]), set(usage["used"])
            report.indexes = {i["name"]: IndexInfo.from_dict(i) for i in usage["indexes"]}
        return report


def merge(reports: Iterable[SessionReport]) -> SessionReport:
    """One report for many shards; index hygiene is then judged over the merged usage."""
    reports = list(reports)
    guards = sorted({r.guard for r in reports})
    modes = sorted({r.mode for r in reports})
    scopes = sorted({r.scope for r in reports})
    merged = SessionReport(
        guard=",".join(guards) or "off",
        mode=",".join(modes) or "forced",
        scope=",".join(scopes) or "app",
    )
    for report in reports:
        merged.snapshots |= report.snapshots
        merged.index_report |= report.index_report
        merged.tests += report.tests
        for key in _COUNTS:
            merged.checks[key] += report.checks[key]
        for key in merged.plans:
            merged.plans[key] += report.plans[key]
        _add_counts(merged.left_out_findings, report.left_out_findings)
        merged.failed_tests |= report.failed_tests
        merged.proven |= report.proven
        merged.findings += report.findings
        merged.failures += report.failures
        merged.unexplained += report.unexplained
        if report.baseline is not None:
            merged.baseline = merged.baseline or {"path": report.baseline["path"], "gone": []}
            merged.baseline["gone"] = sorted(
                {
                    tuple(sorted(g.items()))
                    for g in merged.baseline["gone"] + report.baseline["gone"]
                }
            )
            merged.baseline["gone"] = [dict(g) for g in merged.baseline["gone"]]
        merged.snapshot["compared"] += report.snapshot["compared"]
        for key in _SNAPSHOT_LISTS:
            merged.snapshot[key] |= report.snapshot[key]
        merged.tables |= report.tables
        merged.used |= report.used
        merged.indexes.update(report.indexes)
        merged.databases |= report.databases
        merged.shapes.update(report.shapes)
    return merged


def _add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    for key, number in more.items():
        total[key] = total.get(key, 0) + number
