"""The plugin's own hook (added with ``pytest_addhooks``): every output of the session's
queryplan report is one implementation of it.

The terminal summary, ``--queryplan-report`` (JSON), ``--queryplan-sarif`` and GitHub
annotations are the built-in writers (``outputs/writers.py``); a new output is one more
plugin object that implements :func:`pytest_queryplan_write_report`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pytest

    from pytest_queryplan.outputs.collector import ReportCollector


#: pytest's project marker, through pluggy itself: the oldest pytest supported (7.4) has
#: no ``pytest.hookspec``.
hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_queryplan_write_report(
    collector: ReportCollector, terminalreporter: pytest.TerminalReporter | None
) -> None:
    """Write one output of the run's queryplan report, once, where reports end up (a serial
    run, or xdist's controller), after every test and the baseline are settled.

    ``collector.report`` is the session report (built on first use: a writer with nothing
    to say should check ``collector.has_records`` first); ``collector.run`` holds the run's
    options. ``terminalreporter`` is None when pytest's terminal plugin is disabled.
    """
