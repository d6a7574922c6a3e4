"""PostgreSQL adapter: EXPLAIN in one round trip that leaves no trace, and catalog look-ups.

Every statement runs on the Django connection's own psycopg connection, through a
``ClientCursor`` of ours (client-side binding, as Django itself uses): values are bound by
psycopg, and Django's execute wrappers (our own capture included) never see the plugin's
EXPLAINs. Each call is wrapped so the session ends
exactly as it began: inside a transaction a savepoint that is rolled back and released, in
autocommit a ``BEGIN ... ROLLBACK``. ``SET LOCAL`` therefore vanishes with it, and so does
every row an ``EXPLAIN ANALYZE`` of a write touched, and the ``pg_statistic`` rows an
``ANALYZE`` wrote. (PostgreSQL updates ``pg_class.reltuples``/``relpages`` in place, outside
transaction control, so those two counters keep what ANALYZE measured.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from pytest_queryplan.backends.base import ExplainError
from pytest_queryplan.core.catalog import IndexInfo
from pytest_queryplan.errors import QueryPlanUsageError

_SAVEPOINT = "pytest_queryplan"
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

    def _connection(self) -> tuple[Any, Any]:
        """The psycopg connection and its transaction status, checked for a usable state."""
        try:
            import psycopg
        except ImportError:  # pragma: no cover - depends on the user's environment
            psycopg = None
        self.connection.ensure_connection()
        raw = self.connection.connection
        if psycopg is None or not isinstance(raw, psycopg.Connection):
            raise QueryPlanUsageError(
                f"Database alias {self.alias!r} uses {type(raw).__module__}; pytest-queryplan "
                "needs psycopg 3 (pip install 'psycopg[binary]'), which Django picks "
                "automatically when it is installed."
            )
        status = raw.pgconn.transaction_status
        if status == psycopg.pq.TransactionStatus.INERROR:
            raise QueryPlanUsageError(
                f"The transaction on {self.alias!r} is already aborted by an earlier error, "
                "so nothing can be explained in it. Fix or catch that error first (Django: "
                "wrap the failing statement in transaction.atomic())."
            )
        return raw, status

    def _isolated(
        self, statements: list[str], params: Sequence[Any] | dict[str, Any] | None
    ) -> list[Any] | None:
        """Run ``statements`` inside a throw-away (sub)transaction, in one round trip.

        Only the last statement takes ``params``; its rows are returned. The statements go
        through libpq's pipeline mode: each is parsed on its own (a syntax error in the
        last one cannot stop the savepoint from being made first), yet all are sent in
        one write and answered after one Sync. (psycopg's ``pipeline()`` would send each
        statement in a write of its own, and wait on the socket before each: that cost
        as much again as the EXPLAIN's own round trip.)
        """
        import psycopg
        from psycopg.adapt import Transformer
        from psycopg.pq import ExecStatus, TransactionStatus

        raw, status = self._connection()
        # Outside autocommit (inside Django's atomic()) psycopg opens the transaction itself
        # before a first statement, even when none is open yet: use a savepoint there too,
        # after the BEGIN psycopg would have sent.
        if status != TransactionStatus.IDLE or not raw.autocommit:
            begin = [f"SAVEPOINT {_SAVEPOINT}"]
            end = [f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", f"RELEASE SAVEPOINT {_SAVEPOINT}"]
            if status == TransactionStatus.IDLE:
                begin.insert(0, _begin(raw))
        else:
            begin, end = ["BEGIN"], ["ROLLBACK"]
        encoding = raw.info.encoding
        try:
            last = statements[-1]
            if params is not None:
                with psycopg.ClientCursor(raw) as cursor:
                    last = cursor.mogrify(last, params)  # bound as ClientCursor.execute() binds
            queries = [*begin, *statements[:-1], last, *end]
            results = _pipeline(raw, [query.encode(encoding) for query in queries])
            failed = next((r for r in results if r.status == ExecStatus.FATAL_ERROR), None)
            if failed is not None:
                raise psycopg.errors.error_from_result(failed, encoding=encoding)
        except psycopg.Error as exc:
            self._restore(end)
            raise ExplainError(_first_line(exc)) from exc
        result = results[len(begin) + len(statements) - 1]
        if not (result.nfields or result.status == ExecStatus.TUPLES_OK):
            return None
        loader = Transformer(raw)
        loader.set_pgresult(result)
        return loader.load_rows(0, result.ntuples, tuple)

    def _restore(self, end: list[str]) -> None:
        import psycopg

        raw = self.connection.connection
        if raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            with psycopg.ClientCursor(raw) as cursor:
                for statement in end:
                    cursor.execute(statement)

    def explain(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None,
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
        rows = self._isolated(statements, params)
        if not rows:  # pragma: no cover - EXPLAIN always returns one row
            raise ExplainError("EXPLAIN returned no rows")
        return rows[0][0]

    def _indexes(self, query: str, names: Iterable[str]) -> list[IndexInfo]:
        rows = self._isolated([query], [list(names)]) or []
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
            for name, table, definition, columns, predicate, method, unique, constraint in (rows)
        ]

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        return self._indexes(_BY_INDEX, names)

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        return self._indexes(_BY_TABLE, tables)

    def column_types(self, table: str) -> dict[str, str]:
        return dict(self._isolated([_COLUMN_TYPES], [table]) or [])

    def attached_indexes(self, name: str) -> frozenset[str]:
        rows = self._isolated([_ATTACHED], [name]) or []
        return frozenset(row[0] for row in rows) | {name}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _begin(raw: Any) -> str:
    """The BEGIN psycopg itself sends before a statement outside autocommit."""
    from psycopg import IsolationLevel

    parts = ["BEGIN"]
    if raw.isolation_level is not None:
        level = IsolationLevel(raw.isolation_level).name.replace("_", " ")
        parts.append(f"ISOLATION LEVEL {level}")
    if raw.read_only is not None:
        parts.append("READ ONLY" if raw.read_only else "READ WRITE")
    if raw.deferrable is not None:
        parts.append("DEFERRABLE" if raw.deferrable else "NOT DEFERRABLE")
    return " ".join(parts)


def _pipeline(raw: Any, queries: list[bytes]) -> list[Any]:
    """Send ``queries`` in pipeline mode and one write; return one PGresult per query.

    A query after a failed one gets a PIPELINE_ABORTED result. Waits on the socket with
    ``select`` (interruptible). Interrupted, it cancels the server's work and drains the
    pipeline, as psycopg's own wait does, or closes the connection if even that fails.
    """
    import psycopg

    pgconn = raw.pgconn
    with raw.lock:
        pgconn.enter_pipeline_mode()
        try:
            for query in queries:
                pgconn.send_query_params(query, None)
            pgconn.pipeline_sync()
            results = _results(pgconn)
        except psycopg.Error:
            with contextlib.suppress(psycopg.Error):
                pgconn.exit_pipeline_mode()
            raise
        except BaseException:  # KeyboardInterrupt while the server works
            _abandon(raw)
            raise
        pgconn.exit_pipeline_mode()
    return results


def _results(pgconn: Any, timeout: float | None = None) -> list[Any]:
    """Flush, then read results up to the pipeline's Sync (libpq's nonblocking protocol)."""
    import select

    from psycopg.pq import ExecStatus

    fd = pgconn.socket
    while pgconn.flush():  # 1 while output remains unsent
        readable, _, _ = select.select([fd], [fd], [], timeout)
        if readable:
            pgconn.consume_input()
    results = []
    while True:
        while pgconn.is_busy():
            if not select.select([fd], [], [], timeout)[0]:
                raise TimeoutError("no answer from PostgreSQL")
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            continue  # the end of one query's results
        if result.status == ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)


def _abandon(raw: Any) -> None:
    try:
        raw.cancel()
        _results(raw.pgconn, timeout=5.0)
        raw.pgconn.exit_pipeline_mode()
    except BaseException:  # noqa: BLE001 - the connection cannot be trusted any more
        raw.close()
