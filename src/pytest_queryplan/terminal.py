"""The controller's side of the report: add up the records the test reports carry, then
print the "queryplan" section and write ``--queryplan-report``.

Registered only where reports end up (a serial run, or xdist's controller), never on an
xdist worker. Building the lines is ``summary.py``'s job; here they are only written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from pytest_queryplan.options import SETTINGS_KEY
from pytest_queryplan.session import RECORDER_KEY, STALE_OUTPUT

if TYPE_CHECKING:
    from pytest_queryplan.core.report import SessionReport


class QueryPlanReporter:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.recorder = config.stash[RECORDER_KEY]
        self._report: SessionReport | None = None

    @property
    def report(self) -> SessionReport:
        # Built on first use, so a run in which the plugin does nothing imports nothing more.
        if self._report is None:
            from pytest_queryplan.core.report import SessionReport

            run = self.recorder.run
            self._report = SessionReport(
                guard=run.guard,
                mode=self.config.stash[SETTINGS_KEY].mode,
                snapshots=run.snapshot != "off",
                index_report=run.index_report,
            )
        return self._report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # The record is made in the call phase; later reports carry the same properties.
        if report.when == "call" and report.user_properties:
            from pytest_queryplan.core.record import records_in

            for record in records_in(report.user_properties):
                self.report.add(report.nodeid, record)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        self.report.snapshot["stale"].update(output.get(STALE_OUTPUT, ()))

    def pytest_sessionfinish(self) -> None:
        self.report.snapshot["stale"].update(self.recorder.stale)  # serial run: ours
        path = self.recorder.run.report_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.report.to_json(), indent=2) + "\n")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        from pytest_queryplan.core.summary import summary_lines

        lines = summary_lines(self.report)
        if not lines:
            return
        terminalreporter.write_sep("=", "queryplan")
        for line in lines:
            level = line.split(maxsplit=1)[0]
            terminalreporter.write_line(line, red=level == "FAIL", yellow=level == "WARN")
