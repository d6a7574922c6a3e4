"""The controller's side of the report: add up the records the test reports carry, then
print the "queryplan" section and write ``--queryplan-report``.

Made only where reports end up (a serial run, or xdist's controller), never on an xdist
worker; ``plugin.py``'s hooks call it. Building the lines is ``core/summary.py``'s job;
here they are only written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_queryplan.core.report import SessionReport
    from pytest_queryplan.session import Recorder


class ReportCollector:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._report: SessionReport | None = None

    @property
    def report(self) -> SessionReport:
        # Built on first use, so a run in which the plugin does nothing imports nothing more.
        if self._report is None:
            from pytest_queryplan.core.report import SessionReport

            run = self.recorder.run
            self._report = SessionReport(
                guard=run.guard,
                mode=self.recorder.defaults.mode,
                snapshots=run.snapshot != "off",
                index_report=run.index_report,
            )
        return self._report

    def add(self, nodeid: str, user_properties: Iterable[Any]) -> None:
        from pytest_queryplan.core.record import records_in

        for record in records_in(user_properties):
            self.report.add(nodeid, record)

    def add_stale(self, names: Iterable[str]) -> None:
        self.report.snapshot["stale"].update(names)

    def write_json(self) -> None:
        path = self.recorder.run.report_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.report.to_json(), indent=2) + "\n")

    def write_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        from pytest_queryplan.core.summary import summary_lines

        lines = summary_lines(self.report)
        if not lines:
            return
        terminalreporter.write_sep("=", "queryplan")
        for line in lines:
            level = line.split(maxsplit=1)[0]
            terminalreporter.write_line(line, red=level == "FAIL", yellow=level == "WARN")
