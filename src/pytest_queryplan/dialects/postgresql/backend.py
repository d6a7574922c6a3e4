"""PostgreSQL adapter, driver-independent: the statements an EXPLAIN needs, the catalog
look-ups, and the choice of the runner for the Django connection's driver.

This module *builds* statements; a runner (``drivers/psycopg3.py``,
``drivers/psycopg2.py``) sends them on the Django connection's own driver connection, so
Django's execute wrappers (our capture included) never see the plugin's EXPLAINs. Every
call is wrapped so the session ends exactly as it began: inside a transaction a savepoint
that is rolled back and released, in autocommit a ``BEGIN ... ROLLBACK``. ``SET LOCAL``
therefore vanishes with it, and so does every row an ``EXPLAIN ANALYZE`` of a write
touched, and the ``pg_statistic`` rows an ``ANALYZE`` wrote. (PostgreSQL updates
``pg_class.reltuples``/``relpages`` in place, and ``nextval()`` advances a sequence,
outside transaction control: those keep their change.)

Generic mode explains the plan of the statement *prepared*, its placeholders as ``$n``:
PostgreSQL 16+ plans it with ``EXPLAIN (GENERIC_PLAN)``, no values bound; 12-15 ``PREPARE``
it under ``plan_cache_mode = force_generic_plan`` and ``EXPLAIN EXECUTE`` it. A prepared
statement is outside transaction control too, so it is deallocated after every call,
failed ones included.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.dialects.base import ExplainError, Params
from pytest_queryplan.dialects.postgresql import POSTGRESQL
from pytest_queryplan.dialects.postgresql.placeholders import Numbered, PlaceholderError, numbered
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.dialects.base import Runner

#: How long setting a competing index aside, or trying a suggested one, may wait for a lock.
LOCK_TIMEOUT_MS = 1000
#: A statement with ``$n`` and no values (the simple-protocol path) is never batched.
_GENERIC_PARAM = re.compile(r"\$\d")
#: The prepared statement generic mode explains on PostgreSQL 12-15 (deallocated each time).
GENERIC_STATEMENT = "pytest_queryplan_generic"
#: The first version whose EXPLAIN has GENERIC_PLAN.
GENERIC_PLAN_VERSION = 160000

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
_PREPARED = "SELECT 1 FROM pg_prepared_statements WHERE name = %s"
# The planner's row count of a table: -1 (15+) or 0 before its first ANALYZE or VACUUM.
_TABLE_ROWS = """
SELECT t.reltuples FROM pg_class t
WHERE t.relname = %s AND t.relkind IN ('r', 'p')
  AND t.relnamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(true)))
"""
_IN_PATH = (
    "relnamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(true)))"
)
# The named index, every partition index attached to it (at any depth), and the leaf
# partitions of its table (none for a plain table), in one round trip.
_LAYOUT = f"""
WITH RECURSIVE top(oid, tbl) AS (
    SELECT i.oid, x.indrelid FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid
    WHERE i.relname = %s AND i.relkind IN ('i', 'I') AND i.{_IN_PATH}
), attached(oid) AS (
    SELECT oid FROM top
    UNION
    SELECT inh.inhrelid FROM pg_inherits inh JOIN attached ON inh.inhparent = attached.oid
), parts(oid) AS (
    SELECT tbl FROM top
    UNION
    SELECT inh.inhrelid FROM pg_inherits inh JOIN parts ON inh.inhparent = parts.oid
)
SELECT 'index', c.relname FROM attached JOIN pg_class c ON c.oid = attached.oid
UNION ALL
SELECT 'partition', c.relname FROM parts JOIN pg_class c ON c.oid = parts.oid
WHERE c.relispartition AND c.relkind NOT IN ('p', 'I')
"""
# The top of each named relation's partition tree (a table's or an index's), for those
# that are partitions.
_ROOTS = f"""
SELECT c.relname, r.relname FROM pg_class c JOIN pg_class r ON r.oid = pg_partition_root(c.oid)
WHERE c.relname = ANY(%s) AND c.relispartition AND c.{_IN_PATH}
"""


def _driver_of(raw: Any, alias: str) -> str:
    driver = type(raw).__module__.split(".")[0]
    if driver not in ("psycopg", "psycopg2"):
        raise QueryPlanUsageError(
            f"Database alias {alias!r} uses the driver {type(raw).__module__}; "
            "pytest-queryplan works with psycopg 3 and psycopg2, the two drivers Django's "
            "PostgreSQL backend supports."
        )
    return driver


class PostgreSQLBackend:
    dialect = POSTGRESQL

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.alias: str = connection.alias

    def runner(self) -> Runner:
        """The runner for the driver this Django connection uses (connecting if need be).

        Chosen by the driver connection's own module, so the driver that is not in use is
        never imported (a psycopg2 project may well have no psycopg 3, and vice versa)."""
        raw = self._raw()
        if _driver_of(raw, self.alias) == "psycopg":
            from pytest_queryplan.dialects.postgresql.drivers.psycopg3 import Psycopg3Runner

            return Psycopg3Runner(raw, self.alias)
        from pytest_queryplan.dialects.postgresql.drivers.psycopg2 import Psycopg2Runner

        return Psycopg2Runner(raw, self.alias)

    def _raw(self) -> Any:
        self.connection.ensure_connection()
        return self.connection.connection

    def param_types(self, values: Sequence[Any]) -> list[str | None]:
        """The type each value is sent as, as the driver would send it (None: ``unknown``,
        the server infers it from the statement, as it does for psycopg 3's strings)."""
        raw = self._raw()
        if _driver_of(raw, self.alias) == "psycopg":
            from pytest_queryplan.dialects.postgresql.drivers.psycopg3 import param_types

            return param_types(raw, values)
        from pytest_queryplan.dialects.postgresql.drivers.psycopg2 import (
            param_types as literal_types,
        )

        return literal_types(values)

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
        quote = self.connection.ops.quote_name
        generic = mode == Mode.GENERIC
        statements = POSTGRESQL.planner_settings(mode) + list(settings)
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
        if generic:
            rows = self._explain_generic(statements, sql, params, analyze=analyze)
        else:
            # A plain EXPLAIN with nothing set first plans and changes nothing: in
            # autocommit it needs no BEGIN ... ROLLBACK (a transaction keeps its savepoint).
            read_only = not statements and not analyze
            statements.append(f"EXPLAIN ({options}) {sql}")
            rows = self.runner().isolated(statements, params, read_only=read_only)
        if not rows:  # pragma: no cover - EXPLAIN always returns one row
            raise ExplainError("EXPLAIN returned no rows")
        return rows[0][0]

    def explain_many(self, items: Sequence[tuple[str, Params]], *, mode: Mode) -> list[Any] | None:
        """Plain EXPLAINs of several statements in one round trip (a watched test's queries),
        or None where that cannot be: generic mode (each statement is prepared on its own),
        a driver without a pipeline, a statement already in ``$n`` form, or a failure among
        them. The caller then explains them one by one."""
        if mode == Mode.GENERIC:
            return None
        runner = self.runner()
        many = getattr(runner, "isolated_many", None)
        if many is None or len(items) < 2 or any(_GENERIC_PARAM.search(s) for s, _ in items):
            return None
        setup = POSTGRESQL.planner_settings(mode)
        explains = [(f"EXPLAIN (FORMAT JSON) {sql}", params) for sql, params in items]
        rows = many(setup, explains, read_only=not setup)
        if rows is None or not all(rows):
            return None
        return [found[0][0] for found in rows]

    def _explain_generic(
        self, statements: list[str], sql: str, params: Params, *, analyze: bool
    ) -> Any:
        """The generic plan: what PostgreSQL may run once the statement is prepared, a plan
        made without the values (after five executions when its estimated cost is not much
        above theirs, or always under ``force_generic_plan``)."""
        try:
            prepared = numbered(sql, params)
        except PlaceholderError as exc:
            raise QueryPlanUsageError(
                f"Generic mode cannot number the statement's placeholders: {exc}"
            ) from None
        types = self.param_types(prepared.values)
        runner = self.runner()
        options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
        # GENERIC_PLAN cannot run the statement: EXPLAIN ANALYZE runs the prepared one.
        if self.connection.pg_version >= GENERIC_PLAN_VERSION and not analyze:
            # No values at all: the server plans the $n text itself. The casts give each
            # parameter the type the driver would declare for it; untyped ones (strings)
            # take their type from the statement, as they do when the driver sends them.
            text = prepared.typed(types)
            explain = f"EXPLAIN (GENERIC_PLAN, {options}) {text}"
            return runner.isolated([*statements, explain], None)
        return self._explain_prepared(runner, statements, prepared, types, options)

    def _explain_prepared(
        self,
        runner: Runner,
        statements: list[str],
        prepared: Numbered,
        types: list[str | None],
        options: str,
    ) -> Any:
        name = GENERIC_STATEMENT
        declared = f"({', '.join(t or 'unknown' for t in types)})" if types else ""
        # EXECUTE takes the values (bound by the driver) only because it must: under
        # force_generic_plan the plan it shows was made without them.
        execute = (
            f"EXECUTE {name}({', '.join(['%s'] * len(types))})" if types else f"EXECUTE {name}"
        )
        statements = [
            *statements,
            "SET LOCAL plan_cache_mode = force_generic_plan",
            f"PREPARE {name}{declared} AS {prepared.sql}",
            f"EXPLAIN ({options}) {execute}",
        ]
        try:
            rows = runner.isolated(statements, list(prepared.values) if types else None)
        except BaseException:
            # The savepoint's rollback does not undo a PREPARE: if it ran before the
            # failure, the statement is still there (and would block the next PREPARE).
            with contextlib.suppress(Exception):
                if runner.read(_PREPARED, [name]):
                    runner.isolated([f"DEALLOCATE {name}"], None)
            raise
        runner.isolated([f"DEALLOCATE {name}"], None)
        return rows

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

    def table_rows(self, table: str) -> float | None:
        """The planner's row count of ``table``, or None before it has statistics."""
        rows = list(self.runner().read(_TABLE_ROWS, [table]))
        return float(rows[0][0]) if rows and rows[0][0] and rows[0][0] > 0 else None

    def attached_indexes(self, name: str) -> frozenset[str]:
        return self.partition_layout(name)[0]

    def partition_layout(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        rows = self.runner().read(_LAYOUT, [name])
        indexes = frozenset(relname for kind, relname in rows if kind == "index") | {name}
        return indexes, frozenset(relname for kind, relname in rows if kind == "partition")

    def partition_roots(self, names: Iterable[str]) -> dict[str, str]:
        return dict(self.runner().read(_ROOTS, [sorted(set(names))]))
