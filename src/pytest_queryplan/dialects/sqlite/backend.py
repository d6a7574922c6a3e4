"""SQLite adapter: ``EXPLAIN QUERY PLAN`` and the catalog, on the Django connection's own
``sqlite3`` connection (a cursor of Django's own class, so ``%s`` placeholders are turned
into ``?`` as Django does, but out of sight of Django's execute wrappers: our capture
never sees the plugin's statements).

``EXPLAIN QUERY PLAN`` runs nothing: the statement is planned, not executed (a function
the statement calls is not called). SQLite's DDL is transactional, so forced mode's
competing indexes are dropped, and a suggestion's index created, inside a savepoint that
is always rolled back (and released): the schema and every row end as they began.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.dialects.base import CLOSE_SAVEPOINT, OPEN_SAVEPOINT, ExplainError, first_line
from pytest_queryplan.dialects.sqlite import SQLITE
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.modes import Mode
    from pytest_queryplan.dialects.base import Params

_WHERE = re.compile(r"\)\s*WHERE\s+(?P<predicate>.*)$", re.IGNORECASE | re.DOTALL)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQLiteBackend:
    dialect = SQLITE

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.alias: str = connection.alias

    def _cursor(self) -> Any:
        from django.db.backends.sqlite3.base import SQLiteCursorWrapper

        self.connection.ensure_connection()
        return self.connection.connection.cursor(factory=SQLiteCursorWrapper)

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
        if analyze:
            raise QueryPlanUsageError(
                "SQLite has no EXPLAIN ANALYZE: explain(analyze=True) works on PostgreSQL only."
            )
        if list(analyze_tables):
            raise QueryPlanUsageError(
                "analyze_tables (ini queryplan_analyze) is PostgreSQL's: SQLite's planner "
                "would keep the statistics after the rollback."
            )
        setup = [f"DROP INDEX {quote(name)}" for name in hide] + list(create)
        explain = f"EXPLAIN QUERY PLAN {sql}"
        cursor = self._cursor()
        try:
            if not setup:
                return {"rows": _rows(cursor, explain, params)}
            # DDL is transactional: dropped indexes come back, created ones vanish.
            cursor.execute(OPEN_SAVEPOINT)
            try:
                for statement in setup:
                    cursor.execute(statement)
                return {"rows": _rows(cursor, explain, params)}
            finally:
                for statement in CLOSE_SAVEPOINT:
                    cursor.execute(statement)
        except ExplainError:
            raise
        except Exception as exc:  # sqlite3.Error: the statement or the DDL was refused
            if type(exc).__module__ not in ("sqlite3", "_sqlite3"):
                raise
            raise ExplainError(first_line(exc)) from None
        finally:
            cursor.close()

    def explain_many(self, items: Sequence[tuple[str, Params]], *, mode: Mode) -> Any:
        """In process, one at a time costs nothing more."""
        return None

    # -- catalog -------------------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.connection.cursor()
        try:
            return list(cursor.execute(sql, tuple(params)).fetchall())
        finally:
            cursor.close()

    def _info(self, table: str, listed: tuple[Any, ...]) -> IndexInfo:
        _, name, unique, origin, partial = listed[:5]
        (definition,) = self._read(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [name]
        )[0]
        keys = [row for row in self._read(f"PRAGMA index_xinfo({quote(name)})") if row[5]]
        expressions = iter(_key_texts(definition or ""))
        columns = []
        for _, cid, column, *_ in keys:
            text = next(expressions, None)
            columns.append(column if cid >= 0 else (text or "<expression>"))
        if definition is None:  # an index SQLite made for a PRIMARY KEY or UNIQUE constraint
            listed_keys = ", ".join(quote(c) for c in columns)
            definition = f"UNIQUE ({listed_keys}) of {quote(table)}, as SQLite's {name}"
        predicate = None
        if partial:
            found = _WHERE.search(definition)
            predicate = found["predicate"].strip() if found else None
        return IndexInfo(
            name=name,
            table=table,
            definition=definition,
            columns=tuple(columns),
            predicate=predicate,
            method="btree",
            unique=bool(unique),
            constraint=origin in ("pk", "u"),
        )

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        found = []
        for table in sorted(set(tables)):
            for listed in self._read(f"PRAGMA index_list({quote(table)})"):
                found.append(self._info(table, listed))
        return sorted(found, key=lambda info: (info.table, info.name))

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        wanted = sorted(set(names))
        if not wanted:
            return []
        marks = ", ".join("?" * len(wanted))
        tables = "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'index' AND name IN"
        rows = self._read(f"{tables} ({marks})", wanted)
        return [info for info in self.indexes_on(row[0] for row in rows) if info.name in wanted]

    def attached_indexes(self, name: str) -> frozenset[str]:
        return frozenset({name})

    def partition_layout(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        """No partitioned indexes here: the index alone, and no partitions."""
        return frozenset({name}), frozenset()

    def partition_roots(self, names: Iterable[str]) -> dict[str, str]:
        return {}

    def column_types(self, table: str) -> dict[str, str]:
        return {
            row[1]: str(row[2]).lower() for row in self._read(f"PRAGMA table_info({quote(table)})")
        }


def _rows(cursor: Any, explain: str, params: Params) -> list[list[Any]]:
    if params is None:
        cursor.execute(explain)
    else:
        cursor.execute(explain, params)
    return [list(row) for row in cursor.fetchall()]


def _key_texts(definition: str) -> list[str]:
    """The key list of ``CREATE INDEX name ON table (a, upper(b)) WHERE ...``, item by item."""
    start = definition.find("(")
    if start < 0:
        return []
    items, depth, current, quoted = [], 0, "", ""
    for char in definition[start + 1 :]:
        if quoted:
            quoted = "" if char == quoted else quoted
        elif char in "\"'`":
            quoted = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += char
    items.append(current.strip())
    return [item for item in items if item]
