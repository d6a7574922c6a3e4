"""Command-line flags and ini keys; each flag shares its ``dest`` with the ini key it overrides."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_queryplan.core.defaults import MODES, Settings
from pytest_queryplan.session import RECORDER_KEY, Recorder, register_plugins

if TYPE_CHECKING:
    from pytest_queryplan.core.plan import Plan

SETTINGS_KEY = pytest.StashKey[Settings]()
ALLOW_SEQ_SCAN_KEY = pytest.StashKey[tuple[str, ...]]()

GUARD_LEVELS = ("off", "warn", "fail")

MARKER_DOC = (
    "queryplan(uses_index=None, forbid=None, tables=None, mode=None, using='default', "
    "allow_seq_scan=None): explain every query the test runs and check the plans. With no "
    "arguments, a sequential scan carrying a Filter fails the test."
)


@dataclass(frozen=True)
class RunOptions:
    """The suite-wide features: guard, JSON report, snapshots, index hygiene."""

    guard: str = "off"
    report_path: Path | None = None
    snapshot: str = "off"  # off, check or update
    snapshot_dir: Path = Path("queryplan_snapshots")
    index_report: bool = False

    @property
    def explains_every_test(self) -> bool:
        """Every test that touches the database has its queries captured and explained."""
        return self.guard != "off" or self.index_report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("queryplan", "query plan assertions (pytest-queryplan)")
    group.addoption(
        "--queryplan-mode",
        dest="queryplan_mode",
        default=None,
        metavar="MODE",
        help="forced (default: can an index serve the query?) or natural (the planner's "
        "choice for the data as it is). Overrides ini queryplan_mode.",
    )
    parser.addini(
        "queryplan_mode", "Default planner mode for plan checks: forced or natural.", default=""
    )
    parser.addini(
        "queryplan_analyze",
        "In natural mode, ANALYZE the tables a query reads (inside the test's transaction) "
        "before explaining it.",
        type="bool",
        default=False,
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
        metavar="LEVEL",
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


def resolve_settings(
    config: pytest.Config, on_proof: Callable[[str, Sequence[Plan]], None] | None = None
) -> Settings:
    mode = config.getoption("queryplan_mode") or config.getini("queryplan_mode") or "forced"
    if mode not in MODES:
        raise pytest.UsageError(
            f"queryplan mode {mode!r} is not valid: use one of {', '.join(MODES)} "
            "(--queryplan-mode or ini queryplan_mode)."
        )
    return Settings(
        mode=mode,
        analyze_tables=bool(config.getini("queryplan_analyze")),
        verbose=config.getoption("verbose", 0) > 0,
        on_proof=on_proof,
    )


def resolve_run_options(config: pytest.Config) -> RunOptions:
    guard = config.getoption("queryplan_guard") or config.getini("queryplan_guard") or "off"
    if guard not in GUARD_LEVELS:
        raise pytest.UsageError(
            f"queryplan guard {guard!r} is not valid: use one of {', '.join(GUARD_LEVELS)} "
            "(--queryplan-guard or ini queryplan_guard)."
        )
    report = config.getoption("queryplan_report")
    snapshot = "off"
    if config.getoption("queryplan_snapshot_update"):
        snapshot = "update"
    elif config.getoption("queryplan_snapshot"):
        snapshot = "check"
    return RunOptions(
        guard=guard,
        report_path=Path(report).absolute() if report else None,
        snapshot=snapshot,
        snapshot_dir=config.rootpath / config.getini("queryplan_snapshot_dir"),
        index_report=bool(config.getoption("queryplan_index_report")),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    recorder = config.stash[RECORDER_KEY] = Recorder(resolve_run_options(config))
    config.stash[SETTINGS_KEY] = resolve_settings(config, on_proof=recorder.proof)
    config.stash[ALLOW_SEQ_SCAN_KEY] = tuple(config.getini("queryplan_allow_seq_scan"))
    register_plugins(config)
