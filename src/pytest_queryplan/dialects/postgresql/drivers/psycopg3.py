"""The psycopg 3 runner: every call in one round trip.

Values are bound by a ``ClientCursor`` of ours (client-side binding, as Django itself
uses with psycopg 3). The first time a statement is explained they go through libpq's
pipeline mode: each is parsed on its own (a syntax error in the last one cannot stop the
savepoint from being made first, and a string holding two statements is refused instead
of run), yet all are sent in one write and answered after one Sync. (psycopg's
``pipeline()`` would send each statement in a write of its own, and wait on the socket
before each: that cost as much again as the EXPLAIN's own round trip.) Once the pipeline
has shown that every statement parses, and is one statement, the same statements with
other values go in one simple-protocol message (``parsed.py``), which costs both sides
less than the pipeline's extended protocol: about 20-50 µs a call for the four or five
statements of a forced-mode EXPLAIN (PostgreSQL 15, TCP and Unix socket).

One statement cannot go through the pipeline: a generic-mode ``EXPLAIN (GENERIC_PLAN)`` whose
``$n`` have no values. The pipeline speaks the extended protocol, where the server would ask
for those values at Bind (and, given some, plan with them); it goes as psycopg sends a
statement without parameters, in the simple protocol, after the savepoint: two round trips.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from pytest_queryplan.dialects.base import (
    CLOSE_SAVEPOINT,
    OPEN_SAVEPOINT,
    ExplainError,
    Params,
    Rows,
    aborted,
    first_line,
)
from pytest_queryplan.dialects.postgresql.drivers import parsed

#: A parameter number: a statement sent with no values that has one needs the simple protocol.
_PARAMETER = re.compile(r"\$\d")


class Psycopg3Runner:
    def __init__(self, raw: Any, alias: str) -> None:
        self.raw = raw
        self.alias = alias

    def _wrapping(self, read_only: bool = False) -> tuple[list[str], list[str]]:
        """The statements before and after ours that leave the session as it was (none
        for ``read_only`` statements in autocommit: see ``Runner.isolated``)."""
        from psycopg.pq import TransactionStatus

        raw = self.raw
        status = raw.pgconn.transaction_status
        if status == TransactionStatus.INERROR:
            raise aborted(self.alias)
        # Outside autocommit (inside Django's atomic()) psycopg opens the transaction itself
        # before a first statement, even when none is open yet: use a savepoint there too,
        # after the BEGIN psycopg would have sent.
        if status != TransactionStatus.IDLE or not raw.autocommit:
            begin = [OPEN_SAVEPOINT]
            if status == TransactionStatus.IDLE:
                begin.insert(0, _begin(raw))
            return begin, list(CLOSE_SAVEPOINT)
        if read_only:
            return [], []
        return ["BEGIN"], ["ROLLBACK"]

    def isolated(
        self, statements: Sequence[str], params: Params, *, read_only: bool = False
    ) -> Rows | None:
        import psycopg
        from psycopg.adapt import Transformer
        from psycopg.pq import ExecStatus

        raw = self.raw
        begin, end = self._wrapping(read_only)
        encoding = raw.info.encoding
        try:
            last = statements[-1]
            unbound = params is None and _PARAMETER.search(last) is not None
            known = False
            if params is not None:
                with psycopg.ClientCursor(raw) as cursor:
                    last = cursor.mogrify(last, params)  # bound as ClientCursor.execute() binds
            if unbound:
                # The savepoint first: a string the server refuses whole (a syntax error)
                # then leaves the surrounding transaction something to roll back to.
                setup = [*begin, *statements[:-1]]
                results = _pipeline(raw, [query.encode(encoding) for query in setup])
                if all(r.status != ExecStatus.FATAL_ERROR for r in results):
                    results += _simple(raw, "; ".join([last, *end]).encode(encoding))
            else:
                queries = [*begin, *statements[:-1], last, *end]
                keys = [parsed.key(statements[-1], params)]
                known = parsed.PIPELINE.known(statements[:-1], keys)
                results = _send(raw, queries, encoding, one_message=known)
            failed = next((r for r in results if r.status == ExecStatus.FATAL_ERROR), None)
            if failed is not None:
                raise psycopg.errors.error_from_result(failed, encoding=encoding)
        except psycopg.Error as exc:
            self._restore(end)
            raise ExplainError(first_line(exc)) from exc
        if not (unbound or known):
            parsed.PIPELINE.learn(statements[:-1], keys)
        result = results[len(begin) + len(statements) - 1]
        if not (result.nfields or result.status == ExecStatus.TUPLES_OK):
            return None
        loader = Transformer(raw)
        loader.set_pgresult(result)
        return loader.load_rows(0, result.ntuples, tuple)

    def isolated_many(
        self,
        setup: Sequence[str],
        statements: Sequence[tuple[str, Params]],
        *,
        read_only: bool = False,
    ) -> list[Rows] | None:
        """Every statement's rows, after ``setup``, in one savepoint and one round trip;
        None when any statement failed (the caller then runs them one by one, to tell
        which). The savepoint is rolled back either way; ``read_only`` as for
        :meth:`isolated`."""
        import psycopg
        from psycopg.adapt import Transformer
        from psycopg.pq import ExecStatus

        raw = self.raw
        begin, end = self._wrapping(read_only)
        encoding = raw.info.encoding
        bound = []
        with psycopg.ClientCursor(raw) as cursor:
            for sql, params in statements:
                bound.append(sql if params is None else cursor.mogrify(sql, params))
        queries = [*begin, *setup, *bound, *end]
        keys = [parsed.key(sql, params) for sql, params in statements]
        known = parsed.PIPELINE.known(setup, keys)
        try:
            results = _send(raw, queries, encoding, one_message=known)
        except psycopg.Error:
            self._restore(end)
            return None
        if any(r.status == ExecStatus.FATAL_ERROR for r in results):
            self._restore(end)
            return None
        if not known:
            parsed.PIPELINE.learn(setup, keys)
        first = len(begin) + len(setup)
        rows = []
        for result in results[first : first + len(bound)]:
            loader = Transformer(raw)
            loader.set_pgresult(result)
            rows.append(loader.load_rows(0, result.ntuples, tuple))
        return rows

    def read(self, sql: str, params: Params) -> Rows:
        # The pipeline makes isolation free: still one round trip.
        return self.isolated([sql], params, read_only=True) or []

    def _restore(self, end: list[str]) -> None:
        import psycopg

        raw = self.raw
        if raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            with psycopg.ClientCursor(raw) as cursor:
                for statement in end:
                    cursor.execute(statement)


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


def _send(raw: Any, queries: list[str], encoding: str, *, one_message: bool) -> list[Any]:
    """One PGresult per query that ran: in one simple-protocol message when every query is
    known to parse (``parsed``), otherwise through the pipeline, each parsed on its own."""
    if one_message:
        return _simple(raw, "; ".join(queries).encode(encoding))
    return _pipeline(raw, [query.encode(encoding) for query in queries])


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


def _simple(raw: Any, query: bytes) -> list[Any]:
    """Send ``query`` (one or more statements) in the simple protocol; one PGresult per
    statement that ran (none after a failed one)."""
    import psycopg

    pgconn = raw.pgconn
    with raw.lock:
        try:
            pgconn.send_query(query)
            return _results(pgconn, until_sync=False)
        except psycopg.Error:
            raise
        except BaseException:  # KeyboardInterrupt while the server works
            _abandon(raw, until_sync=False)
            raise


def param_types(raw: Any, values: Sequence[Any]) -> list[str | None]:
    """The type psycopg declares for each value when it binds on the server (Django's
    ``server_side_binding``): the connection's own dumpers decide, Django's included.
    None where it declares none (``unknown``: psycopg leaves a str's type to the server)."""
    from psycopg.adapt import PyFormat, Transformer

    transformer = Transformer(raw)
    try:
        transformer.dump_sequence(values, [PyFormat.AUTO] * len(values))
    except Exception:  # noqa: BLE001 - a value psycopg cannot dump: let the server infer all
        return [None] * len(values)
    names: list[str | None] = []
    for oid in transformer.types:
        info = raw.adapters.types.get(oid) if oid else None
        if info is None:
            names.append(None)
            continue
        name = getattr(info, "regtype", "") or info.name
        names.append(f"{name}[]" if oid == info.array_oid else name)
    return names


def _results(pgconn: Any, timeout: float | None = None, *, until_sync: bool = True) -> list[Any]:
    """Flush, then read results up to the pipeline's Sync (libpq's nonblocking protocol),
    or, ``until_sync=False``, up to the end of a simple-protocol query's results."""
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
            if not until_sync:
                return results
            continue  # the end of one query's results
        if result.status == ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)


def _abandon(raw: Any, *, until_sync: bool = True) -> None:
    try:
        raw.cancel()
        _results(raw.pgconn, timeout=5.0, until_sync=until_sync)
        raw.pgconn.exit_pipeline_mode()
    except BaseException:  # noqa: BLE001 - the connection cannot be trusted any more
        raw.close()
