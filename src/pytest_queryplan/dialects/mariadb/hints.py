"""Forced mode's statement: ``FORCE INDEX (...)`` after every table reference.

MariaDB 10.11 has no setting that makes a full read look expensive (its optimizer cost
variables arrived in 11.0; ``max_seeks_for_key`` changed no plan in the research), but an
index hint does: with ``FORCE INDEX (every index of the table)`` "a table scan is assumed
to be very expensive", and the optimizer still chooses *which* listed index by cost, and
still reads the table whole when no listed index can serve the query. That is the question
forced mode asks: can an index serve this query, whatever the data volume?

Only ``tbl [AS] alias`` references after FROM, JOIN, a FROM list's comma, and a
single-table UPDATE are hinted; a derived table, a reference that already has a hint of
its own, and a single-table DELETE's target (which takes no hint) are left as they are.
Pure: stdlib only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pytest_queryplan.dialects import sqlscan

_STARTS = frozenset({"FROM", "JOIN", "UPDATE"})
_ENDS = frozenset(
    """WHERE GROUP ORDER HAVING LIMIT UNION INTERSECT EXCEPT ON USING SET WINDOW FOR LOCK
    PROCEDURE INTO RETURNING""".split()
)
_HINTS = frozenset({"USE", "IGNORE", "FORCE"})


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _word(token: tuple[str, str, int, int]) -> str:
    return token[1].upper() if token[0] == "ident" else ""


def _name(token: tuple[str, str, int, int]) -> bool:
    return token[0] == "qid" or (token[0] == "ident" and _word(token) not in _KEYWORDS)


_KEYWORDS = (
    _STARTS
    | _ENDS
    | _HINTS
    | frozenset(
        """SELECT AS INNER LEFT RIGHT CROSS OUTER NATURAL STRAIGHT_JOIN LATERAL PARTITION
    LOW_PRIORITY IGNORE QUICK""".split()
    )
)


def references(sql: str) -> list[tuple[str, int]]:
    """(table, where a hint goes) for every table reference a hint can follow."""
    tokens = sqlscan.spans(sql, backslash=True)
    found: list[tuple[str, int]] = []
    first = next((_word(t) for t in tokens if t[0] == "ident"), "")
    in_from = False
    i = 0
    while i < len(tokens):
        word = _word(tokens[i])
        starts = word in _STARTS or (in_from and tokens[i][1] == ",")
        if word in _STARTS:
            in_from = True
        elif word in _ENDS or word == "SELECT" or tokens[i][1] in ("(", ")"):
            in_from = False
        if (
            word == "FROM"
            and first == "DELETE"
            and not found
            and "SELECT" not in _before(tokens, i)
        ):
            i += 1  # DELETE FROM t: a single-table DELETE takes no index hint
            continue
        if not starts or i + 1 >= len(tokens) or not _name(tokens[i + 1]):
            i += 1
            continue
        j = i + 1
        while j + 2 < len(tokens) and tokens[j + 1][1] == "." and _name(tokens[j + 2]):
            j += 2
        table, end = sqlscan.unquote(tokens[j][:2]), tokens[j][3]
        k = j + 1
        if k < len(tokens) and _word(tokens[k]) == "AS":
            k += 1
        if k < len(tokens) and _name(tokens[k]):
            end = tokens[k][3]
            k += 1
        if not (k < len(tokens) and _word(tokens[k]) in _HINTS):
            found.append((table, end))
        i = k
    return found


def _before(tokens: Sequence[tuple[str, str, int, int]], i: int) -> set[str]:
    return {_word(t) for t in tokens[:i]}


def force_indexes(
    sql: str, indexes: Mapping[str, Sequence[str]], hide: Collection[str] = ()
) -> str:
    """``sql`` with ``FORCE INDEX`` listing each referenced table's indexes (``hide``
    left out of the list; when that leaves none, ``IGNORE INDEX`` of them instead)."""
    out, last = [], 0
    for table, at in references(sql):
        names = indexes.get(table, ())
        listed = [name for name in names if name not in hide]
        hidden = [name for name in names if name in hide]
        if listed:
            hint = f" FORCE INDEX ({', '.join(quote(name) for name in listed)})"
        elif hidden:
            hint = f" IGNORE INDEX ({', '.join(quote(name) for name in hidden)})"
        else:
            continue
        out += [sql[last:at], hint]
        last = at
    return "".join([*out, sql[last:]])


def ignore_indexes(sql: str, indexes: Mapping[str, Sequence[str]], hide: Collection[str]) -> str:
    """``sql`` with ``IGNORE INDEX`` of the ``hide`` indexes on their tables."""
    out, last = [], 0
    for table, at in references(sql):
        hidden = [name for name in indexes.get(table, ()) if name in hide]
        if hidden:
            out += [sql[last:at], f" IGNORE INDEX ({', '.join(quote(name) for name in hidden)})"]
            last = at
    return "".join([*out, sql[last:]])
