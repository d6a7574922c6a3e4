"""The run's per-process state, kept in ``config.stash``.

Every process that runs tests (a serial run, each xdist worker) has one :class:`Recorder`:
the plan cache, the record of the test being run, and what was already sent to the
controller. The controller (a serial run, or xdist's main process) also has a
:class:`~pytest_queryplan.terminal.ReportCollector`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from pytest_queryplan.core.checks.defaults import IndexCache
from pytest_queryplan.db.plancache import PlanCache

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.defaults import Defaults
    from pytest_queryplan.core.checks.dialect import Dialect
    from pytest_queryplan.core.checks.verdict import Verdict
    from pytest_queryplan.core.plan.tree import Plan
    from pytest_queryplan.core.report.baseline import Entry
    from pytest_queryplan.core.report.record import TestRecord
    from pytest_queryplan.options import RunOptions


@dataclass
class Recorder:
    run: RunOptions
    defaults: Defaults
    cache: PlanCache = field(default_factory=PlanCache)
    #: What the catalog said of the indexes the watched tests' plans name, kept as long as
    #: the plan cache: the schema holds from test to test unless a test body runs DDL,
    #: which empties both. (A fixture's or assert_uses_index's checks use the per-test
    #: ``defaults.index_cache``.)
    index_cache: IndexCache = field(default_factory=IndexCache)
    #: The record of the test in its call phase; None between tests.
    current: TestRecord | None = None
    #: Tables whose indexes this process already put into a record (index report).
    cataloged: set[str] = field(default_factory=set)
    #: Node ids deselected at collection, and snapshot files no collected test produces.
    deselected: set[str] = field(default_factory=set)
    stale: list[str] = field(default_factory=list)
    #: This process already said which databases it explained on (in a record).
    described: bool = False
    _baseline: frozenset[Entry] | None = None

    def baseline_entries(self) -> frozenset[Entry]:
        """The accepted findings of ``--queryplan-baseline``, read once per process."""
        if self._baseline is None:
            path = self.run.baseline_path
            entries: list[Entry] = []
            if path is not None:
                from pytest_queryplan.core.report.baseline import load

                entries = load(path, missing_ok=self.run.baseline_update)
            self._baseline = frozenset(entries)
        return self._baseline

    def verdict(self, verdict: Verdict) -> None:
        """``Defaults.on_verdict``: a fixture check reached a verdict inside the current test.

        Only passes are counted here: a failure counts when it fails the test (a test may
        expect it with ``pytest.raises``), with the error's own text (``watch.capturing``).
        """
        if self.current is None or not verdict.passed:
            return
        self.current.add(verdict)
        if verdict.dialect is not None:
            plans = [o.query.plan for o in verdict.proof if o.query.plan is not None]
            self.read(plans, verdict.dialect)

    def read(self, plans: Iterable[Plan], dialect: Dialect) -> None:
        """For the index report: the tables and indexes these plans read (the database's
        own catalogs aside)."""
        if self.current is None or not self.run.index_report:
            return
        system = dialect.is_system_table
        for plan in plans:
            self.current.read(
                {t for t in plan.tables if not system(t)},
                {i for i in plan.index_names if not system(i)},
            )


RECORDER_KEY = pytest.StashKey[Recorder]()
#: The key under which an xdist worker hands its stale snapshot files to the controller.
STALE_OUTPUT = "queryplan_stale_snapshots"


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")
