"""The built-in outputs of the session's queryplan report, one plugin object each: the
terminal summary, ``--queryplan-report`` (JSON), ``--queryplan-html`` (the page),
``--queryplan-sarif`` and GitHub annotations. Each implements
``hookspecs.pytest_queryplan_write_report``; ``plugin.py`` registers the ones the run asks
for, and names a writer that fails by its ``what``. Building the lines and documents is
``core/``'s job; here they are only written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_queryplan.options import RunOptions
    from pytest_queryplan.outputs.collector import ReportCollector


def _write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


class TerminalSummary:
    """The "queryplan" section at the end of the terminal report."""

    what = "the terminal summary"

    def pytest_queryplan_write_report(
        self, collector: ReportCollector, terminalreporter: pytest.TerminalReporter | None
    ) -> None:
        if terminalreporter is None or not collector.has_records:
            return  # no test reported anything: nothing to say, nothing loaded
        from pytest_queryplan.core.report.summary import summary_lines
        from pytest_queryplan.dialects import server_binding_aliases
        from pytest_queryplan.dialects.postgresql.generic_text import server_binding_line

        verbose = terminalreporter.config.getoption("verbose", 0) > 0
        lines = summary_lines(collector.report, verbose)
        if not lines:
            return
        said = server_binding_line(server_binding_aliases(), collector.recorder.defaults.mode)
        lines += [said] if said else []
        terminalreporter.write_sep("=", "queryplan")
        for line in lines:
            level = line.split(maxsplit=1)[0]
            terminalreporter.write_line(line, red=level == "FAIL", yellow=level == "WARN")


class JsonReport:
    """``--queryplan-report PATH``: the report as JSON (``python -m pytest_queryplan merge``
    merges shards' files)."""

    what = "--queryplan-report"

    def __init__(self, path: Path) -> None:
        self.path = path

    def pytest_queryplan_write_report(self, collector: ReportCollector) -> None:
        _write_json(self.path, collector.report.to_json())


class HtmlReport:
    """``--queryplan-html PATH``: one self-contained page, plans drawn as trees
    (``core/html``). Registered only when the flag is given: nothing of it loads otherwise."""

    what = "--queryplan-html"

    def __init__(self, path: Path) -> None:
        self.path = path

    def pytest_queryplan_write_report(self, collector: ReportCollector) -> None:
        from pytest_queryplan.core.html.page import page

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(page(collector.report.to_json()), encoding="utf-8")


class SarifReport:
    """``--queryplan-sarif PATH``: findings and failed checks as SARIF 2.1.0 results."""

    what = "--queryplan-sarif"

    def __init__(self, path: Path, rootpath: Path) -> None:
        self.path, self.rootpath = path, rootpath

    def pytest_queryplan_write_report(self, collector: ReportCollector) -> None:
        from pytest_queryplan.core.report.ci import sarif_results
        from pytest_queryplan.core.report.sarif import to_sarif

        results = sarif_results(collector.report)
        uri = self.rootpath.as_uri()
        _write_json(self.path, to_sarif(results, tool_version=_version(), rootdir_uri=uri))


class GithubAnnotations:
    """``GITHUB_ACTIONS=true``: one workflow command per finding, at its call site."""

    what = "the GitHub annotations"

    def __init__(self, rootpath: Path) -> None:
        self.rootpath = rootpath

    def pytest_queryplan_write_report(
        self, collector: ReportCollector, terminalreporter: pytest.TerminalReporter | None
    ) -> None:
        if terminalreporter is None or not collector.has_records:
            return
        from pytest_queryplan.core.report.ci import annotations

        for command in annotations(collector.report, _workspace_prefix(self.rootpath)):
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


def writers(run: RunOptions, rootpath: Path) -> dict[str, object]:
    """The writers this run asks for, by the name each is registered under."""
    chosen: dict[str, object] = {"queryplan-terminal": TerminalSummary()}
    if run.report_path is not None:
        chosen["queryplan-json"] = JsonReport(run.report_path)
    if run.html_path is not None:
        chosen["queryplan-html"] = HtmlReport(run.html_path)
    if run.sarif_path is not None:
        chosen["queryplan-sarif"] = SarifReport(run.sarif_path, rootpath)
    if run.annotations:
        chosen["queryplan-github"] = GithubAnnotations(rootpath)
    return chosen


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-queryplan")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"
