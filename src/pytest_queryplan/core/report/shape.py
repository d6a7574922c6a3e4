"""Shapes: a statement or a plan condition with its values taken out, and a finding's id.

A finding's identity must not depend on the values a test happened to use, or two runs (a
serial one and ``-n 2``, today's and tomorrow's) would report different findings. So every
literal and parameter placeholder becomes ``?``, value lists collapse to one item,
comments go and whitespace shrinks to single spaces; identifiers, keywords, operators and
casts stay as written. Pure: stdlib only. A shape is a shape's own shape, so a stored
shape can be passed wherever SQL is expected.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import NamedTuple

#: What every value becomes.
VALUE = "?"

# One alternative per token kind, tried in this order at each position. ``plain`` is a run
# of what a shape keeps as it is (names, quoted names, most operators), matched as one
# token because statements are mostly that: it makes shaping a Django query several times
# cheaper. Brackets and commas stay single tokens, since lists are collapsed by them.
_TOKEN = re.compile(
    r"""
    (?P<plain>(?:
        "(?:[^"]|"")*(?:"|\Z)                  # a quoted name
      | (?![eEbBxXnN]'|[uU]&')[^\W\d]\w*(?:\$\w*)*  # a name or keyword (not E'...')
      | [.=<>!|&*+~^@#;:]
    )+)
  | (?P<ws>\s+)
  | (?P<bracket>[(),\[\]])
  | (?P<value>
        [eE]'(?:[^'\\]|\\.|'')*(?:'|\Z)          # E'...' escape string
      | (?:[bBxXnN]|[uU]&)?'(?:[^']|'')*(?:'|\Z)  # '...', B'..', X'..', N'..', U&'..'
      | \$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z)  # $$...$$, $tag$...$tag$
      | %\(\w+\)s|%s|\$\d+|\?              # placeholders (and shapes' own ?)
    )
  | (?P<number>
        0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+
      | (?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?
    )
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<other>%%|.)                            # %% is a literal % in DB-API SQL
    """,
    re.VERBOSE | re.DOTALL,
)
_LAST_WORD = re.compile(r"\w+$")
#: Operators whose right-hand string is a pattern (SQL's words and EXPLAIN's ~~).
_LIKES = {"LIKE", "ILIKE", "~~", "~~*", "!~~", "!~~*"}
_PATTERN = re.compile(r"^(?P<prefix>[eE]?)'(?P<body>(?:[^']|'')*)'$", re.DOTALL)
_LITERAL_RUN = re.compile(r"(?:[^%_\\]|\\.)+")


def _pattern_shape(text: str) -> str:
    """A LIKE pattern literal with each run of literal characters as ``?``: ``'%'`` stays
    ``'%'``, ``'abc%'`` is ``'?%'``, ``'%abc%'`` is ``'%?%'``. A placeholder stays ``?``."""
    match = _PATTERN.match(text)
    if match is None:
        return VALUE
    return "'" + _LITERAL_RUN.sub(VALUE, match.group("body")) + "'"


# Words before a bracket whose contents are a list of values (collapsed to one item).
_LISTS = {"IN", "ANY", "ALL", "SOME", "ARRAY"}
# EXPLAIN numbers its InitPlans and SubPlans: structure, not values.
_NUMBERED = {"INITPLAN", "SUBPLAN"}
_CLOSE = {"(": ")", "[": "]"}
# A token ending in one of these ends an operand: a minus after it subtracts.
_OPERAND_END = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_\"')]?")


class _Tok(NamedTuple):
    kind: str  # plain, bracket, value, other
    text: str
    space: bool  # whitespace (or a comment) stood before it


def _last_word(tok: _Tok) -> str:
    match = _LAST_WORD.search(tok.text)
    return match.group(0).upper() if match else ""


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    space = False
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "ws" or kind == "comment":
            space = True
            continue
        if kind == "number":
            last = out[-1] if out else None
            if last and last.kind == "plain" and _last_word(last) in _NUMBERED:
                out.append(_Tok("plain", match.group(0), space))
                space = False
                continue
            # A minus right before a number is its sign when no operand precedes it.
            if last and last.text == "-" and not space:
                if len(out) == 1 or out[-2].text[-1] not in _OPERAND_END:
                    space = out.pop().space
            kind = "value"
        if kind == "value" and out and out[-1].text.upper() in _LIKES:
            # A pattern keeps its wildcards: LIKE '%' (every row) and '%x%' (no index can
            # search it) are other findings than a prefix's LIKE '?%'.
            out.append(_Tok("value", _pattern_shape(match.group(0)), space))
        elif kind == "value":
            out.append(_Tok("value", VALUE, space))
        else:
            out.append(_Tok(kind or "other", match.group(0), space))
        space = False
    return out


def _render(tokens: Sequence[_Tok]) -> str:
    return "".join((" " if tok.space else "") + tok.text for tok in tokens).strip()


def _close(tokens: Sequence[_Tok], start: int) -> int:
    """Index of the bracket closing the one at ``start`` (the end if it is never closed)."""
    depth = 0
    for i in range(start, len(tokens)):
        text = tokens[i].text
        if tokens[i].kind == "bracket" and text in "([":
            depth += 1
        elif tokens[i].kind == "bracket" and text in ")]":
            depth -= 1
            if depth == 0:
                return i
    return len(tokens)


def _items(tokens: Sequence[_Tok]) -> list[list[_Tok]]:
    """``tokens`` split at its top-level commas."""
    items: list[list[_Tok]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "bracket" and tok.text in "([":
            depth += 1
        elif tok.kind == "bracket" and tok.text in ")]":
            depth -= 1
        if depth == 0 and tok.kind == "bracket" and tok.text == ",":
            items.append([])
        else:
            items[-1].append(tok)
    return items


def _same(a: Sequence[_Tok], b: Sequence[_Tok]) -> bool:
    return [t[:2] for t in a] == [t[:2] for t in b]


def _dedupe(items: list[list[_Tok]]) -> list[list[_Tok]]:
    """Runs of equal consecutive items kept once: ``?, ?, ?`` is ``?``."""
    kept: list[list[_Tok]] = []
    for item in items:
        if not kept or not _same(kept[-1], item):
            kept.append(item)
    return kept


def _join(items: list[list[_Tok]]) -> list[_Tok]:
    out: list[_Tok] = []
    for n, item in enumerate(items):
        if n:
            out.append(_Tok("bracket", ",", False))
        out += item
    return out


def _collapse(tokens: Sequence[_Tok]) -> list[_Tok]:
    """Value lists after IN/ANY/ALL/ARRAY and repeated VALUES rows, kept once."""
    out: list[_Tok] = []
    row: list[_Tok] | None = None  # the last VALUES row, while more rows may follow
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "bracket" and tok.text in _CLOSE:
            end = _close(tokens, i)
            inner = _collapse(tokens[i + 1 : end])
            before = "" if not out else "," if out[-1].text == "," else _last_word(out[-1])
            if before in _LISTS:
                inner = _join(_dedupe(_items(inner)))
            group = [tok, *inner, *tokens[end : end + 1]]
            i = end + 1
            if before == "VALUES":
                row = group
            elif row is not None and before == ",":
                if _same(row, group):
                    out.pop()  # the comma before a repeated row
                    continue
                row = group
            else:
                row = None
            out += group
            continue
        if not (tok.kind == "bracket" and tok.text == ","):
            row = None
        out.append(tok)
        i += 1
    return out


def sql_shape(sql: str) -> str:
    """``sql`` with its values out: ``... WHERE "t"."id" IN (?) LIMIT ?``.

    Literals (strings, numbers, dollar-quoted text) and placeholders (``%s``,
    ``%(name)s``, ``$1``) become ``?``; lists after ``IN``/``ANY``/``ALL``/``ARRAY`` and
    repeated ``VALUES`` rows are kept once; comments go; whitespace runs become one space.
    """
    return _render(_collapse(_tokens(sql)))


def filter_shape(text: str) -> str:
    """An EXPLAIN condition with its values out: ``((name)::text = ?::text)``.

    The same rules as :func:`sql_shape`; EXPLAIN's ``InitPlan 1``/``SubPlan 2`` numbers
    name plan parts, so they stay.
    """
    return _render(_collapse(_tokens(text)))


def finding_key(kind: str, table: str, sql: str, filter: str = "") -> str:
    """A short id of a finding that stays the same across runs, values and processes.

    Made of the check's kind, the table, and the shapes of the SQL and of the condition;
    ``sql`` and ``filter`` may be given as text or as shapes already.
    """
    identity = "\x1f".join((kind, table, sql_shape(sql), filter_shape(filter)))
    return hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()
