"""Index suggestions for a filtered read of one table: a fitting index, or why there is none.

This module owns turning a scan's ``Filter`` (as EXPLAIN prints it) into an
:class:`IndexSuggestion` (access method and operator class chosen by operator and column
type, equality keys first, a name unique within the run) or a :class:`NoSuggestion` (no
index can serve the filter, or one already does), and the text a failure message shows for
either. Pure: stdlib only. Whether PostgreSQL would use a suggestion is for the database
side to prove (create it in a rolled-back savepoint and explain again).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.core.checks.names import NameRegistry, slug
from pytest_queryplan.dialects.postgresql.expressions import Expr, ParseError, parse, quote, to_sql
from pytest_queryplan.dialects.postgresql.index_rules import Reader, choose, served_by

__all__ = [
    "IndexKey",
    "IndexSuggestion",
    "NoSuggestion",
    "explain_no_suggestion",
    "propose",
]

_MAX_KEYS = 3
_SUFFIX = {"btree": "idx", "gin": "gin", "gist": "gist"}
_DJANGO_CLASS = {"btree": "models.Index", "gin": "GinIndex", "gist": "GistIndex"}
_FUNCTIONS = {"upper": "Upper", "lower": "Lower"}
_EXPLAINED = {
    "pattern-from-row": "the LIKE pattern is computed from another row ({d}); an index only "
    "serves a LIKE whose pattern is a constant with a fixed prefix",
    "leading-wildcard": "the pattern starts with a wildcard ({d}): no btree can serve it (a "
    "trigram index, pg_trgm's gin_trgm_ops, can)",
    "pattern-unknown": "the pattern is not a constant the planner can read a prefix from ({d})",
    "unanchored-regex": "the regular expression is not anchored with ^ and a fixed prefix ({d})",
    "case-insensitive-pattern": "a case-insensitive match ({d}) needs an index on upper() or "
    "lower() of the column with a LIKE on the same expression, or a trigram index",
    "negated-pattern": "an index cannot look up a negated match ({d})",
    "not-equal": "an index cannot look up <> or NOT IN ({d})",
    "column-comparison": "it compares columns of the same row ({d}); no index serves that",
    "or-condition": "the condition is an OR ({d}): each branch needs an index of its own",
    "or-subqueries": "the condition is an OR of sub-queries ({d}), checked row by row for "
    "every row: no index serves an OR across sub-plans. Rewrite it as a UNION, one query per "
    "branch (QuerySet.union(), or Q objects split into two querysets), so each branch's IN "
    "(subquery) is searched through the index on its own column (the primary key, for an "
    "id IN (...))",
    "boolean-only": "{d}",
    "expression": "it filters on an expression ({d}); only an index on that exact expression "
    "could serve it",
    "volatile": "it compares with a volatile function's result ({d}), which no index scan uses",
    "subquery": "it compares with a sub-plan's result ({d}), which no index scan takes as a key",
    "not-indexable": "no built-in index serves this operator on this type ({d})",
    "unknown-type": "the column type is unknown, so the index method cannot be chosen ({d})",
    "no-column": "the filter names no column of the table on its own ({d})",
    "unparsed": "the filter could not be read ({d})",
    "planner-declined": "{d}",
    "already-indexed": "{d}, yet the plan reads the table without it (look at the table's "
    "statistics, or at a type or collation the index does not match)",
}


@dataclass(frozen=True)
class IndexKey:
    """One key of a suggested index.

    ``column`` is the column name, or an expression as EXPLAIN prints it
    (``upper((role)::text)``); ``expression`` is the Django expression for such a key
    (``Upper("role")``) and is ``None`` exactly when the key is a plain column.
    """

    column: str
    opclass: str | None = None
    field: str | None = None
    expression: str | None = None

    def as_sql(self) -> str:
        if self.expression is None:
            key = quote(self.column)
        else:
            key = f"({to_sql(parse(self.column))})"
        return f"{key} {self.opclass}" if self.opclass else key


@dataclass(frozen=True)
class IndexSuggestion:
    table: str
    keys: tuple[IndexKey, ...]
    method: str = "btree"
    name: str = ""
    # A partial index's predicate (SQL). propose() never sets one: it suggests full indexes.
    condition: str | None = None

    def as_sql(self) -> str:
        using = "" if self.method == "btree" else f" USING {self.method}"
        keys = ", ".join(key.as_sql() for key in self.keys)
        where = f" WHERE {self.condition}" if self.condition else ""
        return (
            f"CREATE INDEX CONCURRENTLY {quote(self.name)} ON {quote(self.table)}"
            f"{using} ({keys}){where};"
        )

    def as_django(self) -> str:
        cls = _DJANGO_CLASS.get(self.method, "models.Index")
        plain = all(key.expression is None for key in self.keys)
        opclasses = [key.opclass for key in self.keys]
        if plain and (all(opclasses) or not any(opclasses)):
            fields = ", ".join(f'"{key.field or key.column}"' for key in self.keys)
            listed = ", ".join(f'"{o}"' for o in opclasses) if all(opclasses) else ""
            extra = f", opclasses=[{listed}]" if listed else ""
            return f'{cls}(fields=[{fields}], name="{self.name}"{extra})'
        parts = []
        for key in self.keys:
            term = key.expression or f'F("{key.field or key.column}")'
            parts.append(f'OpClass({term}, name="{key.opclass}")' if key.opclass else term)
        return f'{cls}({", ".join(parts)}, name="{self.name}")'

    def django_imports(self) -> list[str]:
        """The imports :meth:`as_django` needs besides ``from django.db import models``."""
        text = self.as_django()
        lines = []
        postgres = [name for name in ("GinIndex", "GistIndex", "OpClass") if f"{name}(" in text]
        if postgres:
            lines.append(f"from django.contrib.postgres.indexes import {', '.join(postgres)}")
        if 'F("' in text:
            lines.append("from django.db.models import F")
        functions = [name for name in ("Lower", "Upper") if f"{name}(" in text]
        if functions:
            lines.append(f"from django.db.models.functions import {', '.join(functions)}")
        return lines

    def render(self, verified: bool = False, ordered: bool = False) -> str:
        """The failure message's block: what to add, as Django and as SQL. ``verified``
        says what the trial proved: the planner searched the index (with an Index Cond,
        and for ``ordered`` with no sort above it) on this test's data."""
        if verified:
            delivered = ", delivering the ORDER BY without a sort" if ordered else ""
            status = (
                "tried: PostgreSQL searched it when it was created inside the rolled-back "
                f"savepoint, on this test's data (an Index Cond on it{delivered}: proof "
                "the planner can use it, not that it is faster); check it at production volume"
            )
        else:
            status = "unverified: not tried on the planner; check it against production data"
        keys = ", ".join(key.as_sql() for key in self.keys)
        lines = [f"Suggestion ({status}): a {self.method} index on {self.table} ({keys}):"]
        lines += [f"    # {line}" for line in self.django_imports()]
        lines += [f"    {self.as_django()}", f"    {self.as_sql()}"]
        return "\n".join(lines)


@dataclass(frozen=True)
class NoSuggestion:
    """No index is suggested: ``reason`` is a kind (see ``explain_no_suggestion``)."""

    table: str
    reason: str
    detail: str
    #: The Filter it answers, as the plan printed it.
    condition: str = ""

    def render(self) -> str:
        return explain_no_suggestion(self)


def explain_no_suggestion(no: NoSuggestion) -> str:
    """One sentence for a failure message: why no index is suggested, with the facts."""
    why = _EXPLAINED.get(no.reason, "{d}").format(d=no.detail)
    return f"No index suggested for {no.table}: {why}."


def boolean_advice(condition: str, kept: float | None = None, total: float | None = None) -> str:
    """Why no plain index on a boolean alone: a partial index where the rows kept are
    few, nothing where most rows pass; the planner's estimates decide, when known."""
    head = (
        f"it filters on a boolean column alone ({condition}): a plain btree on a two-valued "
        "column serves almost nothing"
    )
    partial = (
        f"a partial index (condition: {condition}) on the columns the query searches or "
        "orders by would serve it"
    )
    if kept is None or not total or total <= 0:
        return (
            f"{head}. Where the rows it keeps are few, {partial}; where most rows pass it "
            "(a soft-delete flag), no index helps and reading the table is right "
            "(allow_seq_scan=[...])"
        )
    share = kept / total
    said = f"the planner expects {kept:.0f} of {total:.0f} rows ({share:.0%}) to pass it"
    if share > 0.2:
        return (
            f"{head}, and {said}: no index would help, reading the table is right "
            "(allow_seq_scan=[...])"
        )
    return f"{head}; {said}, so {partial}"


def _label(key: IndexKey) -> str:
    label = key.field or key.column
    if key.expression is not None:
        label = "_".join(re.findall(r"[A-Za-z0-9]+", key.expression))
    return slug(label) + ("_like" if key.opclass and "pattern" in key.opclass else "")


def propose(
    table: str,
    filter_text: str,
    *,
    column_types: Mapping[str, str],
    field_names: Mapping[str, str],
    existing: Sequence[IndexInfo],
    names: NameRegistry,
    alias: str | None = None,
) -> IndexSuggestion | NoSuggestion:
    """What index would serve ``filter_text`` on ``table``, or why none is suggested.

    ``alias`` is the scan's alias: columns qualified with another name belong to another
    row (an outer query's), which an index can take as a parameter but not as a pattern.
    """
    try:
        tree = parse(filter_text)
    except ParseError:
        return NoSuggestion(table, "unparsed", filter_text)
    reader = Reader(table, alias, column_types)
    uses, refusals = [], []
    for part in tree.args if tree.kind == "and" else (tree,):
        found = reader.classify(part)
        (refusals if isinstance(found, tuple) else uses).append(found)
    if not uses:
        reason, detail = refusals[0] if refusals else ("no-column", filter_text)
        return NoSuggestion(table, reason, detail)
    if all(use.operator == "boolean" for use in uses):
        # A btree on a two-valued flag ("WHERE NOT is_removed") serves almost nothing.
        return NoSuggestion(table, "boolean-only", boolean_advice(filter_text))
    method, chosen = choose(uses, _MAX_KEYS)
    covering = served_by(uses, chosen, method, [i for i in existing if i.table == table])
    if covering is not None:
        return NoSuggestion(table, "already-indexed", covering)
    keys = tuple(_key(use.key, use.opclass, field_names) for use in chosen)
    signature = (table, method, tuple((k.column, k.opclass, k.expression) for k in keys))
    labels = [_label(key) for key in keys]
    suffix = _SUFFIX.get(method, method)
    name = names.name_for(signature, table, labels, suffix, reserved=[i.name for i in existing])
    return IndexSuggestion(table, keys, method, name)


def _key(node: Expr, opclass: str | None, field_names: Mapping[str, str]) -> IndexKey:
    if node.kind == "column":
        return IndexKey(node.text, opclass, field_names.get(node.text))
    column = node.columns()[0].text
    expression = f'{_FUNCTIONS[node.text.lower()]}("{field_names.get(column, column)}")'
    return IndexKey(to_sql(node, always_quote=False), opclass, None, expression)
