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

from collections.abc import Iterable, Sequence
from typing import Any

from pytest_queryplan.backends.base import ExplainError, IndexInfo
from pytest_queryplan.errors import QueryPlanUsageError

_SAVEPOINT = "pytest_queryplan"

_INDEX_COLUMNS = """
SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid),
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
             FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k),
       pg_get_expr(x.indpred, x.indrelid), am.amname, x.indisvalid, x.indisunique
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam
WHERE i.relnamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(true)))
"""
_BY_INDEX = _INDEX_COLUMNS + " AND i.relname = ANY(%s) ORDER BY i.relname"
_BY_TABLE = _INDEX_COLUMNS + " AND t.relname = ANY(%s) ORDER BY t.relname, i.relname"
_ATTACHED = """
WITH RECURSIVE tree(oid) AS (
    SELECT oid FROM pg_class WHERE relname = %s AND relkind IN ('i', 'I')
    UNION
    SELECT inh.inhrelid FROM pg_inherits inh JOIN tree ON inh.inhparent = tree.oid
)
SELECT c.relname FROM tree JOIN pg_class c ON c.oid = tree.oid
"""


class PostgreSQLBackend:
    vendor = "postgresql"

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.alias: str = connection.alias

    def _cursor(self) -> Any:
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
        status = raw.info.transaction_status
        if status == psycopg.pq.TransactionStatus.INERROR:
            raise QueryPlanUsageError(
                f"The transaction on {self.alias!r} is already aborted by an earlier error, "
                "so nothing can be explained in it. Fix or catch that error first (Django: "
                "wrap the failing statement in transaction.atomic())."
            )
        # Outside autocommit (inside Django's atomic()) psycopg opens the transaction itself
        # before our first statement, even when none is open yet: use a savepoint there too.
        in_transaction = status != psycopg.pq.TransactionStatus.IDLE or not raw.autocommit
        return psycopg.ClientCursor(raw), in_transaction

    def _isolated(
        self, statements: list[str], params: Sequence[Any] | dict[str, Any] | None
    ) -> list[Any] | None:
        """Run ``statements`` inside a throw-away (sub)transaction, in one round trip.

        Only the last statement takes ``params``; its rows are returned. The statements go
        through psycopg's pipeline mode: each is parsed on its own (a syntax error in the
        last one cannot stop the savepoint from being made first), yet all are sent
        together and answered after one Sync.
        """
        import psycopg

        cursor, in_transaction = self._cursor()
        if in_transaction:
            begin = [f"SAVEPOINT {_SAVEPOINT}"]
            end = [f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", f"RELEASE SAVEPOINT {_SAVEPOINT}"]
        else:
            begin, end = ["BEGIN"], ["ROLLBACK"]
        raw = self.connection.connection
        result = psycopg.ClientCursor(raw)
        try:
            with raw.pipeline():
                for statement in begin + statements[:-1]:
                    cursor.execute(statement)
                result.execute(statements[-1], params)
                for statement in end:
                    cursor.execute(statement)
            return result.fetchall() if result.description is not None else None
        except psycopg.Error as exc:
            self._restore(end)
            raise ExplainError(_first_line(exc)) from exc
        finally:
            cursor.close()
            result.close()

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
    ) -> Any:
        quote = self.connection.ops.quote_name
        statements = ["SET LOCAL enable_seqscan = off"] if forced else []
        statements += [f"ANALYZE {quote(table)}" for table in analyze_tables]
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
                valid=valid,
                unique=unique,
            )
            for name, table, definition, columns, predicate, method, valid, unique in rows
        ]

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        return self._indexes(_BY_INDEX, names)

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        return self._indexes(_BY_TABLE, tables)

    def attached_indexes(self, name: str) -> frozenset[str]:
        rows = self._isolated([_ATTACHED], [name]) or []
        return frozenset(row[0] for row in rows) | {name}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
