"""Failure texts: what was expected, what the planner did, the SQL, the plan, and a hint.

Pure: :func:`render` turns any :class:`Verdict` into the text a failed check shows; every
source of checks (fixture, marker, guard) gets the same words for the same verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_queryplan.core.index_messages import (
    index_not_used,
    missing_index,
    no_query_on_table,
    partly_used,
)
from pytest_queryplan.core.node_messages import findings, unknown_table
from pytest_queryplan.core.textblocks import VERBOSE_HINT

if TYPE_CHECKING:
    from pytest_queryplan.core.verdict import Verdict


def render(verdict: Verdict, verbose: bool = False) -> str:
    """The failure text of a verdict that did not pass; never raises, so no formatting
    problem can replace the verdict or skew a count."""
    try:
        return _render(verdict, verbose)
    except Exception as exc:  # noqa: BLE001 - the verdict stands, whatever its text
        return (
            f"The plan check failed ({verdict.kind}), and its failure text could not be "
            f"built ({type(exc).__name__}: {exc}); please report this."
        )


def _render(verdict: Verdict, verbose: bool) -> str:
    kind = verdict.kind
    if kind == "index-missing":
        lines = missing_index(verdict, verbose)
    elif kind == "no-query-on-table":
        lines = no_query_on_table(verdict)
    elif kind == "index-partly-used":
        lines = partly_used(verdict, verbose)
    elif kind == "unknown-table":
        lines = unknown_table(verdict)
    elif kind in ("forbidden-node", "filtered-full-read"):
        lines = findings(verdict, verbose)
    else:
        lines = index_not_used(verdict, verbose)
    if not verbose and kind not in ("no-query-on-table", "unknown-table"):
        lines += ["", VERBOSE_HINT]
    return "\n".join(lines)
