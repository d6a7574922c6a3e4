"""Command-line flags and ini keys; each flag shares its ``dest`` with the ini key it overrides."""

from __future__ import annotations

import pytest

from pytest_queryplan.api import MODES, Settings

SETTINGS_KEY = pytest.StashKey[Settings]()
ALLOW_SEQ_SCAN_KEY = pytest.StashKey[tuple[str, ...]]()

MARKER_DOC = (
    "queryplan(uses_index=None, forbid=None, tables=None, mode=None, using='default', "
    "allow_seq_scan=None): explain every query the test runs and check the plans. With no "
    "arguments, a sequential scan carrying a Filter fails the test."
)


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


def resolve_settings(config: pytest.Config) -> Settings:
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
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    config.stash[SETTINGS_KEY] = resolve_settings(config)
    config.stash[ALLOW_SEQ_SCAN_KEY] = tuple(config.getini("queryplan_allow_seq_scan"))
