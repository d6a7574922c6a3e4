"""The psycopg2 runner: as few round trips as psycopg2 allows, with the same safety.

psycopg2 sends a statement string as one simple Query message and returns only the last
statement's rows; PostgreSQL parses the whole string before running any of it. So a
syntax error in the user's SQL would refuse a ``SAVEPOINT ...; EXPLAIN ...`` string whole,
savepoint included, and abort the test's transaction with nothing to roll back to. Inside a
transaction the savepoint therefore goes first, in a string of its own, then the setup
statements and the EXPLAIN (a setup statement may hold the user's SQL too: generic mode's
PREPARE), then the rollback: three round trips; two once the server has parsed every one
of those statements before (``parsed.py``): the savepoint then shares their string. In
autocommit a refused string leaves nothing behind, so ``BEGIN; setup; EXPLAIN`` goes at
once and ``ROLLBACK`` after it: two; a plain EXPLAIN with no setup (natural mode) changes
nothing and goes alone: one.
Values are bound by ``cursor.mogrify``, the client-side binding psycopg2 always uses;
psycopg2 sends its own BEGIN first where a non-autocommit connection has no transaction
open yet, as it would for the test's next statement anyway.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Sequence
from typing import Any

from pytest_queryplan.dialects.base import (
    CLOSE_SAVEPOINT,
    OPEN_SAVEPOINT,
    SAVEPOINT,
    ExplainError,
    Params,
    Rows,
    aborted,
    first_line,
)
from pytest_queryplan.dialects.postgresql.drivers import parsed


class Psycopg2Runner:
    def __init__(self, raw: Any, alias: str) -> None:
        self.raw = raw
        self.alias = alias

    def _status(self) -> int:
        from psycopg2.extensions import TRANSACTION_STATUS_INERROR

        status = self.raw.info.transaction_status
        if status == TRANSACTION_STATUS_INERROR:
            raise aborted(self.alias)
        return status

    def _fresh(self, status: int) -> bool:
        """Autocommit with no transaction open: a refused string leaves nothing behind."""
        from psycopg2.extensions import TRANSACTION_STATUS_IDLE

        return bool(self.raw.autocommit) and status == TRANSACTION_STATUS_IDLE

    def isolated(
        self, statements: Sequence[str], params: Params, *, read_only: bool = False
    ) -> Rows | None:
        import psycopg2

        fresh = self._fresh(self._status())
        with self.raw.cursor() as cursor:
            if fresh and read_only and len(statements) == 1 and ";" not in statements[0]:
                # Nothing to roll back, and a refused statement leaves autocommit idle. (A
                # string that may hold a second statement, one that could write, goes
                # inside BEGIN ... ROLLBACK below: values are quoted, so the SQL tells.)
                try:
                    cursor.execute(statements[0], params)
                    return cursor.fetchall() if cursor.description is not None else None
                except psycopg2.Error as exc:
                    raise ExplainError(first_line(exc)) from exc
            last = self._bind(cursor, statements[-1], params)
            setup = list(statements[:-1])
            keys = [parsed.key(statements[-1], params)]
            known = parsed.SIMPLE.known(setup, keys)
            if fresh:
                batches, end = ["; ".join(["BEGIN", *setup, last])], "ROLLBACK"
            elif known:
                batches = ["; ".join([OPEN_SAVEPOINT, *setup, last])]
                end = "; ".join(CLOSE_SAVEPOINT)
            else:
                # The savepoint must exist before the user's SQL is even parsed.
                batches = [OPEN_SAVEPOINT, "; ".join([*setup, last])]
                end = "; ".join(CLOSE_SAVEPOINT)
            try:
                for batch in batches:
                    cursor.execute(batch)
                rows = cursor.fetchall() if cursor.description is not None else None
            except psycopg2.Error as exc:
                self._restore(cursor, end, fresh)
                raise ExplainError(first_line(exc)) from exc
            cursor.execute(end)
        if not known:
            parsed.SIMPLE.learn(setup, keys)
        return rows

    def read(self, sql: str, params: Params) -> Rows:
        import psycopg2

        fresh = self._fresh(self._status())
        with self.raw.cursor() as cursor:
            if fresh:  # a failed read in autocommit leaves nothing behind: one round trip
                try:
                    cursor.execute(sql, params)
                    return cursor.fetchall()
                except psycopg2.Error as exc:
                    raise ExplainError(first_line(exc)) from exc
            # The backend's own catalog SQL always parses, so the savepoint shares its
            # string; a read needs no rollback, only the release: two round trips.
            try:
                cursor.execute(f"{OPEN_SAVEPOINT}; {self._bind(cursor, sql, params)}")
                rows = cursor.fetchall()
            except psycopg2.Error as exc:
                self._restore(cursor, "; ".join(CLOSE_SAVEPOINT), fresh)
                raise ExplainError(first_line(exc)) from exc
            cursor.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
        return rows

    def _bind(self, cursor: Any, sql: str, params: Params) -> str:
        """``sql`` with ``params`` bound by psycopg2, as ``cursor.execute`` would bind them."""
        from psycopg2.extensions import encodings

        if params is None:
            return sql
        return cursor.mogrify(sql, params).decode(encodings[self.raw.encoding])

    def _restore(self, cursor: Any, end: str, fresh: bool) -> None:
        from psycopg2.extensions import TRANSACTION_STATUS_IDLE

        if fresh and self.raw.info.transaction_status == TRANSACTION_STATUS_IDLE:
            return  # the whole string was refused: BEGIN never ran
        cursor.execute(end)


#: Python type -> the type PostgreSQL gives the literal psycopg2 writes for it.
_LITERAL_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (float, "numeric"),  # psycopg2 writes repr(): 1.5, a numeric constant
    (decimal.Decimal, "numeric"),
    (datetime.datetime, "timestamp"),
    (datetime.date, "date"),
    (datetime.time, "time"),
    (datetime.timedelta, "interval"),
    (uuid.UUID, "uuid"),
    (bytes, "bytea"),
    (memoryview, "bytea"),
)


def param_types(values: Sequence[Any]) -> list[str | None]:
    """psycopg2 never declares a type: it writes each value as a literal, and the server
    types the literal. These are those types (None for a quoted string, NULL and the rest,
    which the server infers from the statement as it does for ``unknown``)."""
    return [_literal_type(value) for value in values]


def _literal_type(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if -(2**31) <= value < 2**31:
            return "integer"
        return "bigint" if -(2**63) <= value < 2**63 else "numeric"
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return "timestamptz"
    return next((name for kind, name in _LITERAL_TYPES if isinstance(value, kind)), None)
