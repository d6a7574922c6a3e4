"""The controller's side of the report: add up the records the test reports carry, and
settle the baseline. The outputs are written by the writers (``writers.py``), each an
implementation of the ``pytest_queryplan_write_report`` hook.

Made only where reports end up (a serial run, or xdist's controller), never on an xdist
worker; ``plugin.py``'s hooks call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_queryplan.core.report.session import SessionReport
    from pytest_queryplan.session import Recorder


class ReportCollector:
    """The records every test report carries, added up into one :class:`SessionReport`."""

    def __init__(self, recorder: Recorder, config: pytest.Config) -> None:
        self.recorder = recorder
        self.config = config
        self.run = recorder.run
        self._report: SessionReport | None = None

    @property
    def has_records(self) -> bool:
        """Whether any test reported anything (the report is then built)."""
        return self._report is not None

    @property
    def report(self) -> SessionReport:
        # Built on first use, so a run in which the plugin does nothing imports nothing more.
        if self._report is None:
            from pytest_queryplan.core.report.session import SessionReport

            run = self.recorder.run
            self._report = SessionReport(
                guard=run.guard,
                mode=self.recorder.defaults.mode,
                scope=run.scope,
                snapshots=run.snapshot != "off",
                index_report=run.index_report,
            )
        return self._report

    def add(self, nodeid: str, user_properties: Iterable[Any]) -> None:
        from pytest_queryplan.core.report.record import records_in

        for record in records_in(user_properties):
            self.report.add(nodeid, record)

    def add_stale(self, names: Iterable[str]) -> None:
        names = list(names)
        if names:
            self.report.snapshot["stale"].update(names)

    def settle_baseline(self, tests_run: set[str]) -> None:
        """Write the baseline (``--queryplan-baseline-update``), or note its gone entries."""
        run = self.recorder.run
        if run.baseline_path is None:
            return
        from pytest_queryplan.core.report.baseline import (
            BaselineError,
            Entry,
            compare,
            load,
            updated,
            write,
        )

        found = [Entry(f["test"], f["kind"], f["table"], f["sql"]) for f in self.report.findings]
        try:
            accepted = load(run.baseline_path, missing_ok=run.baseline_update)
        except BaselineError:
            if not run.baseline_update:
                raise
            accepted = []  # malformed: rewritten from this run's findings, as its error advises
        if run.baseline_update:
            write(run.baseline_path, updated(found, accepted, tests_run=tests_run))
            gone = []
        else:
            gone = compare(found, accepted, tests_run=tests_run).gone
        self.report.baseline = {
            "path": str(run.baseline_path),
            "gone": [entry.__dict__ for entry in gone],
        }
