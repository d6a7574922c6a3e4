"""Failure texts: what was expected, what the planner did, the SQL, the plan, and a hint.

Pure: :func:`render` turns any :class:`Verdict` into the text a failed check shows; every
source of checks (fixture, marker, guard) gets the same words for the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.verdict import Kind
from pytest_queryplan.core.text.blocks import verbose_hint
from pytest_queryplan.core.text.index import (
    index_not_used,
    missing_index,
    no_query_on_table,
    partly_used,
)
from pytest_queryplan.core.text.nodes import findings, unknown_table

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.verdict import Verdict


def render(verdict: Verdict, verbose: bool = False, verbose_how: str | None = None) -> str:
    """The failure text of a verdict that did not pass; never raises, so no formatting
    problem can replace the verdict or skew a count. ``verbose_how``: how the runner shows
    more (default: pytest's ``-v``)."""
    try:
        return _render(verdict, verbose, verbose_how)
    except Exception as exc:  # noqa: BLE001 - the verdict stands, whatever its text
        return (
            f"The plan check failed ({verdict.kind}), and its failure text could not be "
            f"built ({type(exc).__name__}: {exc}); please report this."
        )


#: The text of each kind a failing verdict can have; a dialect's own kinds (generic mode's
#: ``index-lost-when-prepared``) are written by the dialect first.
RENDERERS: dict[Kind, Callable[[Verdict, bool], list[str]]] = {
    Kind.INDEX_MISSING: missing_index,
    Kind.INDEX_NOT_USED: index_not_used,
    Kind.INDEX_PARTLY_USED: partly_used,
    Kind.NO_QUERY_ON_TABLE: lambda verdict, verbose: no_query_on_table(verdict),
    Kind.UNKNOWN_TABLE: lambda verdict, verbose: unknown_table(verdict),
    Kind.FORBIDDEN_NODE: findings,
    Kind.FILTERED_FULL_READ: findings,
}
#: Kinds whose text never shows a plan, so "-v shows more" would be untrue.
_PLANLESS = frozenset({Kind.NO_QUERY_ON_TABLE, Kind.UNKNOWN_TABLE})


def _render(verdict: Verdict, verbose: bool, verbose_how: str | None) -> str:
    """The text, or an error for a kind nothing renders (a missing renderer is a bug)."""
    kind = Kind(verdict.kind)
    lines = None
    if verdict.dialect is not None:
        lines = verdict.dialect.special_text(verdict, verbose)
    if lines is None:
        lines = RENDERERS[kind](verdict, verbose)
    if not verbose and kind not in _PLANLESS:
        lines += ["", verbose_hint(verbose_how) if verbose_how else verbose_hint()]
    return "\n".join(lines)
