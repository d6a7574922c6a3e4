"""Small, stdlib-only reading of SQL text shared by the MariaDB and SQLite normalisers.

What the plans do not say and the statement does: which table an alias names (both
vendors print the alias), whether the top level has a LIMIT (neither prints it), and, for
SQLite, which WHERE / ON conditions touch which alias (SQLite prints no conditions).

This is a tokenizer plus a few scans, not a parser. It is written for Django's SQL
(every column qualified, identifiers quoted with "..." or `...`) and plain hand-written
SQL; anything it cannot attribute is left out rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

_TOKEN_TEMPLATE = r"""\s+|(?P<str>'(?:STRBODY)*')|(?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    |(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<param>\?\d*|%s|%\(\w+\)s|:\w+|\$\d+)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_$]*)|(?P<punct>[(),.;])|(?P<op>[-+*/<>=~!@#%^&|]+)|(?P<other>.)"""
# Standard SQL strings ('' doubles a quote), and MySQL/MariaDB ones (a backslash escapes).
_TOKEN = re.compile(_TOKEN_TEMPLATE.replace("STRBODY", r"[^']|''"), re.VERBOSE)
_TOKEN_BACKSLASH = re.compile(_TOKEN_TEMPLATE.replace("STRBODY", r"[^'\\]|''|\\."), re.VERBOSE)

Token = tuple[str, str]  # (kind, text)

# Words after which a FROM-list item ends; also words that can never be an alias.
_CLAUSE_WORDS = frozenset(
    """WHERE GROUP ORDER HAVING LIMIT OFFSET UNION INTERSECT EXCEPT WINDOW JOIN INNER LEFT
    RIGHT FULL OUTER CROSS NATURAL ON USING SET VALUES RETURNING FOR LOCK FORCE IGNORE USE
    INDEXED NOT STRAIGHT_JOIN PARTITION AS SELECT FROM INTO WITH LATERAL FETCH""".split()
)
_COND_END = frozenset(
    """GROUP ORDER HAVING LIMIT OFFSET UNION INTERSECT EXCEPT WINDOW JOIN INNER LEFT RIGHT
    FULL CROSS NATURAL WHERE ON RETURNING FOR""".split()
)


def tokenize(sql: str, backslash: bool = False) -> list[Token]:
    """Tokens of ``sql``; ``backslash``: strings use MySQL's backslash escapes."""
    pattern = _TOKEN_BACKSLASH if backslash else _TOKEN
    return [(m.lastgroup or "", m.group()) for m in pattern.finditer(sql) if m.lastgroup]


def spans(sql: str, backslash: bool = False) -> list[tuple[str, str, int, int]]:
    """Tokens of ``sql`` with where each ends: (kind, text, start, end)."""
    pattern = _TOKEN_BACKSLASH if backslash else _TOKEN
    return [
        (m.lastgroup or "", m.group(), m.start(), m.end())
        for m in pattern.finditer(sql)
        if m.lastgroup
    ]


def unquote(token: Token) -> str:
    kind, text = token
    if kind == "qid":
        if text[0] == "[":
            return text[1:-1]
        q = text[0]
        return text[1:-1].replace(q + q, q)
    return text


def _is_name(token: Token) -> bool:
    return token[0] == "qid" or (token[0] == "ident" and token[1].upper() not in _CLAUSE_WORDS)


def _upper(token: Token) -> str:
    return token[1].upper() if token[0] == "ident" else ""


def aliases(sql: str) -> dict[str, str | None]:
    """Alias (or bare table name) -> table, for every table reference in ``sql``.

    An alias bound to two different tables (Django reuses ``U0`` in sibling subqueries)
    maps to None: ambiguous. A derived table ``(SELECT ...) x`` or CTE reference is not
    listed when it has no table behind it.
    """
    tokens = tokenize(sql)
    found: dict[str, str | None] = {}

    def bind(alias: str, table: str) -> None:
        if alias in found and found[alias] != table:
            found[alias] = None
        else:
            found[alias] = table

    i, n = 0, len(tokens)
    in_from = False
    while i < n:
        word = _upper(tokens[i])
        starts_item = word in ("FROM", "JOIN", "UPDATE", "INTO") or (
            in_from and tokens[i][1] == ","
        )
        if word in ("FROM", "JOIN", "UPDATE", "INTO"):
            in_from = True
        elif word in _COND_END or word == "SELECT" or tokens[i][1] == ")":
            in_from = False
        if starts_item and i + 1 < n and _is_name(tokens[i + 1]):
            j = i + 1
            name = unquote(tokens[j])
            # schema.table
            while j + 2 < n and tokens[j + 1][1] == "." and _is_name(tokens[j + 2]):
                j += 2
                name = unquote(tokens[j])
            table = name
            alias = table
            k = j + 1
            if k < n and _upper(tokens[k]) == "AS":
                k += 1
            if k < n and _is_name(tokens[k]) and not (k + 1 < n and tokens[k + 1][1] == "("):
                alias = unquote(tokens[k])
            bind(alias, table)
            if alias != table:
                # the bare name cannot be used to refer to the table any more, but a plan
                # never prints it either; keep it mapped to itself when free.
                found.setdefault(table, table)
            i = j + 1
            continue
        i += 1
    return found


def has_top_level_limit(sql: str) -> bool:
    """Whether the outermost statement has LIMIT (or FETCH FIRST) outside any brackets."""
    depth = 0
    tokens = tokenize(sql)
    for kind, text in tokens:
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif depth == 0 and kind == "ident" and text.upper() in ("LIMIT", "FETCH"):
            return True
    return False


def split_top(tokens: list[Token], word: str) -> list[list[Token]]:
    """Split ``tokens`` on ``word`` (AND / OR) outside brackets; BETWEEN x AND y kept whole."""
    parts: list[list[Token]] = [[]]
    depth = 0
    between = 0
    for token in tokens:
        text = token[1]
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        up = _upper(token)
        if depth == 0 and up == "BETWEEN":
            between += 1
        if depth == 0 and up == word:
            if word == "AND" and between:
                between -= 1
            else:
                parts.append([])
                continue
        parts[-1].append(token)
    return [p for p in parts if p]


def strip_parens(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and tokens[0][1] == "(" and tokens[-1][1] == ")":
        depth = 0
        for i, (_, text) in enumerate(tokens):
            depth += text == "("
            depth -= text == ")"
            if depth == 0 and i < len(tokens) - 1:
                return tokens
        tokens = tokens[1:-1]
    return tokens


def flatten_and(tokens: list[Token]) -> list[list[Token]]:
    out = []
    for part in split_top(strip_parens(tokens), "AND"):
        part = strip_parens(part)
        sub = split_top(part, "AND")
        out.extend([part] if len(sub) == 1 else flatten_and(part))
    return out


def render(tokens: Iterable[Token]) -> str:
    """Tokens back to text, names unquoted when plain, spaced like EXPLAIN prints."""
    out: list[str] = []
    prev = ""
    prev_kind = ""
    unary = False
    for kind, text in tokens:
        if kind == "qid":
            name = unquote((kind, text))
            text = (
                name
                if re.fullmatch(r"[a-z_][a-z0-9_$]*", name)
                else '"' + name.replace('"', '""') + '"'
            )
        if kind == "param":
            text = "?"
        glue = "" if (not out or prev in ("(", ".") or text in (")", ",", ".")) else " "
        if unary and kind in ("num", "ident", "qid", "param"):
            glue = ""
        unary = (
            kind == "op"
            and text in ("-", "+")
            and (prev_kind in ("op", "") or prev in ("(", ",") or prev.upper() in _KEYWORDS)
        )
        if text == "(" and prev and (re.fullmatch(r"[A-Za-z_]\w*", prev)):
            glue = ""
            if prev.upper() in ("AND", "OR", "NOT", "IN", "EXISTS", "ON", "WHERE"):
                glue = " "
        out.append(glue + text)
        prev, prev_kind = text, kind
    return "".join(out)


def outside_subqueries(tokens: list[Token]) -> Iterator[int]:
    """Indexes of the tokens outside every nested SELECT (or WITH), brackets themselves
    left out: what a statement's own conditions are made of."""
    nested: list[bool] = []
    skip = 0
    for i, token in enumerate(tokens):
        if token[1] == "(":
            inner = i + 1 < len(tokens) and _upper(tokens[i + 1]) in ("SELECT", "WITH")
            nested.append(inner)
            skip += inner
        elif token[1] == ")":
            if nested and nested.pop():
                skip -= 1
        elif not skip:
            yield i


def referenced_aliases(tokens: list[Token]) -> set[str]:
    """Names used as ``name.column`` in ``tokens``, outside nested SELECTs."""
    found: set[str] = set()
    for i in outside_subqueries(tokens):
        token = tokens[i]
        if (
            _is_name(token)
            and i + 2 < len(tokens)
            and tokens[i + 1][1] == "."
            and _is_name(tokens[i + 2])
            and not (i >= 2 and tokens[i - 1][1] == ".")
        ):
            # schema.table.column: the alias is the part before the column
            if i + 4 < len(tokens) and tokens[i + 3][1] == "." and _is_name(tokens[i + 4]):
                continue
            found.add(unquote(token))
    return found


def referenced_columns(tokens: list[Token], alias: str | None) -> set[str]:
    """Columns named in ``tokens``: ``alias.col`` ones, and unqualified names (which the
    caller attributes to the only table in scope)."""
    cols: set[str] = set()
    for i in outside_subqueries(tokens):
        token = tokens[i]
        if not _is_name(token):
            continue
        if i + 1 < len(tokens) and tokens[i + 1][1] in (".", "("):
            continue  # a qualifier or a function name
        if i >= 2 and tokens[i - 1][1] == ".":
            if alias is None or unquote(tokens[i - 2]) == alias:
                cols.add(unquote(token).lower())
            continue
        if token[0] == "qid" or token[1].upper() not in _KEYWORDS:
            cols.add(unquote(token).lower())
    return cols


_KEYWORDS = frozenset(
    """AND OR NOT IS NULL IN BETWEEN LIKE GLOB ESCAPE EXISTS TRUE FALSE CASE WHEN THEN ELSE
    END CAST AS COLLATE BINARY NOCASE RTRIM SELECT FROM WHERE DISTINCT ALL ANY SOME
    REGEXP MATCH XOR DIV MOD""".split()
)


def conditions(sql: str) -> list[tuple[list[Token], set[str], int]]:
    """Every AND-ed condition of every WHERE and ON clause in ``sql`` (subqueries too):
    (tokens, aliases it names outside nested SELECTs, the SELECT it belongs to).

    The SELECT number counts SELECT keywords in text order, so a caller can tell which
    scope an unqualified column belongs to."""
    tokens = tokenize(sql)
    out = []
    select_at: list[int] = []  # stack: select number per bracket depth
    select_no = -1
    scope = [-1]
    i, n = 0, len(tokens)
    while i < n:
        text, up = tokens[i][1], _upper(tokens[i])
        if text == "(":
            scope.append(scope[-1])
        elif text == ")":
            if len(scope) > 1:
                scope.pop()
        elif up == "SELECT":
            select_no += 1
            scope[-1] = select_no
        elif up in ("WHERE", "ON"):
            depth = 0
            j = i + 1
            while j < n:
                t, u = tokens[j][1], _upper(tokens[j])
                if t == "(":
                    depth += 1
                elif t == ")":
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0 and (u in _COND_END or t == ";"):
                    break
                j += 1
            for part in flatten_and(tokens[i + 1 : j]):
                out.append((part, referenced_aliases(part), scope[-1]))
            # keep scanning inside the clause: nested subqueries have their own WHEREs
        i += 1
    del select_at
    return out


def tables_per_select(sql: str) -> dict[int, list[str]]:
    """SELECT number -> the aliases its FROM clause names (for unqualified columns)."""
    tokens = tokenize(sql)
    result: dict[int, list[str]] = {}
    scope = [-1]
    select_no = -1
    in_from = False
    for i, token in enumerate(tokens):
        text, up = token[1], _upper(token)
        if text == "(":
            scope.append(scope[-1])
            in_from = False
            continue
        if text == ")":
            if len(scope) > 1:
                scope.pop()
            continue
        if up == "SELECT":
            select_no += 1
            scope[-1] = select_no
            in_from = False
            continue
        starts = up in ("FROM", "JOIN", "UPDATE") or (in_from and text == ",")
        if up in ("FROM", "JOIN", "UPDATE"):
            in_from = True
        elif up in _COND_END:
            in_from = False
        if starts and i + 1 < len(tokens) and _is_name(tokens[i + 1]):
            j = i + 1
            while j + 2 < len(tokens) and tokens[j + 1][1] == "." and _is_name(tokens[j + 2]):
                j += 2
            alias = unquote(tokens[j])
            k = j + 1
            if k < len(tokens) and _upper(tokens[k]) == "AS":
                k += 1
            if k < len(tokens) and _is_name(tokens[k]):
                alias = unquote(tokens[k])
            result.setdefault(scope[-1], []).append(alias)
    return result


def table_of(alias: str, mapping: Mapping[str, str | None]) -> str | None:
    return mapping.get(alias, alias) if alias in mapping else None


def statement_target(sql: str) -> tuple[str, str] | None:
    """("Insert" | "Update" | "Delete", table) for a write statement, else None."""
    tokens = tokenize(sql)
    words = [t for t in tokens if t[0] in ("ident", "qid")]
    if not words:
        return None
    first = _upper(words[0])
    if first in ("INSERT", "REPLACE"):
        op, after = "Insert", "INTO"
    elif first == "UPDATE":
        op, after = "Update", None
    elif first == "DELETE":
        op, after = "Delete", "FROM"
    else:
        return None
    for i, token in enumerate(tokens):
        if (after is None and _upper(token) == "UPDATE") or (after and _upper(token) == after):
            j = i + 1
            while j < len(tokens) and _upper(tokens[j]) in (
                "LOW_PRIORITY",
                "IGNORE",
                "QUICK",
                "OR",
                "ROLLBACK",
                "ABORT",
                "REPLACE",
                "FAIL",
            ):
                j += 1
            if j < len(tokens) and _is_name(tokens[j]):
                while j + 2 < len(tokens) and tokens[j + 1][1] == "." and _is_name(tokens[j + 2]):
                    j += 2
                return op, unquote(tokens[j])
    return None
