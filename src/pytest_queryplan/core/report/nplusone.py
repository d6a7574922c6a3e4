"""Repeated queries (N+1): the same statement from the same line, once per row.

The classic ORM regression: a loop reads a related object per row (``order.book``), so
one page costs a query per row instead of one or two. Within one test body, a statement
*shape* (values taken out, ``shape.py``) run from the same call site at least
``threshold`` times is a :class:`Repeat`. It needs no EXPLAIN: only the captured SQL and
call sites. :func:`django_fix` reads the SQL Django wrote for the repeated statement and
names the remedy (``select_related``, ``prefetch_related``, ...), saying when it is
guessing. Pure: stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pytest_queryplan.core.report.callsite import CallSite

#: Repeats of one statement from one line before it is a finding (ini default).
THRESHOLD = 5
#: The finding kinds: a read once per row, and a write once per row.
READ_KIND = "repeated-query"
WRITE_KIND = "row-by-row-write"
KINDS = (READ_KIND, WRITE_KIND)
WRITES = frozenset({"INSERT", "UPDATE", "DELETE"})

# Transaction control repeats by design (a savepoint per atomic block): never N+1.
_CONTROL = re.compile(
    r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|START|SET|SHOW|RESET)\b", re.IGNORECASE
)
# Django's WHERE for a related-object read: one equality on one column, then at most an
# ORDER BY and a LIMIT. ``"t"."col" = %s`` (or ``?`` in a shape).
_ONE_KEY = re.compile(
    r'\sWHERE\s+"(?P<table>[^"]+)"\."(?P<column>[^"]+)"\s*=\s*(?:%s|\?|\$\d+)'
    r"(?:\s+ORDER BY\s[^()]*?)?(?:\s+LIMIT\s+(?P<limit>\d+|\?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_FROM = re.compile(r'\sFROM\s+"(?P<table>[^"]+)"', re.IGNORECASE)
_VERB = re.compile(r"\s*(\w+)")


def is_control(sql: str) -> bool:
    """Transaction control and settings: statements a test does not choose to run."""
    return bool(_CONTROL.match(sql))


@dataclass(frozen=True)
class Fix:
    """The Django remedy for a repeat: ``method`` (``select_related``, ``prefetch_related``,
    ``annotate``, ``bulk_create``, ``bulk_update``, ``delete``; None when unsure) and the
    sentence that says it. ``sure`` is False when the SQL fits more than one cause."""

    method: str | None
    text: str
    sure: bool = True


@dataclass(frozen=True)
class Key:
    """What a related-object read looks rows up by: ``FROM "table" ... WHERE
    "where_table"."column" = %s`` (``where_table`` differs for a many-to-many's through
    table), with Django's ``LIMIT 21`` of a single-object read or not."""

    table: str
    where_table: str
    column: str
    limited: bool


def lookup_key(sql: str) -> Key | None:
    """The key of a SELECT that reads rows by one equality (a related-object read)."""
    found = _VERB.match(sql)
    if found is None or found.group(1).upper() not in ("SELECT", "WITH"):
        return None
    key, source = _ONE_KEY.search(sql), _FROM.search(sql)
    if key is None or source is None:
        return None
    return Key(source["table"], key["table"], key["column"], key["limit"] is not None)


def from_table(sql: str) -> str | None:
    """The first table a statement reads (``FROM "t"``)."""
    found = _FROM.search(sql)
    return found["table"] if found else None


@dataclass(frozen=True)
class Relation:
    """The relation a repeated read follows, found from its SQL and the models' meta:
    ``owner.name`` (``Order.customer``) is read once per ``owner`` row; ``parents_at`` is
    where the test body loaded those rows (None: before the body, or not seen)."""

    owner: str
    name: str
    #: ``foreign key``, ``one-to-one``, ``reverse foreign key``, ``reverse one-to-one``,
    #: ``many-to-many`` (either side).
    via: str
    #: The QuerySet method that loads it with the owners: select_related or prefetch_related.
    method: str
    parents_at: CallSite | None = None
    #: How the repeated query reads it: ``rows`` (the objects), ``count`` or ``exists``.
    read: str = "rows"

    @property
    def call(self) -> str:
        return f'.{self.method}("{self.name}")'

    @property
    def fix(self) -> Fix:
        loads = f"the query that loads the {self.owner} rows"
        if self.read == "count":
            return Fix(
                "annotate",
                f'add .annotate(n=Count("{self.name}")) to {loads}, and read the count from '
                f"it (or {self.call} and len()).",
            )
        if self.read == "exists":
            return Fix(
                "annotate",
                f"add .annotate(has=Exists(...)) on {self.name} to {loads} (or {self.call} "
                "and test the list).",
            )
        return Fix(self.method, f"add {self.call} to {loads}.")


@dataclass(frozen=True)
class Repeat:
    """One statement shape run ``count`` times from ``call_site``; ``sql`` is the first run's.
    ``relation``: the relation it follows, when the models' meta could name it."""

    shape: str
    sql: str
    call_site: CallSite | None
    count: int
    relation: Relation | None = None

    @property
    def fix(self) -> Fix:
        if self.relation is not None:
            return self.relation.fix
        return django_fix(self.sql)

    @property
    def read(self) -> str:
        """How the statement reads: ``count``, ``exists`` or ``rows``."""
        key = _ONE_KEY.search(self.sql)
        head = self.sql[: key.start()] if key else self.sql
        if re.search(r"\bCOUNT\(", head, re.IGNORECASE):
            return "count"
        if re.match(r'\s*SELECT\s+(%s|\?|1)\s+AS\s+"a"\s', head, re.IGNORECASE):
            return "exists"
        return "rows"

    @property
    def verb(self) -> str:
        found = _VERB.match(self.sql)
        return found.group(1).upper() if found else ""

    @property
    def kind(self) -> str:
        """``row-by-row-write`` for an INSERT, UPDATE or DELETE, else ``repeated-query``."""
        return WRITE_KIND if self.verb in WRITES else READ_KIND


def repeats(
    queries: Iterable[tuple[str, CallSite | None, str]], threshold: int = THRESHOLD
) -> list[Repeat]:
    """The repeats among a test body's queries, in the order each was first run.

    ``queries`` are ``(sql_shape, call_site, sql)`` in the order they ran; the SQL of the
    first query of each group is kept for the message and the fix. Transaction control
    (savepoints, ``SET``) is never a repeat. ``threshold`` below 2 is taken as 2.
    """
    threshold = max(threshold, 2)
    counts: dict[tuple[str, CallSite | None], int] = {}
    first: dict[tuple[str, CallSite | None], str] = {}
    for shape, site, sql in queries:
        key = (shape, site)
        if key not in counts:
            if _CONTROL.match(shape):
                continue
            first[key] = sql
            counts[key] = 0
        counts[key] += 1
    return [
        Repeat(shape, first[(shape, site)], site, count)
        for (shape, site), count in counts.items()
        if count >= threshold
    ]


def django_fix(sql: str) -> Fix:
    """The remedy for ``sql`` run once per row, read from the SQL Django writes.

    ``WHERE "t"."id" = %s LIMIT 21`` is a forward foreign key or one-to-one read (or a
    ``get(pk=...)`` in a loop); ``WHERE "t"."x_id" = %s`` without LIMIT is a reverse
    foreign key or a many-to-many (``prefetch_related``); with ``LIMIT 21`` a reverse
    one-to-one; ``COUNT(*)`` and ``exists()`` per row want an annotation.
    """
    found = _VERB.match(sql)
    verb = found.group(1).upper() if found else ""
    if verb == "INSERT":
        return Fix(
            "bulk_create",
            "rows inserted one by one (create() or save() in a loop): build the objects, then "
            "insert them in one statement with Model.objects.bulk_create(objects).",
        )
    if verb == "UPDATE":
        return Fix(
            "bulk_update",
            "rows updated one by one (save() in a loop): Model.objects.bulk_update(objects, "
            "[fields]), or one QuerySet.update(field=value) when every row gets the same "
            "value (F() expressions for values computed from the row).",
        )
    if verb == "DELETE":
        return Fix(
            "delete",
            "rows deleted one by one (delete() in a loop): delete them in one statement with "
            "QuerySet.filter(...).delete().",
        )
    key = _ONE_KEY.search(sql)
    found = _FROM.search(sql)
    table = found["table"] if found else "?"
    if verb not in ("SELECT", "WITH") or key is None:
        return Fix(
            None,
            "the same query once per row: fetch the rows in one query (select_related, "
            "prefetch_related, or a filter(...__in=...) on the values the loop uses).",
            sure=False,
        )
    column, limited = key["column"], key["limit"] is not None
    by = f'"{key["table"]}"."{column}"'
    head = sql[: key.start()]
    loads = "to the query that loads the rows the loop walks"
    if re.search(r"\bCOUNT\(", head, re.IGNORECASE):
        return Fix(
            "annotate",
            f'"{table}" rows counted by {by}, once per row: count them in the query that '
            'loads the rows, .annotate(n=Count("<related name>")).',
        )
    if re.match(r'\s*SELECT\s+(%s|\?|1)\s+AS\s+"a"\s', head, re.IGNORECASE):
        return Fix(
            "annotate",
            f'.exists() on "{table}" by {by}, once per row: .annotate(has=Exists(...)) on '
            "the query that loads the rows, or prefetch_related and test the list.",
        )
    if column == "id" and limited:
        return Fix(
            "select_related",
            f'one "{table}" row per query by {by}: a foreign key or one-to-one followed '
            f'in a loop. Add .select_related("<field>") {loads} (or in_bulk() for ids '
            "you hold).",
        )
    if column.endswith("_id") and limited:
        return Fix(
            "select_related",
            f'one "{table}" row per query by {by}: likely a reverse one-to-one followed in '
            f'a loop (or a .get() by that key). Add .select_related("<related name>") {loads}.',
            sure=False,
        )
    if column.endswith("_id"):
        return Fix(
            "prefetch_related",
            f'"{table}" rows by {by}, once per row: a reverse foreign key or a many-to-many '
            f'read in a loop. Add .prefetch_related("<related name>") {loads}.',
        )
    return Fix(
        None,
        f'"{table}" rows by {by}, once per row: fetch them in one query '
        f"(.filter({column}__in=...), select_related or prefetch_related).",
        sure=False,
    )
