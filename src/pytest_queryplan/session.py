"""The run's per-process state, kept in ``config.stash``, and the report plugins it needs.

Every process that runs tests (a serial run, each xdist worker) has one :class:`Recorder`:
the plan cache, the record of the test being run, and what was already sent to the
controller. The controller (a serial run, or xdist's main process) also gets the
reporter of ``terminal.py``; snapshot runs get ``snapshot.py``'s collection hooks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from pytest_queryplan.db.plancache import PlanCache

if TYPE_CHECKING:
    from pytest_queryplan.core.plan import Plan
    from pytest_queryplan.core.record import TestRecord
    from pytest_queryplan.options import RunOptions


@dataclass
class Recorder:
    run: RunOptions
    cache: PlanCache = field(default_factory=PlanCache)
    #: The record of the test in its call phase; None between tests.
    current: TestRecord | None = None
    #: Tables whose indexes this process already put into a record (index report).
    cataloged: set[str] = field(default_factory=set)
    #: Node ids deselected at collection, and snapshot files no collected test produces.
    deselected: set[str] = field(default_factory=set)
    stale: list[str] = field(default_factory=list)

    def proof(self, index_name: str, plans: Sequence[Plan]) -> None:
        """``Settings.on_proof``: a fixture check passed inside the current test."""
        if self.current is None:
            return
        self.current.prove(index_name)
        self.read(plans)

    def read(self, plans: Iterable[Plan]) -> None:
        """For the index report: the tables and indexes these plans read (catalogs aside)."""
        if self.current is None or not self.run.index_report:
            return
        from pytest_queryplan.guard import user_tables

        for plan in plans:
            self.current.read(user_tables(plan.tables), user_tables(plan.index_names))


RECORDER_KEY = pytest.StashKey[Recorder]()
#: The key under which an xdist worker hands its stale snapshot files to the controller.
STALE_OUTPUT = "queryplan_stale_snapshots"


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def register_plugins(config: pytest.Config) -> None:
    """The report's collector on the controller; snapshot collection hooks when asked."""
    run = config.stash[RECORDER_KEY].run
    manager = config.pluginmanager
    if run.snapshot != "off" and not manager.has_plugin("queryplan-snapshot"):
        from pytest_queryplan import snapshot

        manager.register(snapshot, "queryplan-snapshot")
    if not is_xdist_worker(config) and not manager.has_plugin("queryplan-report"):
        from pytest_queryplan.terminal import QueryPlanReporter

        manager.register(QueryPlanReporter(config), "queryplan-report")
