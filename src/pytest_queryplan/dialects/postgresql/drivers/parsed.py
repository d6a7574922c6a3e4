"""Statements the server is known to parse: these may share one simple-protocol message
with the savepoint that protects the test's transaction.

PostgreSQL parses a whole simple Query message before it runs any of it: a syntax error
anywhere refuses every statement in it, the ``SAVEPOINT`` too, and inside a transaction
that aborts the test's transaction with nothing to roll back to. So, inside a
transaction, a runner sends the savepoint in a message of its own (psycopg2) or each
statement parsed on its own (psycopg 3's pipeline), unless every statement is known to
parse: then one message carries them all, which costs the server and the client less.

A statement is known to parse once the server has parsed it in this process, through the
same driver: each driver has its own set. psycopg 3's pipeline also shows it is one
statement (the extended protocol refuses a string of two), so that no message of ours
ever carries a second statement of the user's outside the savepoint and the rollback;
psycopg2 always sends its known statements inside a savepoint. Values are bound
client-side, each as one literal, so the text parses alike whatever the values are,
provided they are of the same kinds: the key is the statement before binding and the
kinds of its values (an empty tuple is a kind of its own, since psycopg2 writes ``()``
for it). Values of any type not listed here never make a key: those statements always go
the safe way.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Hashable, Sequence
from typing import Any

#: Values whose literal is one expression whatever the value (each driver quotes it).
_SCALARS = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        str,
        bytes,
        bytearray,
        memoryview,
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
    }
)
#: The drivers' own wrappers Django binds values in (psycopg 3's typed numbers, both
#: drivers' JSON and ranges): each quoted into one literal with a cast.
_WRAPPERS = frozenset(
    {
        *(f"psycopg.types.numeric.{name}" for name in ("Int2", "Int4", "Int8", "IntNumeric")),
        *(f"psycopg.types.numeric.{name}" for name in ("Float4", "Float8", "Oid")),
        "psycopg.types.json.Json",
        "psycopg.types.json.Jsonb",
        "psycopg.types.range.Range",
        "psycopg2._json.Json",
        *(f"psycopg2._range.{name}" for name in ("Range", "NumericRange", "DateRange")),
        *(f"psycopg2._range.{name}" for name in ("DateTimeRange", "DateTimeTZRange")),
    }
)
_CONTAINERS = (list, tuple)
#: Forget everything past this many statements (a suite with more shapes than this
#: merely sends some savepoints in a message of their own again).
LIMIT = 4096


class _Unknown(Exception):
    """A value of a kind whose literal may not be one expression."""


def _kind(value: Any) -> Hashable:
    kind = type(value)
    if kind in _SCALARS:
        return kind
    if kind in _CONTAINERS:
        return (kind, bool(value), frozenset(_kind(item) for item in value))
    if f"{kind.__module__}.{kind.__qualname__}" in _WRAPPERS:
        return kind
    raise _Unknown


def key(sql: str, params: Any) -> Hashable | None:
    """What decides whether ``sql`` bound to ``params`` parses; None: no key."""
    if params is None:
        return sql
    try:
        if isinstance(params, dict):
            return (sql, tuple(sorted((name, _kind(v)) for name, v in params.items())))
        if isinstance(params, Sequence) and not isinstance(params, (str, bytes)):
            return (sql, tuple(_kind(value) for value in params))
    except (_Unknown, TypeError):
        return None
    return None


class Parsed:
    """The statements one driver's runner has seen the server parse (a set per driver:
    what psycopg2's simple protocol showed is not what psycopg 3's pipeline showed)."""

    def __init__(self) -> None:
        self._known: set[Hashable] = set()

    def known(self, setup: Sequence[str], keys: Sequence[Hashable | None]) -> bool:
        """Whether ``setup`` (statements without values) and the statements of ``keys``
        (from :func:`key`) are all known to parse."""
        known = self._known
        return all(found is not None and found in known for found in keys) and all(
            text in known for text in setup
        )

    def learn(self, setup: Sequence[str], keys: Sequence[Hashable | None]) -> None:
        """Remember that the server parsed all of these."""
        known = self._known
        if len(known) + len(setup) + len(keys) > LIMIT:
            known.clear()
        known.update(setup)
        known.update(found for found in keys if found is not None)

    def forget(self) -> None:
        self._known.clear()


#: What psycopg 3's pipeline parsed (each one statement), and psycopg2's simple protocol.
PIPELINE = Parsed()
SIMPLE = Parsed()
