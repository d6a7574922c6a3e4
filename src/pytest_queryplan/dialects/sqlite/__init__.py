"""SQLite: the dialect the core asks (:data:`SQLITE`).

Pure, plan-side: ``plan`` turns ``EXPLAIN QUERY PLAN`` rows, read with the statement's
text, into the model's tree (SQLite prints aliases, no conditions but the searched index
terms, and no LIMIT). Connection-side: ``backend`` runs it on the Django connection's own
``sqlite3`` connection and reads the catalog (``PRAGMA index_list``/``index_xinfo``).

What the words mean here: ``SEARCH t USING INDEX i (a=?)`` is a search of ``i`` (an
Index Cond); ``SCAN t`` reads the table whole, and ``SCAN t USING INDEX i`` reads the
index whole (in its order, never searched); an automatic index is built for one statement
from a full read of the table, not a schema index; ``USE TEMP B-TREE FOR ORDER BY`` is a
sort.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.dialects import proposal
from pytest_queryplan.dialects.normalised import NormalisedDialect
from pytest_queryplan.dialects.sqlite.plan import normalise

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.service import Cause
    from pytest_queryplan.core.plan.node import PlanNode

__all__ = ["SQLITE", "SQLite"]


def _detail(node: PlanNode) -> str:
    return str(node.raw.get("SQLite Detail", ""))


def _scan(node: PlanNode) -> bool:
    return _detail(node).startswith("SCAN ") and _detail(node) != "SCAN CONSTANT ROW"


def _temp_btree(what: str = "") -> Any:
    return lambda node: _detail(node).startswith(f"USE TEMP B-TREE FOR {what}")


#: The plan words ``forbid=`` takes, as EXPLAIN QUERY PLAN prints them.
NODE_NAMES = {
    "SCAN": _scan,
    "SEARCH": lambda node: _detail(node).startswith("SEARCH "),
    "AUTOMATIC INDEX": lambda node: bool(node.raw.get("Automatic Index")),
    "TEMP B-TREE": _temp_btree(),
    "TEMP B-TREE FOR ORDER BY": _temp_btree("ORDER BY"),
    "TEMP B-TREE FOR GROUP BY": _temp_btree("GROUP BY"),
    "TEMP B-TREE FOR DISTINCT": _temp_btree("DISTINCT"),
    "MULTI-INDEX OR": lambda node: _detail(node) == "MULTI-INDEX OR",
    "CORRELATED SCALAR SUBQUERY": lambda node: "CORRELATED SCALAR SUBQUERY" in _detail(node),
    "LIST SUBQUERY": lambda node: "LIST SUBQUERY" in _detail(node),
}


class _Writer(proposal.Writer):
    title = "SQLite"
    can_try = True
    untried = "not tried on the planner; check it against production data"
    # SQLite's LIKE is case-insensitive: it never searches an ordinary index.
    like_searches = False

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'


class SQLite(NormalisedDialect):
    """SQLite (tested on 3.40.1), through ``EXPLAIN QUERY PLAN`` and the statement's text.

    The words read are those of the releases that print ``SCAN t`` (older ones printed
    ``SCAN TABLE t``, which is not read)."""

    name = "sqlite"
    title = "SQLite"
    modes = frozenset({Mode.FORCED, Mode.NATURAL})
    node_names = NODE_NAMES
    mode_texts = {
        Mode.FORCED: "mode: forced, on SQLite: its planner without statistics plans for "
        "large tables; competing indexes set aside in a rolled-back savepoint",
        Mode.NATURAL: "mode: natural, on SQLite: the planner's own choice",
    }
    system_prefix = "sqlite_"
    writer = _Writer()

    def normalise(self, raw: Any, sql: str | None) -> dict[str, Any]:
        rows = raw["rows"] if isinstance(raw, dict) else raw
        return normalise(rows, sql)

    def function_fix(self, cause: Cause) -> str:
        function = cause.detail.capitalize()
        return (
            f'Index the expression, models.Index({function}("{cause.column}"), '
            f'name="..."), or filter on the plain column.'
        )

    def pattern_fix(self, cause: Cause) -> str:
        return (
            "SQLite's LIKE is case-insensitive, so it never searches an ordinary index (and "
            "Django's startswith/contains bind the pattern as a parameter): filter with an "
            "equality or a range on the column, or use a GLOB/case-sensitive match."
        )


#: The one instance every SQLite connection's checks ask.
SQLITE = SQLite()
