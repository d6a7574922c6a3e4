"""The controller's side of the report: add up the records the test reports carry, then
print the "queryplan" section and write ``--queryplan-report``.

Made only where reports end up (a serial run, or xdist's controller), never on an xdist
worker; ``plugin.py``'s hooks call it. Building the lines is ``core/summary.py``'s job;
here they are only written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
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
                scope=run.scope,
                snapshots=run.snapshot != "off",
                index_report=run.index_report,
            )
        return self._report

    def add(self, nodeid: str, user_properties: Iterable[Any]) -> None:
        from pytest_queryplan.core.record import records_in

        for record in records_in(user_properties):
            self.report.add(nodeid, record)

    def add_stale(self, names: Iterable[str]) -> None:
        names = list(names)
        if names:
            self.report.snapshot["stale"].update(names)

    def write_json(self) -> None:
        path = self.recorder.run.report_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.report.to_json(), indent=2) + "\n")

    def write_sarif(self, rootpath: Path, version: str) -> None:
        path = self.recorder.run.sarif_path
        if path is None:
            return
        from pytest_queryplan.core.ci_outputs import sarif_results
        from pytest_queryplan.core.sarif import to_sarif

        doc = to_sarif(
            sarif_results(self.report), tool_version=version, rootdir_uri=rootpath.as_uri()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2) + "\n")

    def settle_baseline(self, tests_run: set[str]) -> None:
        """Write the baseline (``--queryplan-baseline-update``), or note its gone entries."""
        run = self.recorder.run
        if run.baseline_path is None:
            return
        from pytest_queryplan.core.baseline import Entry, compare, load, updated, write

        found = [Entry(f["test"], f["kind"], f["table"], f["sql"]) for f in self.report.findings]
        accepted = load(run.baseline_path, missing_ok=run.baseline_update)
        if run.baseline_update:
            write(run.baseline_path, updated(found, accepted, tests_run=tests_run))
            gone = []
        else:
            gone = compare(found, accepted, tests_run=tests_run).gone
        self.report.baseline = {
            "path": str(run.baseline_path),
            "gone": [entry.__dict__ for entry in gone],
        }

    def write_summary(self, terminalreporter: pytest.TerminalReporter, rootpath: Path) -> None:
        if self._report is None:  # no test reported anything: nothing to say, nothing loaded
            return
        from pytest_queryplan.core.summary import summary_lines

        verbose = terminalreporter.config.getoption("verbose", 0) > 0
        lines = summary_lines(self.report, verbose)
        if lines:
            from pytest_queryplan.backends import server_binding_aliases
            from pytest_queryplan.core.generic_messages import server_binding_line

            said = server_binding_line(server_binding_aliases(), self.recorder.defaults.mode)
            lines += [said] if said else []
            terminalreporter.write_sep("=", "queryplan")
            for line in lines:
                level = line.split(maxsplit=1)[0]
                terminalreporter.write_line(line, red=level == "FAIL", yellow=level == "WARN")
        if self.recorder.run.annotations:
            from pytest_queryplan.core.ci_outputs import annotations

            for command in annotations(self.report, _workspace_prefix(rootpath)):
                terminalreporter.write_line(command)


def _workspace_prefix(rootpath: Path) -> str:
    """The rootdir relative to the repository GitHub checked out (``GITHUB_WORKSPACE``)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    try:
        relative = rootpath.resolve().relative_to(Path(workspace).resolve())
    except ValueError:
        return ""
    return "" if str(relative) == "." else relative.as_posix() + "/"
