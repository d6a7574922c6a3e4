"""Index suggestions from a sequential scan's Filter: equality columns first, then the rest.

Pure text work over what EXPLAIN printed; a suggestion, never a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# A column as EXPLAIN prints it in a Filter: name, "quoted name" or (name)::type.
_COLUMN = r'\(*(?:"(?P<q>[^"]+)"|(?P<c>[a-z_][a-z0-9_$]*))\)*(?:::[a-z ]+(?:\[\])?)?'
_COMPARISON = re.compile(
    _COLUMN + r"\s*(?P<op>=|<>|!=|<=|>=|<|>|~~\*?|!~~\*?|IS NOT|IS|= ANY)\s", re.IGNORECASE
)
_BARE_BOOLEAN = re.compile(r"(?:^|\(|AND |OR |NOT )(?P<c>[a-z_][a-z0-9_]*)(?=\)|$| AND| OR)")
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "any", "all", "is"}
_NAME_LIMIT = 30  # Django's Index.max_name_length


@dataclass(frozen=True)
class IndexSuggestion:
    table: str
    columns: tuple[str, ...]
    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        base = "_".join((self.table.split("_", 1)[-1], *self.fields))
        return (base[: _NAME_LIMIT - 4].rstrip("_") + "_idx").lower()

    def as_django(self) -> str:
        fields = ", ".join(f'"{f}"' for f in self.fields)
        return f'models.Index(fields=[{fields}], name="{self.name}")'

    def as_sql(self) -> str:
        columns = ", ".join(self.columns)
        return f"CREATE INDEX CONCURRENTLY {self.name} ON {self.table} ({columns});"

    def render(self) -> str:
        return (
            "Suggestion (not a verdict: check it against production data and queries): "
            f"an index on {self.table} ({', '.join(self.columns)}), equality columns first:\n"
            f"    {self.as_django()}\n"
            f"    {self.as_sql()}"
        )


def filter_columns(expression: str) -> tuple[list[str], list[str]]:
    """(equality columns, other columns) named in a Filter, in order of appearance."""
    equality: list[str] = []
    other: list[str] = []
    for match in _COMPARISON.finditer(expression):
        column = match.group("q") or match.group("c")
        if column.lower() in _KEYWORDS:
            continue
        target = equality if match.group("op").upper() in ("=", "IS", "= ANY") else other
        if column not in equality and column not in other:
            target.append(column)
    for match in _BARE_BOOLEAN.finditer(expression):
        column = match.group("c")
        if column.lower() not in _KEYWORDS and column not in equality + other:
            equality.append(column)
    return equality, other


def suggest_index(
    table: str, expression: str, field_names: Mapping[str, str] | None = None
) -> IndexSuggestion | None:
    """An index for ``table`` serving ``expression``; ``field_names`` maps columns to fields."""
    equality, other = filter_columns(expression)
    columns = tuple(equality + other)
    if not columns:
        return None
    names = field_names or {}
    return IndexSuggestion(table, columns, tuple(names.get(c, c) for c in columns))
