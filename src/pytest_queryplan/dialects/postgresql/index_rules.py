"""Which index could serve one condition of a Filter, and whether an existing one already does.

Owns the rules behind suggestions: the key a condition needs (a column, or upper()/lower()
of one), the access method and operator class by operator and column type, or why no index
serves it; choosing one index's keys; matching existing indexes' keys. Pure: stdlib only.
Operators per PostgreSQL's "Built-in Operator Classes" tables (and ltree's, hstore's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.dialects.postgresql.expressions import Expr, ParseError, parse_prefix, to_sql

_PATTERN_OPS = {
    "text": "text_pattern_ops",
    "character varying": "varchar_pattern_ops",
    "character": "bpchar_pattern_ops",
}
_TEXT_TYPES = frozenset({*_PATTERN_OPS, "varchar", "char", "bpchar"})
_GIST = ("gist", None)
_LTREE = {op: _GIST for op in ("@>", "<@", "~", "?", "@")}
_SPECIAL: dict[str, dict[str, tuple[str, str | None]]] = {
    "jsonb": {op: ("gin", None) for op in ("@>", "?", "?|", "?&", "@?", "@@")},
    "hstore": {op: ("gin", None) for op in ("@>", "?", "?|", "?&")},
    "array": {op: ("gin", None) for op in ("@>", "<@", "&&")},
    "tsvector": {op: ("gin", None) for op in ("@@", "@@@")},
    "range": {op: _GIST for op in ("@>", "<@", "&&", "<<", ">>", "&<", "&>", "-|-")},
    "geometry": {op: _GIST for op in ("@>", "<@", "&&", "<<", ">>", "&<", "&>", "~=", "<<|")},
    "ltree": _LTREE,
    "ltree[]": _LTREE,
    # inet's GiST operator class is not the type's default: it must be named.
    "inet": {op: ("gist", "inet_ops") for op in ("<<", "<<=", ">>", ">>=", "&&")},
}
_SPECIAL_OPS = frozenset(op for ops in _SPECIAL.values() for op in ops)
_FAMILY_OF = {
    **{name: name for name in ("jsonb", "hstore", "tsvector", "ltree", "ltree[]", "inet")},
    **{"lquery": "ltree", "ltxtquery": "ltree", "tsquery": "tsvector", "cidr": "inet"},
    **dict.fromkeys(_TEXT_TYPES, "text"),
    **dict.fromkeys(("point", "box", "polygon", "circle", "lseg", "path", "geometry"), "geometry"),
}
_IS_ROLES = {"NULL": "eq", "TRUE": "eq", "FALSE": "eq", "NOT NULL": "range"}
_COMMUTE = {"=": "=", "<": ">", ">": "<", "<=": ">=", ">=": "<=", "@>": "<@", "<@": "@>"}
_VOLATILE = frozenset({"random", "clock_timestamp", "timeofday", "nextval", "gen_random_uuid"})
_PATTERN_MATCH = frozenset({"~~", "~", "~~*", "~*", "!~~", "!~~*", "!~", "!~*"})
_NOT_SERVED = {
    **dict.fromkeys(("<>", "!="), "not-equal"),
    **dict.fromkeys(("~~*", "~*"), "case-insensitive-pattern"),
    **dict.fromkeys(("!~~", "!~~*", "!~", "!~*"), "negated-pattern"),
}

#: Why no index is suggested: (reason kind, the condition as EXPLAIN shows it).
Refusal = tuple[str, str]


@dataclass(frozen=True)
class Use:
    """One condition an index key can serve."""

    key: Expr  # an unqualified column, or upper()/lower() of one
    role: str  # eq | range | pattern | special (GIN or GiST)
    method: str
    opclass: str | None = None
    operator: str = ""


class ExistingKey(NamedTuple):
    expr: Expr | None
    opclass: str | None
    collation: str | None


def family(type_name: str | None) -> str | None:
    """The kind of type that decides the index method: text, jsonb, array, range, ..."""
    if not type_name:
        return None
    base = _base(type_name)
    if base in _FAMILY_OF:
        return _FAMILY_OF[base]
    if base.endswith("[]"):
        return "array"
    return "range" if base.endswith("range") else "other"  # multiranges too


def _base(type_name: str) -> str:
    """``character varying(255)`` -> ``character varying``; ``public.ltree`` -> ``ltree``."""
    base = re.sub(r"\([^)]*\)", "", type_name).replace('"', "").lower()
    return " ".join(base.split()).rsplit(".", 1)[-1]


def like_prefix(pattern: str) -> str:
    """The fixed start of a LIKE pattern (a backslash escapes a wildcard)."""
    fixed = re.match(r"(?:\\.|[^\\%_])*", pattern)
    return re.sub(r"\\(.)", r"\1", fixed.group(0) if fixed else "")


class Reader:
    """Reads the conditions of one scan's Filter on ``table`` (seen as ``alias``)."""

    def __init__(self, table: str, alias: str | None, column_types: Mapping[str, str]) -> None:
        # Another name is another row: an outer query's reference, or the same table twice.
        self.own = {alias or table}
        self.types = column_types

    def is_own(self, column: Expr) -> bool:
        return column.qualifier is None or column.qualifier in self.own

    def own_columns(self, node: Expr) -> list[Expr]:
        return [column for column in node.columns() if self.is_own(column)]

    def key_of(self, node: Expr) -> Expr | None:
        """The index key ``node`` reads: an own column (through a cast between text types,
        which an index on the column serves), or ``upper()``/``lower()`` of one."""
        if node.kind == "column" and self.is_own(node):
            return node.unqualified()
        if node.kind == "cast" and node.args[0].kind == "column" and self.is_own(node.args[0]):
            if family(node.text) == "text" and self.family(node.args[0]) in ("text", None):
                return node.args[0].unqualified()
        if node.kind == "call" and node.text.lower() in ("upper", "lower") and node.args:
            inner = node.args[0]
            if self.key_of(inner) is not None and inner.kind in ("column", "cast"):
                return node.unqualified()
        return None

    def family(self, key: Expr) -> str | None:
        return "text" if key.kind == "call" else family(self.types.get(key.text))

    def classify(self, node: Expr) -> Use | Refusal:
        shown = to_sql(node, always_quote=False)
        if node.kind == "any" and node.args[0].kind == "op":  # PostgreSQL 18: ANY (x = ...)
            return self.classify(node.args[0])
        if node.kind == "or":
            return self.either(node, shown)
        if _has(node, "subplan", "SubPlan"):  # InitPlans run once: their values are fine
            return ("subquery", shown)
        boolean = node.args[0] if node.kind == "not" else node
        if boolean.kind == "column":  # a boolean column, or NOT one: col = true / false
            if not self.is_own(boolean):
                return ("no-column", shown)
            return Use(boolean.unqualified(), "eq", "btree", operator="boolean")
        if node.kind == "is":
            key, role = self.key_of(node.args[0]), _IS_ROLES.get(node.text)
            if key is None or role is None:
                return self.refuse(node, shown) if key is None else ("not-indexable", shown)
            return Use(key, role, "btree", operator=f"IS {node.text}")
        if node.kind == "op" and len(node.args) == 2:
            return self.comparison(node, shown)
        return self.refuse(node, shown)

    def either(self, node: Expr, shown: str) -> Use | Refusal:
        """An OR: one index serves it when every branch searches the same key the same way
        (a BitmapOr of one index: four ``path <@ ...`` on one GiST); an OR of sub-plans is
        a UNION's to split; any other OR needs an index per branch."""
        branches = [self.classify(branch) for branch in node.args]
        uses = [b for b in branches if isinstance(b, Use)]
        if uses and len(uses) == len(branches):
            ways = {(to_sql(u.key), u.method, u.opclass) for u in uses}
            if len(ways) == 1 and all(u.operator != "boolean" for u in uses):
                first = uses[0]
                role = first.role if len({u.role for u in uses}) == 1 else "range"
                return Use(first.key, role, first.method, first.opclass, "OR")
        if all(isinstance(b, tuple) and b[0] == "subquery" for b in branches):
            return ("or-subqueries", shown)
        return ("or-condition", shown)

    def refuse(self, node: Expr, shown: str) -> Refusal:
        return ("expression" if self.own_columns(node) else "no-column", shown)

    def comparison(self, node: Expr, shown: str) -> Use | Refusal:
        op, (left, value) = node.text, node.args
        quantifier = value.text if value.kind == "any" else None
        value = value.args[0] if quantifier else value
        key = self.key_of(left)
        if key is None and quantifier is None and op in _COMMUTE:  # 5 < col: col > 5
            key, left, value, op = self.key_of(value), value, left, _COMMUTE[op]
        if key is None:
            return self.refuse(node, shown)
        pattern = op in _PATTERN_MATCH
        if self.own_columns(value):
            return ("pattern-from-row" if pattern else "column-comparison", shown)
        if pattern and value.columns():
            return ("pattern-from-row", shown)
        if any(n.kind == "call" and n.text.lower() in _VOLATILE for n in value.walk()):
            return ("volatile", shown)
        kind = self.family(key) or _value_family(value, op)
        if op in _NOT_SERVED:
            return (_NOT_SERVED[op], shown)
        if quantifier not in (None, "ANY", "SOME"):
            return ("not-equal" if op in ("<>", "!=") else "not-indexable", shown)
        if op == "=":
            return Use(key, "eq", "btree", operator=op)
        if quantifier is None and op in ("<", "<=", ">", ">="):
            return Use(key, "range", "btree", operator=op)
        if quantifier is None and op in ("~~", "~") and kind == "text":
            return self.pattern(key, op, left, value, shown)
        method = _SPECIAL.get(kind or "", {}).get(op)
        if method is not None and quantifier is None:
            return Use(key, "special", method[0], method[1], op)
        return ("unknown-type" if kind is None and op in _SPECIAL_OPS else "not-indexable", shown)

    def pattern(self, key: Expr, op: str, left: Expr, value: Expr, shown: str) -> Use | Refusal:
        literal = value.args[0] if value.kind == "cast" else value
        if literal.kind != "literal":
            return ("pattern-unknown", shown)
        if op == "~":
            text = literal.text
            if not (text.startswith("^") and text[1:2] and text[1] not in ".[]()*+?{}|$^\\"):
                return ("unanchored-regex", shown)
        elif not like_prefix(literal.text):
            return ("leading-wildcard", shown)
        if key.kind == "call":
            opclass = _PATTERN_OPS["text"]
        elif key.text in self.types:
            opclass = _PATTERN_OPS.get(_base(self.types[key.text]), _PATTERN_OPS["text"])
        else:  # type unknown: a relabel to text in the filter means varchar, none means text
            opclass = _PATTERN_OPS["character varying" if left.kind == "cast" else "text"]
        return Use(key, "pattern", "btree", opclass, op)


def _has(node: Expr, kind: str, text: str = "") -> bool:
    return any(n.kind == kind and text in n.text for n in node.walk())


def _value_family(value: Expr, op: str) -> str | None:
    """With the column's type unknown, the type the compared value was cast to."""
    if op in ("?", "?|", "?&"):
        return "jsonb"
    casts = [n.text for n in value.walk() if n.kind == "cast"]
    return family(casts[0]) if casts else None


def choose(uses: Sequence[Use], limit: int) -> tuple[str, list[Use]]:
    """One index's method and keys: equality keys first, then ranges; else GIN/GiST."""
    equal = [use for use in uses if use.role == "eq"]
    ranges = [use for use in uses if use.role in ("range", "pattern")]
    special = [use for use in uses if use.role == "special"]
    if equal or not special:
        method = "btree"
        # IS NOT NULL narrows least: it goes last.
        picked = equal + sorted(ranges, key=lambda use: use.operator == "IS NOT NULL")
    else:
        method = special[0].method
        picked = [use for use in special if use.method == method]
    first = {use.key: use for use in reversed(picked)}  # one use per key, the first one
    return method, [use for use in picked if first[use.key] is use][:limit]


def existing_keys(info: IndexInfo) -> list[ExistingKey]:
    """An index's keys from its definition: expression, operator class, collation."""
    found = []
    for item in info.keys:
        try:
            expr, rest = parse_prefix(item)
        except ParseError:
            found.append(ExistingKey(None, None, None))
            continue
        collation = None
        while expr.kind == "collate":
            collation, expr = expr.text.strip('"'), expr.args[0]
        word = (rest.split() or [""])[0]
        opclass = word if word and word.upper() not in ("ASC", "DESC", "NULLS") else None
        found.append(ExistingKey(expr.unqualified(), opclass, collation))
    return found


def fits(use: Use, key: ExistingKey, method: str) -> bool:
    """Whether an index key (of an index using ``method``) serves ``use``."""
    if key.expr != use.key:
        return False
    if use.role == "special":
        path_ops = key.opclass == "jsonb_path_ops" and use.operator in ("@>", "@?", "@@")
        return method == use.method and (key.opclass in (None, use.opclass) or path_ops)
    if use.role == "eq":
        return method in ("btree", "hash")
    if use.role == "pattern":
        exact = key.collation in ("C", "POSIX")
        return method == "btree" and (key.opclass in _PATTERN_OPS.values() or exact)
    return method == "btree" and key.opclass is None and key.collation is None


def served_by(
    uses: Sequence[Use], chosen: Sequence[Use], method: str, existing: Sequence[IndexInfo]
) -> str | None:
    """Which existing full index already serves the filter, said as a fact; else None."""
    equal = {use.key for use in uses if use.operator == "="}
    count = sum(use.role == "eq" for use in chosen)
    full = [info for info in existing if not info.predicate]  # a partial one serves fewer
    for info in full:
        keys = existing_keys(info)
        if info.unique and info.method == "btree" and keys and all(k.expr in equal for k in keys):
            return f"{info.shown} is unique, so at most one row has these values"
    for info in full:
        keys = existing_keys(info)
        if method != "btree":
            covered = all(any(fits(use, k, info.method) for k in keys) for use in chosen)
        else:  # equality keys in any order, then the range keys in order
            covered = len(keys) >= len(chosen)
            covered &= all(
                any(fits(u, k, info.method) for k in keys[:count]) for u in chosen[:count]
            )
            pairs = zip(chosen[count:], keys[count:], strict=False)
            covered &= all(fits(use, k, info.method) for use, k in pairs)
        if covered:
            return f"{info.shown} already has these keys"
    return None
