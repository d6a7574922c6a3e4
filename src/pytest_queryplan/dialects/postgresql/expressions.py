"""Expressions as EXPLAIN and ``pg_get_indexdef`` print them, parsed into a small tree.

Owns reading PostgreSQL's deparsed expressions (a Filter such as ``((name)::text ~~
'a%'::text)``, an index key such as ``upper((name)::text) text_pattern_ops``) into
:class:`Expr`, and writing a tree back as SQL. Pure: stdlib only. What it does not model
(CASE, sub-plans) still parses, keeping the columns inside, so callers can refuse to guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pytest_queryplan.core.plan.tree import quote_identifier

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>[Ee]?'(?:[^']|'')*')
    | (?P<qid>"(?:[^"]|"")*")
    | (?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<param>\$\d+)
    | (?P<id>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<cast>::)
    | (?P<punct>[()\[\],.:])
    | (?P<op>[-+*/<>=~!@#%^&|`?]+)
    )""",
    re.VERBOSE,
)
# Words that continue a type name after its first word (character varying, double precision).
_TYPE_WORDS = frozenset({"varying", "precision", "with", "without", "time", "zone"})
_TEMPLATES = {
    **dict.fromkeys(("number", "param", "keyword"), "{t}"),
    "subplan": "({t})",
    "any": "{t} ({0})",
    "not": "(NOT {0})",
    "collate": "({0} COLLATE {t})",
}
# SQL value functions: printed without parentheses, constant within one statement.
_VALUE_FUNCTIONS = frozenset(
    "current_date current_time current_timestamp localtime localtimestamp current_user "
    "current_role session_user user current_catalog".split()
)


class ParseError(ValueError):
    """The text is not an expression this module can read."""


@dataclass(frozen=True)
class Expr:
    """``kind``: column literal number param keyword cast (``text``: the type) call op any
    not and or is (``text``: what follows IS) array row subscript collate field case subplan."""

    kind: str
    text: str = ""
    args: tuple[Expr, ...] = ()
    qualifier: str | None = None

    def walk(self) -> Iterator[Expr]:
        yield self
        for arg in self.args:
            yield from arg.walk()

    def columns(self) -> list[Expr]:
        return [node for node in self.walk() if node.kind == "column"]

    def unqualified(self) -> Expr:
        """The same tree with every column's qualifier dropped (for comparing keys)."""
        return Expr(self.kind, self.text, tuple(arg.unqualified() for arg in self.args))


def quote(name: str, always: bool = True) -> str:
    """An identifier as SQL: always quoted, or only where PostgreSQL's own output quotes it."""
    return '"' + name.replace('"', '""') + '"' if always else quote_identifier(name)


def to_sql(node: Expr, *, always_quote: bool = True) -> str:
    """Valid SQL for ``node``; with ``always_quote=False`` it reads like EXPLAIN's text."""

    def show(n: Expr) -> str:
        kind, args, shown = n.kind, n.args, [show(arg) for arg in n.args]
        if kind in _TEMPLATES:
            return _TEMPLATES[kind].format(*shown, t=n.text)
        if kind == "column":
            name = quote(n.text, always_quote)
            return f"{quote(n.qualifier, always_quote)}.{name}" if n.qualifier else name
        if kind == "literal":
            return "'" + n.text.replace("'", "''") + "'"
        if kind in ("cast", "field"):  # a literal or a sub-plan needs no parentheses
            inner = shown[0] if args[0].kind in ("literal", "subplan") else f"({shown[0]})"
            return f"{inner}::{n.text}" if kind == "cast" else f"{inner}.{n.text}"
        if kind == "call" and n.text in _VALUE_FUNCTIONS:
            return n.text
        if kind in ("call", "array", "row"):
            start, end = {"array": ("ARRAY[", "]"), "row": ("ROW(", ")")}.get(kind, ("(", ")"))
            return f"{n.text if kind == 'call' else ''}{start}{', '.join(shown)}{end}"
        if kind in ("op", "and", "or"):
            if len(shown) == 1:
                return f"({n.text} {shown[0]})"
            return "(" + f" {n.text or kind.upper()} ".join(shown) + ")"
        if kind == "is":
            return f"({shown[0]} IS {' '.join([n.text, *shown[1:]])})"
        if kind == "subscript":
            return f"({shown[0]})[{':'.join(shown[1:])}]"
        return "CASE " + " ".join(shown) + " END"  # kind == "case", keywords not kept

    return show(node)


def parse(text: str) -> Expr:
    """The whole of ``text`` as one expression."""
    node, rest = parse_prefix(text)
    if rest.strip():
        raise ParseError(f"unexpected {rest.strip()[:20]!r} in {text!r}")
    return node


def parse_prefix(text: str) -> tuple[Expr, str]:
    """The expression at the start of ``text`` and what follows it (an index key's opclass)."""
    parser = _Parser(text)
    node = parser.expr(0)
    return node, text[parser.offset :]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while text[pos:].strip():
            match = _TOKEN.match(text, pos)
            if match is None or match.lastgroup is None:
                raise ParseError(f"cannot read {text[pos:].strip()[:20]!r} in {text!r}")
            self.tokens.append((match.lastgroup, match.group(match.lastgroup), match.end()))
            pos = match.end()
        self.index = 0

    @property
    def offset(self) -> int:
        return self.tokens[self.index - 1][2] if self.index else 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        at = self.index + ahead
        return self.tokens[at][:2] if at < len(self.tokens) else ("end", "")

    def word(self, ahead: int = 0) -> str:
        kind, value = self.peek(ahead)
        return value.upper() if kind == "id" else ""

    def take(self, value: str | None = None) -> str:
        kind, got = self.peek()
        if kind == "end" or (value is not None and got.upper() != value):
            raise ParseError(f"expected {value or 'more'} at {got!r} in {self.text!r}")
        self.index += 1
        return got

    def expr(self, floor: int) -> Expr:
        left = self.unary()
        while True:
            kind, value = self.peek()
            word = self.word()
            if word == "OR" and floor < 1 or word == "AND" and floor < 2:
                self.take()
                right = self.expr(1 if word == "OR" else 2)
                parts = left.args if left.kind == word.lower() else (left,)
                left = Expr(word.lower(), args=(*parts, right))
            elif word == "IS" and floor < 4:
                left = self.is_test(left)
            elif kind == "op" and floor < 5:
                op = self.take()
                left = Expr("op", op, (left, self.expr(5)))
            elif word == "OPERATOR" and floor < 5:
                op = self.take() + self.through(")")
                left = Expr("op", op, (left, self.expr(5)))
            else:
                return left

    def is_test(self, left: Expr) -> Expr:
        self.take("IS")
        words = [self.take().upper()]
        if words[0] == "NOT":
            words.append(self.take().upper())
        if words[-1] == "DISTINCT":
            words.append(self.take("FROM").upper())
            return Expr("is", " ".join(words), (left, self.expr(5)))
        return Expr("is", " ".join(words), (left,))

    def unary(self) -> Expr:
        kind, value = self.peek()
        if self.word() == "NOT" and self.take():
            return Expr("not", args=(self.expr(3),))
        if kind == "op" and self.take():
            return Expr("op", value, (self.expr(6),))
        return self.postfix(self.primary())

    def postfix(self, node: Expr) -> Expr:
        while True:
            kind, value = self.peek()
            if kind == "cast" and self.take():
                node = Expr("cast", self.type_name(), (node,))
            elif value == "[" and self.take():
                parts = [self.expr(0)]
                while self.peek()[1] == ":" and self.take():
                    parts.append(self.expr(0))
                self.take("]")
                node = Expr("subscript", args=(node, *parts))
            elif self.word() == "COLLATE" and self.take():
                node = Expr("collate", self.take(), (node,))
            elif self.word() == "AT" and self.word(1) == "TIME":
                self.take(), self.take(), self.take("ZONE")
                node = Expr("call", "timezone", (self.expr(6), node))
            elif value == "." and node.kind in ("subplan", "field", "row") and self.take():
                node = Expr("field", self.take(), (node,))
            else:
                return node

    def type_name(self) -> str:
        parts = [self.take()]
        while True:
            if self.peek()[1] == "." and self.take():
                parts[-1] += "." + self.take()
            elif self.word().lower() in _TYPE_WORDS:
                parts.append(self.take())
            elif self.peek()[1] == "(" and self.peek(1)[0] == "num":
                parts[-1] += self.through(")")
            elif self.peek()[1] == "[" and self.peek(1)[1] == "]":
                self.take(), self.take()
                parts[-1] += "[]"
            else:
                return " ".join(parts)

    def through(self, close: str) -> str:
        """Tokens up to ``close``, as text: a typmod ``(10,2)``, an ``OPERATOR(s.=)`` name."""
        text = ""
        while not text.endswith(close):
            text += self.take()
        return text

    def items(self, close: str) -> tuple[Expr, ...]:
        found: list[Expr] = []
        while self.peek()[1] != close:
            found.append(self.expr(0))
            if self.peek()[1] == ",":
                self.take()
            elif self.peek()[1] != close:
                # EXTRACT(year FROM x), SUBSTRING(a FROM b): keep the operands, drop the words.
                if self.peek()[0] != "id":
                    raise ParseError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
                self.take()
        self.take(close)
        return tuple(found)

    def grouped(self) -> Expr:
        inner = self.items(")")
        return inner[0] if len(inner) == 1 else Expr("row", args=inner)

    def primary(self) -> Expr:
        kind, value = self.peek()
        word = self.word()
        self.take()
        if kind == "str":
            body = value[2:-1] if value[0] in "Ee" else value[1:-1]
            return Expr("literal", body.replace("''", "'"))
        if kind in ("num", "param"):
            return Expr("number" if kind == "num" else "param", value)
        if value == "(":
            return self.grouped()
        if word in ("NULL", "TRUE", "FALSE"):
            return Expr("keyword", word)
        if word in ("ANY", "ALL", "SOME") and self.peek()[1] == "(" and self.take():
            return Expr("any", word, (self.grouped(),))
        if word in ("SUBPLAN", "INITPLAN", "HASHED"):
            words = [value]
            while self.peek()[0] == "num" or self.word() in ("SUBPLAN", "INITPLAN"):
                words.append(self.take())
            return Expr("subplan", " ".join(words))
        if word == "ARRAY" and self.peek()[1] in ("[", "("):
            close = "]" if self.take() == "[" else ")"
            return Expr("array", args=self.items(close))
        if word == "CASE":
            parts: list[Expr] = []
            while self.word() != "END":
                if self.word() in ("WHEN", "THEN", "ELSE"):
                    self.take()
                parts.append(self.expr(0))
            self.take("END")
            return Expr("case", args=tuple(parts))
        if word.lower() in _VALUE_FUNCTIONS and kind == "id":
            return Expr("call", value.lower())
        if kind in ("id", "qid"):
            name = value[1:-1].replace('""', '"') if kind == "qid" else value
            if self.peek()[1] == "(" and self.take():
                return Expr("row" if word == "ROW" else "call", value, self.items(")"))
            if self.peek()[1] == "." and self.peek(1)[0] in ("id", "qid") and self.take():
                column = self.primary()
                return Expr("column", column.text, qualifier=name)
            return Expr("column", name)
        raise ParseError(f"unexpected {value!r} in {self.text!r}")
