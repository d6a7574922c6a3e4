"""MariaDB adapter: ``EXPLAIN FORMAT=JSON`` and ``information_schema``, on the Django
connection's own driver connection (mysqlclient, or PyMySQL installed as ``MySQLdb``), out
of sight of Django's execute wrappers. Values are bound by the driver, as Django binds them.

``EXPLAIN`` of a SELECT, UPDATE, DELETE or INSERT changes no row, but MariaDB may *run*
parts of the statement while optimising it (a deterministic stored function is constant-
folded, an uncorrelated scalar subquery executed): every EXPLAIN therefore runs inside a
savepoint (in autocommit, a transaction) that is rolled back. No DDL ever runs here: it
would commit the test's transaction. Forced mode's competitors are set aside with
``IGNORE INDEX`` (left out of ``FORCE INDEX``) instead of being dropped, and a suggested
index is never created.

MySQL (not MariaDB) is refused with a usage error: its JSON plan format differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.dialects import sqlscan
from pytest_queryplan.dialects.base import CLOSE_SAVEPOINT, OPEN_SAVEPOINT, ExplainError, first_line
from pytest_queryplan.dialects.mariadb import MARIADB
from pytest_queryplan.dialects.mariadb.hints import force_indexes, ignore_indexes, quote
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.dialects.base import Params

_STATISTICS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION, SUB_PART, INDEX_TYPE
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND {column} IN ({marks})
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
_USABLE = """
SELECT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks}){usable}
GROUP BY TABLE_NAME, INDEX_NAME ORDER BY TABLE_NAME, INDEX_NAME
"""
#: Indexes the optimizer may use: MariaDB 10.6 added IGNORED ones (10.5 has no column).
_NOT_IGNORED = " AND IGNORED = 'NO'"
_COLUMN_TYPES = """
SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION
"""
_DRIVERS = ("MySQLdb", "pymysql")


def _driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in _DRIVERS


class MariaDBBackend:
    dialect = MARIADB

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.alias: str = connection.alias

    def _raw(self) -> Any:
        self.connection.ensure_connection()
        if not self.connection.mysql_is_mariadb:
            version = ".".join(str(part) for part in self.connection.mysql_version)
            from pytest_queryplan.dialects import supported

            raise QueryPlanUsageError(
                f"Database alias {self.alias!r} is MySQL {version}; pytest-queryplan reads "
                "MariaDB's plans through Django's mysql backend, and MySQL's EXPLAIN "
                f"FORMAT=JSON is another format. It supports {supported()}."
            )
        return self.connection.connection

    def _rows(self, cursor: Any, sql: str, params: Params) -> list[tuple[Any, ...]]:
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        return list(cursor.fetchall())

    def read(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """A catalog query of the plugin's own: reads only, no transaction needed."""
        cursor = self._raw().cursor()
        try:
            return self._rows(cursor, sql, params)
        finally:
            cursor.close()

    def statement(self, sql: str, mode: Mode, hide: Sequence[str]) -> str:
        """The statement EXPLAIN sees: in forced mode with FORCE INDEX on every table."""
        if mode != Mode.FORCED and not hide:
            return sql
        tables = sorted({t for t in sqlscan.aliases(sql).values() if t})
        indexes = self.usable_indexes(tables)
        if mode == Mode.FORCED:
            return force_indexes(sql, indexes, hide)
        return ignore_indexes(sql, indexes, hide)

    def usable_indexes(self, tables: Sequence[str]) -> dict[str, list[str]]:
        """table -> the indexes the optimizer may use (not IGNORED)."""
        if not tables:
            return {}
        marks = ", ".join(["%s"] * len(tables))
        usable = _NOT_IGNORED if self.connection.mysql_version >= (10, 6) else ""
        found: dict[str, list[str]] = {}
        for table, name in self.read(_USABLE.format(marks=marks, usable=usable), list(tables)):
            found.setdefault(table, []).append(name)
        return found

    def explain(
        self,
        sql: str,
        params: Params,
        *,
        mode: Mode,
        analyze: bool = False,
        analyze_tables: Iterable[str] = (),
        hide: Sequence[str] = (),
        create: Sequence[str] = (),
        settings: Sequence[str] = (),
    ) -> Any:
        if analyze or list(analyze_tables):
            raise QueryPlanUsageError(
                "analyze=True and analyze_tables are PostgreSQL's here: MariaDB's ANALYZE "
                "FORMAT=JSON executes the statement, and ANALYZE TABLE commits."
            )
        if create:
            raise ExplainError("MariaDB commits on DDL: no index is created inside a test")
        raw = self._raw()
        try:
            explain = f"EXPLAIN FORMAT=JSON {self.statement(sql, mode, hide)}"
        except Exception as exc:
            if not _driver_error(exc):
                raise
            raise ExplainError(first_line(exc)) from None
        transaction = self.connection.in_atomic_block or not self.connection.get_autocommit()
        opening, closing = (
            (OPEN_SAVEPOINT, CLOSE_SAVEPOINT) if transaction else ("BEGIN", ("ROLLBACK",))
        )
        cursor = raw.cursor()
        try:
            cursor.execute(opening)
            try:
                rows = self._rows(cursor, explain, params)
            finally:
                for statement in closing:
                    cursor.execute(statement)
        except Exception as exc:
            if not _driver_error(exc):
                raise
            raise ExplainError(first_line(exc)) from None
        finally:
            cursor.close()
        if not rows:  # pragma: no cover - EXPLAIN always returns one row
            raise ExplainError("EXPLAIN returned no rows")
        return rows[0][0]

    def explain_many(self, items: Sequence[tuple[str, Params]], *, mode: Mode) -> Any:
        return None

    # -- catalog -------------------------------------------------------------------------
    def _indexes(self, column: str, names: Iterable[str]) -> list[IndexInfo]:
        wanted = sorted(set(names))
        if not wanted:
            return []
        marks = ", ".join(["%s"] * len(wanted))
        rows = self.read(_STATISTICS.format(column=column, marks=marks), wanted)
        parts: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for row in rows:
            parts.setdefault((row[0], row[1]), []).append(row)
        found = []
        for (table, name), keys in parts.items():
            unique = not keys[0][2]
            shown = ",".join(
                quote(column) + (f"({sub})" if sub else "") + (" DESC" if order == "D" else "")
                for _, _, _, column, order, sub, _ in keys
            )
            kind = "PRIMARY KEY" if name == "PRIMARY" else "UNIQUE KEY" if unique else "KEY"
            label = "" if name == "PRIMARY" else f"{quote(name)} "
            found.append(
                IndexInfo(
                    name=name,
                    table=table,
                    definition=f"{kind} {label}({shown}) of {quote(table)}",
                    columns=tuple(row[3] for row in keys),
                    method=str(keys[0][6]).lower(),
                    unique=unique,
                    constraint=unique,
                )
            )
        return found

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        return self._indexes("INDEX_NAME", names)

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        return self._indexes("TABLE_NAME", tables)

    def attached_indexes(self, name: str) -> frozenset[str]:
        return frozenset({name})

    def partition_layout(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        """No partitioned indexes here: the index alone, and no partitions."""
        return frozenset({name}), frozenset()

    def partition_roots(self, names: Iterable[str]) -> dict[str, str]:
        return {}

    def column_types(self, table: str) -> dict[str, str]:
        return {name: str(kind) for name, kind in self.read(_COLUMN_TYPES, [table])}
