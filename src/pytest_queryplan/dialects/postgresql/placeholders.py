"""Django's placeholders as a prepared statement's: ``%s`` and ``%(name)s`` to ``$1..$n``.

Owns reading a statement written for psycopg's client-side formatting (the SQL Django hands
to ``cursor.execute``) as PostgreSQL's own lexer reads it, so that a placeholder becomes
``$n`` only where it is code: never inside a string literal, a quoted identifier, a
dollar-quoted string or a comment. ``%%`` is a literal percent everywhere, as the driver
reads it. Pure: stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# One lexical unit that is not code, or one percent sequence. Order matters: an E'' string
# before a plain one, a dollar quote before a stray "$".
_UNIT = re.compile(
    r"""
      (?P<estring>(?<![\w$])[Ee]'(?:[^'\\]|\\.|'')*'?)
    | (?P<string>'(?:[^']|'')*'?)
    | (?P<ident>"(?:[^"]|"")*"?)
    | (?P<line>--[^\n]*)
    | (?P<block>/\*)
    | (?P<dollar>(?<![\w$])\$(?P<tag>[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$)
    | (?P<percent>%(?:%|\((?P<name>[^)]*)\)(?P<fmt>.)|(?P<pfmt>.)|$))
    """,
    re.VERBOSE | re.DOTALL,
)
# psycopg's formats: %s (auto), %b (binary), %t (text); all one parameter each.
_FORMATS = frozenset("sbt")


class PlaceholderError(ValueError):
    """The statement's placeholders cannot be read the way the driver would read them."""


@dataclass(frozen=True)
class Numbered:
    """A statement with ``$n`` parameters, and what each stands for.

    The text is ``pieces`` with ``$refs[i]`` between ``pieces[i]`` and ``pieces[i + 1]``.
    ``keys[n - 1]`` is the position (``int``) or name (``str``) in the driver's parameters
    of ``$n``; ``values`` the values in ``$n`` order. A placeholder inside a literal or a
    comment still takes its value, as the driver would, but no ``$n``: it is not code.
    """

    pieces: tuple[str, ...]
    refs: tuple[int, ...]
    keys: tuple[int | str, ...]
    values: tuple[Any, ...]

    @property
    def sql(self) -> str:
        return self.typed(())

    def typed(self, types: Sequence[str | None]) -> str:
        """The text with ``$n::type`` where ``types[n - 1]`` names a type. A cast on a
        parameter whose type the server still has to infer *declares* it (no cast is
        left in the plan), as the driver's declared type would."""
        out = [self.pieces[0]]
        for number, piece in zip(self.refs, self.pieces[1:], strict=True):
            cast = types[number - 1] if number <= len(types) else None
            out.append(f"${number}::{cast}" if cast else f"${number}")
            out.append(piece)
        return "".join(out)


def numbered(sql: str, params: Sequence[Any] | Mapping[str, Any] | None) -> Numbered:
    """``sql`` with its placeholders as ``$1..$n``.

    ``params`` None means the statement was sent without parameters: the driver then reads
    no placeholder (a ``%%`` stays two characters), and neither does this.
    """
    if params is None:
        return Numbered((sql,), (), (), ())
    named = isinstance(params, Mapping)
    out: list[str] = []
    pieces: list[str] = []
    refs: list[int] = []
    keys: list[int | str] = []
    taken = 0  # positional placeholders read so far, in code or not
    pos = 0
    while (match := _UNIT.search(sql, pos)) is not None:
        out.append(sql[pos : match.start()])
        pos = match.end()
        kind = match.lastgroup
        text = match.group()
        if kind == "block":
            pos = _block_end(sql, match.end())
            text = sql[match.start() : pos]
        elif kind == "dollar":
            close = sql.find(text, match.end())
            pos = len(sql) if close < 0 else close + len(text)
            text = sql[match.start() : pos]
        if kind != "percent":
            # Not code: keep it, with each placeholder's value taken and "%%" read as "%".
            taken += _skipped(text, named)
            out.append(text.replace("%%", "%"))
            continue
        if text == "%%":
            out.append("%")
            continue
        name, fmt = match.group("name"), match.group("fmt") or match.group("pfmt")
        if fmt not in _FORMATS:
            raise PlaceholderError(
                f"{text!r} at character {match.start() + 1} is not a placeholder the driver "
                "reads (%s, %(name)s; a literal percent is written %%)."
            )
        if (name is not None) != named:
            raise PlaceholderError(
                "The statement mixes positional and named placeholders, or its placeholders "
                "do not match its parameters (a sequence for %s, a mapping for %(name)s)."
            )
        key: int | str = name if name is not None else taken
        if name is None:
            taken += 1
        if key not in keys:
            keys.append(key)
        refs.append(keys.index(key) + 1)
        pieces.append("".join(out))
        out = []
    out.append(sql[pos:])
    pieces.append("".join(out))
    if not named and taken != len(params):
        raise PlaceholderError(
            f"The statement has {taken} placeholders and {len(params)} parameters."
        )
    try:
        values = tuple(params[key] for key in keys)  # type: ignore[index]
    except KeyError as exc:
        raise PlaceholderError(f"No parameter named {exc.args[0]!r}.") from None
    return Numbered(tuple(pieces), tuple(refs), tuple(keys), values)


def _block_end(sql: str, start: int) -> int:
    """The end of a /* comment */ that opened before ``start``: they nest in PostgreSQL."""
    depth, pos = 1, start
    while depth and pos < len(sql):
        pair = sql[pos : pos + 2]
        if pair == "/*":
            depth, pos = depth + 1, pos + 2
        elif pair == "*/":
            depth, pos = depth - 1, pos + 2
        else:
            pos += 1
    return pos


def _skipped(text: str, named: bool) -> int:
    """How many positional values the placeholders inside a literal or comment take."""
    if named:
        return 0
    return len(re.findall(r"%[sbt]", text.replace("%%", "")))
