"""The exceptions the plugin raises: plan verdicts and usage mistakes."""

from __future__ import annotations


class QueryPlanAssertionError(AssertionError):
    """A query plan did not meet an expectation (the index was not used, a node was forbidden)."""


class QueryPlanUsageError(ValueError):
    """The check itself was called wrongly: bad target, unknown alias, unsupported database."""
