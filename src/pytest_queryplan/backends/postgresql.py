"""PostgreSQL adapter, driver-independent: the statements an EXPLAIN needs, the catalog
look-ups, and the choice of the runner for the Django connection's driver.

This module *builds* statements; a runner (``psycopg3.py``, ``psycopg2.py``) sends them on
the Django connection's own driver connection, so Django's execute wrappers (our capture
included) never see the plugin's EXPLAINs. Every call is wrapped so the session ends
exactly as it began: inside a transaction a savepoint that is rolled back and released, in
autocommit a ``BEGIN ... ROLLBACK``. ``SET LOCAL`` therefore vanishes with it, and so does
every row an ``EXPLAIN ANALYZE`` of a write touched, and the ``pg_statistic`` rows an
``ANALYZE`` wrote. (PostgreSQL updates ``pg_class.reltuples``/``relpages`` in place, and
``nextval()`` advances a sequence, outside transaction control: those keep their change.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.backends.base import ExplainError, Params
from pytest_queryplan.core.catalog import IndexInfo
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.backends.base import Runner

#: How long setting a competing index aside, or trying a suggested one, may wait for a lock.
LOCK_TIMEOUT_MS = 1000

_INDEX_COLUMNS = """
SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid),
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
             FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k),
       pg_get_expr(x.indpred, x.indrelid), am.amname, x.indisunique,
       EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = x.indexrelid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam
WHERE i.relnamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(true)))
"""
_BY_INDEX = _INDEX_COLUMNS + " AND i.relname = ANY(%s) ORDER BY i.relname"
_BY_TABLE = _INDEX_COLUMNS + " AND t.relname = ANY(%s) ORDER BY t.relname, i.relname"
_COLUMN_TYPES = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
WHERE t.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
  AND t.relnamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(true)))
ORDER BY a.attnum
"""
_ATTACHED = """
WITH RECURSIVE tree(oid) AS (
    SELECT oid FROM pg_class WHERE relname = %s AND relkind IN ('i', 'I')
    UNION
    SELECT inh.inhrelid FROM pg_inherits inh JOIN tree ON inh.inhparent = tree.oid
)
SELECT c.relname FROM tree JOIN pg_class c ON c.oid = tree.oid
"""


class PostgreSQLBackend:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.alias: str = connection.alias

    def runner(self) -> Runner:
        """The runner for the driver this Django connection uses (connecting if need be).

        Chosen by the driver connection's own module, so the driver that is not in use is
        never imported (a psycopg2 project may well have no psycopg 3, and vice versa)."""
        self.connection.ensure_connection()
        raw = self.connection.connection
        driver = type(raw).__module__.split(".")[0]
        if driver == "psycopg":
            from pytest_queryplan.backends.psycopg3 import Psycopg3Runner

            return Psycopg3Runner(raw, self.alias)
        if driver == "psycopg2":
            from pytest_queryplan.backends.psycopg2 import Psycopg2Runner

            return Psycopg2Runner(raw, self.alias)
        raise QueryPlanUsageError(
            f"Database alias {self.alias!r} uses the driver {type(raw).__module__}; "
            "pytest-queryplan works with psycopg 3 and psycopg2, the two drivers Django's "
            "PostgreSQL backend supports."
        )

    def explain(
        self,
        sql: str,
        params: Params,
        *,
        forced: bool,
        analyze: bool = False,
        analyze_tables: Iterable[str] = (),
        hide: Sequence[str] = (),
        create: Sequence[str] = (),
    ) -> Any:
        quote = self.connection.ops.quote_name
        statements = ["SET LOCAL enable_seqscan = off"] if forced else []
        if hide or create:
            # DROP INDEX and CREATE INDEX wait for locks other sessions hold on the table
            # (an idle transaction that read it is enough): never longer than this.
            statements.append(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
        statements += [f"ANALYZE {quote(table)}" for table in analyze_tables]
        # DDL is transactional: the dropped indexes come back with the savepoint's rollback,
        # created ones vanish, and the locks both took are released with it.
        statements += [f"DROP INDEX {quote(name)}" for name in hide]
        statements += list(create)
        options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
        statements.append(f"EXPLAIN ({options}) {sql}")
        rows = self.runner().isolated(statements, params)
        if not rows:  # pragma: no cover - EXPLAIN always returns one row
            raise ExplainError("EXPLAIN returned no rows")
        return rows[0][0]

    def _indexes(self, query: str, names: Iterable[str]) -> list[IndexInfo]:
        rows = self.runner().read(query, [list(names)])
        return [
            IndexInfo(
                name=name,
                table=table,
                definition=definition,
                columns=tuple(columns),
                predicate=predicate,
                method=method,
                unique=unique,
                constraint=constraint,
            )
            for name, table, definition, columns, predicate, method, unique, constraint in rows
        ]

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        return self._indexes(_BY_INDEX, names)

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        return self._indexes(_BY_TABLE, tables)

    def column_types(self, table: str) -> dict[str, str]:
        return dict(self.runner().read(_COLUMN_TYPES, [table]))

    def attached_indexes(self, name: str) -> frozenset[str]:
        rows = self.runner().read(_ATTACHED, [name])
        return frozenset(row[0] for row in rows) | {name}
