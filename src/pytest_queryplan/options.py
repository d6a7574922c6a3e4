"""Command-line flags and ini keys, and what they resolve to for a run.

Each flag shares its ``dest`` with the ini key it overrides; the flag wins, then the ini,
then the default. The hooks that call these live in ``plugin.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_queryplan.core.checks.defaults import Defaults
from pytest_queryplan.core.checks.modes import GuardLevel, GuardScope, Mode
from pytest_queryplan.errors import QueryPlanUsageError


@dataclass(frozen=True)
class RunOptions:
    """The suite-wide features: guard, JSON report, snapshots, index hygiene."""

    guard: GuardLevel = GuardLevel.OFF
    report_path: Path | None = None
    snapshot: str = "off"  # off, check or update
    snapshot_dir: Path = Path("queryplan_snapshots")
    index_report: bool = False
    allow_seq_scan: frozenset[str] = frozenset()
    scope: GuardScope = GuardScope.APP
    sarif_path: Path | None = None
    baseline_path: Path | None = None
    baseline_update: bool = False
    nplusone: GuardLevel = GuardLevel.OFF
    nplusone_threshold: int = 5
    #: GITHUB_ACTIONS=true: one workflow command per finding, at its call site.
    annotations: bool = False
    html_path: Path | None = None

    @property
    def explains_every_test(self) -> bool:
        """Every test that touches the database has its queries captured and explained."""
        return self.guard != GuardLevel.OFF or self.index_report

    @property
    def keeps_plans(self) -> bool:
        """Records carry the plans of failed checks, findings and changed snapshots: an
        output that draws them may be written (the HTML page, or a JSON report a later
        ``merge --html-output`` reads)."""
        return self.report_path is not None or self.html_path is not None

    @property
    def captures_every_test(self) -> bool:
        """Every database test's statements are captured (the N+1 check needs no EXPLAIN)."""
        return self.explains_every_test or self.nplusone != GuardLevel.OFF


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("queryplan", "query plan assertions (pytest-queryplan)")
    group.addoption(
        "--queryplan-mode",
        dest="queryplan_mode",
        default=None,
        choices=Mode.choices(),
        help="forced (default: can an index serve the query?), natural (the planner's "
        "choice for the data as it is) or generic (the plan once the statement is prepared, "
        "without its values). Overrides ini queryplan_mode.",
    )
    parser.addini(
        "queryplan_mode",
        "Default planner mode for plan checks: forced, natural or generic.",
        default="",
    )
    parser.addini(
        "queryplan_analyze",
        "In natural mode, ANALYZE the tables a query reads (inside the test's transaction) "
        "before explaining it.",
        type="bool",
        default=False,
    )
    parser.addini(
        "queryplan_strict",
        "An index check passes only when the index serves the query (searched with an Index "
        "Cond, no key column left to a Filter); false: when it appears in the plan.",
        type="bool",
        default=True,
    )
    parser.addini(
        "queryplan_allow_seq_scan",
        "Tables whose filtered sequential scans are not findings (one per line).",
        type="linelist",
        default=[],
    )
    group.addoption(
        "--queryplan-guard",
        dest="queryplan_guard",
        default=None,
        choices=GuardLevel.choices(),
        help="off (default), warn or fail: explain every query of every test that uses the "
        "database and report (warn) or fail (fail) filtered sequential scans. Overrides ini "
        "queryplan_guard.",
    )
    parser.addini("queryplan_guard", "Suite-wide seq-scan guard: off, warn or fail.", default="")
    group.addoption(
        "--queryplan-report",
        dest="queryplan_report",
        default=None,
        metavar="PATH",
        help="Write the queryplan summary as JSON to PATH (merge shards' files with "
        "`python -m pytest_queryplan merge`).",
    )
    group.addoption(
        "--queryplan-snapshot",
        dest="queryplan_snapshot",
        action="store_true",
        default=False,
        help="Compare the plan shapes of @pytest.mark.queryplan tests with their baselines.",
    )
    group.addoption(
        "--queryplan-snapshot-update",
        dest="queryplan_snapshot_update",
        action="store_true",
        default=False,
        help="Write the plan-shape baselines anew (implies --queryplan-snapshot).",
    )
    parser.addini(
        "queryplan_snapshot_dir",
        "Directory of plan-shape baselines, relative to the rootdir.",
        default="queryplan_snapshots",
    )
    group.addoption(
        "--queryplan-index-report",
        dest="queryplan_index_report",
        action="store_true",
        default=False,
        help="List the indexes no explained plan used and redundant indexes, for the tables "
        "the suite's queries touched.",
    )


def add_ci_options(parser: pytest.Parser) -> None:
    """The flags a team adopting the guard on a large suite needs."""
    group = parser.getgroup("queryplan")
    group.addoption(
        "--queryplan-guard-scope",
        dest="queryplan_guard_scope",
        default=None,
        choices=GuardScope.choices(),
        help="app (default): a query run by test code (python_files, conftest.py) is not a "
        "finding; all: every query is. Overrides ini queryplan_guard_scope.",
    )
    parser.addini("queryplan_guard_scope", "Guard scope: app or all.", default="")
    group.addoption(
        "--queryplan-sarif",
        dest="queryplan_sarif",
        default=None,
        metavar="PATH",
        help="Write guard findings and failed plan checks as SARIF 2.1.0 to PATH.",
    )
    group.addoption(
        "--queryplan-html",
        dest="queryplan_html",
        default=None,
        metavar="PATH",
        help="Write a self-contained HTML report to PATH: the run, failed checks and "
        "findings with their plans drawn as trees, snapshot changes side by side.",
    )
    group.addoption(
        "--queryplan-baseline",
        dest="queryplan_baseline",
        default=None,
        metavar="PATH",
        help="Accepted findings: those in PATH are reported as accepted and do not fail.",
    )
    group.addoption(
        "--queryplan-baseline-update",
        dest="queryplan_baseline_update",
        action="store_true",
        default=False,
        help="Write this run's findings to the --queryplan-baseline file (none fail).",
    )
    group.addoption(
        "--queryplan-nplusone",
        dest="queryplan_nplusone",
        default=None,
        choices=GuardLevel.choices(),
        help="off (default), warn or fail: the same query from the same line run at least "
        "queryplan_nplusone_threshold times in one test. Overrides ini queryplan_nplusone.",
    )
    parser.addini(
        "queryplan_nplusone", "Repeated-query (N+1) check: off, warn or fail.", default=""
    )
    parser.addini(
        "queryplan_nplusone_threshold",
        "Runs of one query from one line, in one test, that make it a repeated query.",
        default="5",
    )


def _choice(config: pytest.Config, name: str, kind: type[Mode] | type[GuardLevel], default: str):
    value = config.getoption(name) or config.getini(name) or default
    try:
        return kind.parse(value, f"--{name.replace('_', '-')} / ini {name}")
    except QueryPlanUsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def resolve_defaults(config: pytest.Config) -> Defaults:
    return Defaults(
        mode=_choice(config, "queryplan_mode", Mode, Mode.FORCED),
        analyze_tables=bool(config.getini("queryplan_analyze")),
        strict=bool(config.getini("queryplan_strict")),
        verbose=config.getoption("verbose", 0) > 0,
    )


def resolve_run_options(config: pytest.Config) -> RunOptions:
    report = config.getoption("queryplan_report")
    snapshot = "off"
    if config.getoption("queryplan_snapshot_update"):
        snapshot = "update"
    elif config.getoption("queryplan_snapshot"):
        snapshot = "check"
    return RunOptions(
        guard=_choice(config, "queryplan_guard", GuardLevel, GuardLevel.OFF),
        report_path=Path(report).absolute() if report else None,
        snapshot=snapshot,
        snapshot_dir=config.rootpath / config.getini("queryplan_snapshot_dir"),
        index_report=bool(config.getoption("queryplan_index_report")),
        allow_seq_scan=frozenset(config.getini("queryplan_allow_seq_scan")),
        scope=_choice(config, "queryplan_guard_scope", GuardScope, GuardScope.APP),
        sarif_path=_path(config.getoption("queryplan_sarif")),
        baseline_path=_baseline(config),
        baseline_update=bool(config.getoption("queryplan_baseline_update")),
        nplusone=_choice(config, "queryplan_nplusone", GuardLevel, GuardLevel.OFF),
        nplusone_threshold=_threshold(config.getini("queryplan_nplusone_threshold")),
        annotations=os.environ.get("GITHUB_ACTIONS") == "true",
        html_path=_path(config.getoption("queryplan_html")),
    )


def _path(value: str | None) -> Path | None:
    return Path(value).absolute() if value else None


def _baseline(config: pytest.Config) -> Path | None:
    path = _path(config.getoption("queryplan_baseline"))
    if path is None and config.getoption("queryplan_baseline_update"):
        raise pytest.UsageError(
            "--queryplan-baseline-update needs the file to write: add --queryplan-baseline=PATH."
        )
    return path


def check_setup(run: RunOptions) -> None:
    """Setup mistakes as one-line usage errors before any test runs: a baseline that is
    missing (unless this run writes it) or malformed, an output path that cannot be written.
    Found at the end of the run instead, they would cost the whole run and a traceback."""
    if run.baseline_path is not None:
        from pytest_queryplan.core.report.baseline import BaselineError, load

        try:
            load(run.baseline_path, missing_ok=run.baseline_update)
        except BaselineError as exc:
            if not run.baseline_update:  # (an update rewrites a malformed file: its advice)
                raise pytest.UsageError(str(exc)) from None
        except OSError as exc:
            raise pytest.UsageError(
                f"queryplan baseline {run.baseline_path} cannot be read: {_reason(exc)}"
            ) from None
        if run.baseline_update:
            _check_writable(run.baseline_path, "--queryplan-baseline")
    if run.report_path is not None:
        _check_writable(run.report_path, "--queryplan-report")
    if run.sarif_path is not None:
        _check_writable(run.sarif_path, "--queryplan-sarif")
    if run.html_path is not None:
        _check_writable(run.html_path, "--queryplan-html")
    if run.snapshot == "update":
        _check_writable(run.snapshot_dir, "ini queryplan_snapshot_dir", folder=True)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def unwritable(path: Path, folder: bool = False) -> str | None:
    """Why ``path`` (a file, or with ``folder`` a directory) cannot be written, or None.

    Nothing is created: the nearest existing folder above it must be a writable folder."""
    if path.exists():
        if folder and not path.is_dir():
            return "it is a file, not a folder"
        if not folder and path.is_dir():
            return "it is a folder"
        if not os.access(path, os.W_OK):
            return "permission denied"
        return None
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"permission denied in {parent}"
    return None


def _check_writable(path: Path, option: str, folder: bool = False) -> None:
    why = unwritable(path, folder)
    if why is not None:
        raise pytest.UsageError(f"{option}: cannot write {path}: {why}.")


def _threshold(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 2:
        raise pytest.UsageError(
            f"ini queryplan_nplusone_threshold = {value!r}: use a whole number of 2 or more."
        )
    return number
