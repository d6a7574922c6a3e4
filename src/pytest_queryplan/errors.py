"""The exceptions the plugin raises: plan verdicts and usage mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class QueryPlanAssertionError(AssertionError):
    """A query plan did not meet an expectation (the index was not used, a node was forbidden).

    ``failures`` pairs each failed verdict with its text, rendered once: the plugin records
    that same text in the test's report, so the terminal, the JSON report and JUnit XML
    say the same words.
    """

    def __init__(self, message: str, failures: Sequence[tuple[Any, str]] = ()) -> None:
        super().__init__(message)
        self.failures = tuple(failures)


class QueryPlanUsageError(ValueError):
    """The check itself was called wrongly: bad target, unknown alias, unsupported database."""
