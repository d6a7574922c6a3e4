"""The controller's side of the report: add up the records the test reports carry, then
print the "queryplan" section and write ``--queryplan-report``.

Registered only where reports end up (a serial run, or xdist's controller), never on an
xdist worker. Building the lines is ``summary.py``'s job; here they are only written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_queryplan.options import SETTINGS_KEY
from pytest_queryplan.record import records_in
from pytest_queryplan.report import SessionReport
from pytest_queryplan.session import RECORDER_KEY
from pytest_queryplan.snapshot import STALE_OUTPUT
from pytest_queryplan.summary import summary_lines


class QueryPlanReporter:
    def __init__(self, config: pytest.Config) -> None:
        self.recorder = config.stash[RECORDER_KEY]
        run = self.recorder.run
        self.report = SessionReport(
            guard=run.guard,
            mode=config.stash[SETTINGS_KEY].mode,
            snapshots=run.snapshot != "off",
            index_report=run.index_report,
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # The record is made in the call phase; later reports carry the same properties.
        if report.when == "call":
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
        lines = summary_lines(self.report)
        if not lines:
            return
        terminalreporter.write_sep("=", "queryplan")
        for line in lines:
            level = line.split(maxsplit=1)[0]
            terminalreporter.write_line(line, red=level == "FAIL", yellow=level == "WARN")
