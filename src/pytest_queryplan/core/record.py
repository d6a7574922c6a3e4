"""One test's queryplan record, and how it travels to the controller.

The record rides in ``item.user_properties`` under :data:`PROPERTY` as compact JSON: the
public channel pytest-xdist carries inside each test report, so the controller sees the
same records from ``-n 2`` as from a serial run. Pure: stdlib only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.sqltext import capped, short_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.verdict import Verdict

PROPERTY = "queryplan"


@dataclass
class Finding:
    """A filtered sequential scan the guard found: where, on what, and how it was judged."""

    table: str
    sql: str
    filter: str
    level: str  # "fail" or "warn"


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
    queries: int = 0
    explained: int = 0
    unexplained: int = 0
    tables: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    snapshot: dict[str, str] | None = None

    def check(self, outcome: str) -> None:
        """Count one check: ``passed``, ``failed`` or ``warned``."""
        self.checks += 1
        setattr(self, outcome, getattr(self, outcome) + 1)

    def add(self, verdict: Verdict, outcome: str | None = None) -> None:
        """Count one verdict (``outcome`` overrides: ``warned`` for a guard at warn level)."""
        self.check(outcome or ("passed" if verdict.passed else "failed"))
        if verdict.passed and verdict.kind == "index-used":
            self.proven.add(verdict.check.name)

    def find(self, verdict: Verdict, level: str) -> None:
        """Every (table, query) a guard verdict found, once."""
        seen = {(f.table, f.sql) for f in self.findings}
        for offense in verdict.offenses:
            sql = short_sql(offense.query.sql)
            for mark in offense.marks:
                table = mark.node.relation_name or "?"
                if (table, sql) not in seen:
                    seen.add((table, sql))
                    self.findings.append(Finding(table, sql, capped(mark.node.filter or ""), level))

    def read(self, tables: Iterable[str], indexes: Iterable[str]) -> None:
        """Note tables a plan read and indexes it scanned (for the index report)."""
        self.tables.update(tables)
        self.used.update(indexes)

    def __bool__(self) -> bool:
        return bool(self.checks or self.queries or self.snapshot or self.used)

    def encode(self) -> str:
        data = {
            key: sorted(value) if isinstance(value, set) else value
            for key, value in self.__dict__.items()
            if value
        }
        if self.findings:
            data["findings"] = [finding.__dict__ for finding in self.findings]
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
