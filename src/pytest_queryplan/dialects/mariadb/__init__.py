"""MariaDB: the dialect the core asks (:data:`MARIADB`).

Pure, plan-side: ``plan`` turns ``EXPLAIN FORMAT=JSON`` into the model's tree, with the
statement's text (MariaDB names aliases and never prints LIMIT); ``hints`` rewrites a
statement for forced mode (``FORCE INDEX`` on every table reference). Connection-side:
``backend`` runs EXPLAIN on the Django connection's own driver connection (mysqlclient or
PyMySQL) and reads ``information_schema``.

What the words mean here: an index *serves* when it is the scan's ``key`` with a searching
access type (``const``, ``eq_ref``, ``ref``, ``range``, ...) and every condition on its key
columns is one of the ``used_key_parts`` it searched; ``ALL``, and ``index`` (the whole
index walked) with a condition, are full reads; ``filesort`` is a sort. MariaDB's DDL
commits the transaction, so no index is ever created here: suggestions are unverified.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.dialects import proposal
from pytest_queryplan.dialects.mariadb.plan import normalise
from pytest_queryplan.dialects.normalised import NormalisedDialect

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.service import Cause
    from pytest_queryplan.core.plan.node import PlanNode

__all__ = ["MARIADB", "MariaDB"]

#: Access types as ``EXPLAIN FORMAT=JSON`` prints them (``hash_*``: a hash join's).
ACCESS_TYPES = (
    "ALL",
    "index",
    "range",
    "ref",
    "eq_ref",
    "const",
    "system",
    "ref_or_null",
    "index_merge",
    "fulltext",
    "unique_subquery",
    "index_subquery",
)
#: information_schema tables Django's introspection reads: no project index serves them.
_SYSTEM_TABLES = frozenset(
    {"TABLES", "COLUMNS", "STATISTICS", "KEY_COLUMN_USAGE", "TABLE_CONSTRAINTS"}
    | {"REFERENTIAL_CONSTRAINTS", "CHECK_CONSTRAINTS", "SCHEMATA", "PARTITIONS"}
)


def _access(kind: str) -> Any:
    def test(node: PlanNode) -> bool:
        access = str(node.raw.get("Access Type", ""))
        return access == kind or access == f"hash_{kind}"

    return test


NODE_NAMES: dict[str, Any] = {kind: _access(kind) for kind in ACCESS_TYPES}
NODE_NAMES.update(
    {
        "filesort": lambda node: node.node_type == "Sort",
        "temporary_table": lambda node: bool(node.raw.get("Temporary Table")),
        "block-nl-join": lambda node: "Join Buffer" in node.raw,
    }
)


_FUNCTIONS = {"ucase": "upper", "lcase": "lower"}


class _Writer(proposal.Writer):
    title = "MariaDB"
    can_try = False
    untried = (
        "MariaDB commits the transaction on any DDL, so it was not created and tried here; "
        "check it with EXPLAIN against production data"
    )
    like_searches = True

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def create(self, name: str, table: str, columns: Any) -> str:
        # Built online: the table stays readable and writable while the index is built.
        return super().create(name, table, columns) + " ALGORITHM=INPLACE LOCK=NONE"


class MariaDB(NormalisedDialect):
    """MariaDB 10.5+ (tested on 10.11), through ``EXPLAIN FORMAT=JSON``."""

    name = "mysql"
    title = "MariaDB"
    modes = frozenset({Mode.FORCED, Mode.NATURAL})
    node_names = NODE_NAMES
    mode_texts = {
        Mode.FORCED: "mode: forced, on MariaDB: FORCE INDEX listing every index of each "
        "table, so a full read is taken only where no index can serve",
        Mode.NATURAL: "mode: natural, on MariaDB: the optimizer's own choice for the data as "
        "it is now",
    }
    system_prefix = "\0"  # see is_system_table
    writer = _Writer()

    def normalise(self, raw: Any, sql: str | None) -> dict[str, Any]:
        return normalise(raw, sql)

    def is_system_table(self, name: str) -> bool:
        return name in _SYSTEM_TABLES

    def cause_hint(self, cause: Cause) -> str:
        # MariaDB prints UPPER() and LOWER() by their other names: say the ones Django writes.
        named = _FUNCTIONS.get(cause.detail)
        return super().cause_hint(replace(cause, detail=named) if named else cause)

    def function_fix(self, cause: Cause) -> str:
        return (
            "MariaDB has no index on an expression (Django skips one there: models.W043): "
            "filter on the plain column, or index a generated column that stores "
            f"{cause.detail.upper()}({cause.column}) (models.GeneratedField, Django 5.0+)."
        )

    def pattern_fix(self, cause: Cause) -> str:
        return (
            "MariaDB searches a LIKE in an index only through a constant prefix ('abc%'); a "
            "leading wildcard, or a pattern computed from another column, is checked row by row."
        )


#: The one instance every MariaDB connection's checks ask.
MARIADB = MariaDB()
