"""PostgreSQL's advice when an index did not serve the query: one line per reason a key
column's condition was left to the Filter, and what a query says instead of a partial
index's predicate.

This module owns the wording: what each :class:`~.service.Cause` means, and the fix that
usually applies, in Django terms first. Pure: stdlib only; it reads a
:class:`~.service.Service` and, optionally, the table's column types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.service import Cause, Service
from pytest_queryplan.dialects.postgresql.conditions import conjuncts
from pytest_queryplan.dialects.postgresql.expressions import ParseError, parse, to_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.plan.node import PlanNode

__all__ = ["cause_hints", "order_lines", "predicate_gaps", "service_hints"]

_NAME_LIMIT = 30  # Django's Index.max_name_length
# SQL functions Django builds from these expressions; the hint names the Django one.
_DJANGO_FUNCTIONS = {
    "upper": "Upper",
    "lower": "Lower",
    "btrim": "Trim",
    "length": "Length",
    "abs": "Abs",
    "coalesce": "Coalesce",
}
_NEGATIONS = {
    "<>": "<> (exclude(field=value))",
    "!=": "<> (exclude(field=value))",
    "<> ALL": "NOT IN (exclude(field__in=...))",
    "!= ALL": "NOT IN (exclude(field__in=...))",
    "NOT": "NOT",
    "IS DISTINCT FROM": "IS DISTINCT FROM",
}


def cause_hints(service: Service, column_types: Mapping[str, str] | None = None) -> list[str]:
    """One advice line per condition on a key column that was left to the Filter."""
    types = column_types or {}
    return [
        _never_searched(cause, service.method)
        or _cause_hint(cause, _table(service), types.get(cause.column))
        for cause in service.causes
    ]


def service_hints(service: Service, column_types: Mapping[str, str] | None = None) -> list[str]:
    """Advice lines, one per cause, then one for a full read of the index when neither an
    ORDER BY under a LIMIT nor a partial index's predicate made it worthwhile."""
    lines = cause_hints(service, column_types)
    searches = service.node.raw.get("Index Searches")  # PostgreSQL 18's EXPLAIN ANALYZE
    if service.skips_leading_key and isinstance(searches, int) and searches > 1:
        lines.append(
            f"PostgreSQL 18 skip-scanned {service.index_name}: {searches} index searches,"
            f" about one per {service.keys[0]} value, instead of one search of a range. Lead"
            f" the index with the column the query fixes, or filter on {service.keys[0]} too."
        )
    if service.full_walk and not service.ordered_limit and not service.partial:
        filtered = " and every row filtered" if service.filter else ""
        lines.append(
            f"no Index Cond: {service.index_name} was read whole{filtered}; reading an index"
            " whole pays only when it delivers the query's ORDER BY under a LIMIT"
            " (no Sort above it)"
        )
    return lines


def _table(service: Service) -> str:
    node = service.heap if service.heap is not None else service.node
    return node.relation_name or "table"


def _index_name(table: str, *parts: str) -> str:
    # "shop_book" -> "book": Django tables are "<app>_<model>", as suggest.py assumes.
    words = [table.split("_", 1)[-1], *(re.sub(r"\W+", "_", p).strip("_") for p in parts)]
    base = "_".join(words).lower()
    return base[: _NAME_LIMIT - 4].rstrip("_") + "_idx"


# What each access method can search on a column, for the operators it never serves.
_SEARCHES = {
    "gin": "containment and key existence (@>, <@, ?, ?|, ?&; @@ for text search)",
    "gist": "overlap, containment and distance (&&, @>, <@, <->)",
    "brin": "ranges of block values (=, <, >, with the minmax opclass)",
    "hash": "equality (=) only",
}
#: Operators of jsonb's default GIN operator class that jsonb_path_ops lacks.
_JSONB_OPS_ONLY = frozenset({"?", "?|", "?&"})
_JSON_PATH = re.compile(r"\(?(\w+)\s*->>?\s*'([^']*)'(?:::text)?\)?\s*=\s*'([^']*)'")


def _never_searched(cause: Cause, method: str) -> str | None:
    """The hint for a condition the index's access method can never search, whatever the
    planner's choice (a GIN's jsonb read through ->, a hash index's range), or None."""
    searches = _SEARCHES.get(method)
    if searches is None or (method == "hash" and cause.detail == "="):
        return None
    column, condition = cause.column, cause.condition
    if method == "gin" and cause.detail in _JSONB_OPS_ONLY:
        # An operator GIN does search, left to the Filter: the index's operator class lacks
        # it (jsonb_path_ops searches @> but not key existence).
        return (
            f'{column}: "{condition}" is checked row by row: this gin index\'s operator class'
            f" cannot search {cause.detail} (jsonb_path_ops searches only @>, @? and @@; the"
            f" default jsonb_ops also searches ?, ?| and ?&). Index {column} with jsonb_ops,"
            " or ask with @> where containment says the same."
        )
    fix = "index the expression with a btree"
    path = _JSON_PATH.search(condition)
    if method == "gin" and path is not None:
        key, value = path.group(2), path.group(3).replace("''", "'")
        fix = (
            f"write it as containment, {column} @> '{{\"{key}\": {value}}}' (in Django,"
            f" {column}__contains={{\"{key}\": {value}}}), or {fix} ({column} -> '{key}')"
        )
        return (
            f'{column}: "{condition}" is checked row by row: a {method} index searches'
            f" {searches}, never this operator on {column}. Use an operator it serves: {fix}."
        )
    return (
        f'{column}: "{condition}" is checked row by row: a {method} index searches'
        f" {searches}, never this operator on {column}. Use an operator it serves, or {fix}."
    )


def _cause_hint(cause: Cause, table: str, column_type: str | None) -> str:
    column, condition = cause.column, cause.condition
    if cause.kind == "function":
        django = _DJANGO_FUNCTIONS.get(cause.detail)
        if django is None:
            fix = f"Index the expression {cause.detail}(...) (an expression index)"
        else:
            name = _index_name(table, column, cause.detail)
            fix = f'Index the expression, models.Index({django}("{column}"), name="{name}")'
        return (
            f'{column}: {cause.detail}() on the column, "{condition}", is checked row by row:'
            f" the index holds {column} itself. {fix}, or filter on the plain column."
        )
    if cause.kind == "cast":
        source, _, target = cause.detail.rpartition(" -> ")
        source = source or column_type or "its own type"
        return (
            f'{column}: the column ({source}) is cast to {target} in "{condition}", so the'
            f" index, which orders {source} values, cannot be searched with it. Compare with a"
            f" value of the column's type ({source}), not a Decimal, Cast or Value of another."
        )
    if cause.kind == "pattern":
        return _pattern_hint(cause, table, column_type)
    if cause.kind == "operator":
        shown = _NEGATIONS.get(cause.detail, cause.detail)
        return (
            f'{column}: {shown} in "{condition}" is checked row by row: a btree searches'
            ' equality and ranges, not "all but". Filter on the values wanted (=, __in, a'
            " range), or accept the row-by-row check."
        )
    if cause.detail == "OR":
        return (
            f'{column}: the OR in "{condition}" is checked row by row: an index can answer an'
            " OR only when every side of it can be searched (a BitmapOr). Index the other"
            " side's column, or split the query."
        )
    if cause.detail == "= ANY":
        return (
            f'{column}: IN in "{condition}" is left to the Filter: before PostgreSQL 17 the'
            " planner often does so for a key after the first; 17 and later search it."
        )
    return f'{column}: "{condition}" is checked row by row, not searched in the index.'


def _pattern_hint(cause: Cause, table: str, column_type: str | None) -> str:
    column, condition = cause.column, cause.condition
    literal = re.search(r"'((?:[^']|'')*)'", condition)
    wildcard_first = literal is not None and literal.group(1)[:1] in ("%", "_")
    if cause.detail != "~~" or wildcard_first:
        what = "starts with a wildcard" if wildcard_first else "is not a case-sensitive LIKE"
        return (
            f'{column}: the pattern in "{condition}" {what}, so no btree can search it. A'
            ' trigram index can: GinIndex(fields=[...], opclasses=["gin_trgm_ops"]) from'
            " django.contrib.postgres, with the pg_trgm extension."
        )
    if column_type is None:
        opclass, note = "varchar_pattern_ops", " (text_pattern_ops for a text column)"
    else:
        text = column_type.startswith("text")
        opclass, note = ("text_pattern_ops" if text else "varchar_pattern_ops"), ""
    name = _index_name(table, column, "like")
    return (
        f'{column}: LIKE (startswith) in "{condition}" is checked row by row: a plain btree'
        " cannot search a LIKE prefix under the database's collation. Add one with the"
        f' pattern opclass, models.Index(fields=["{column}"], name="{name}",'
        f' opclasses=["{opclass}"]){note}, which is what db_index=True adds to a CharField'
        ' as its "_like" index.'
    )


def _normal(condition: str) -> tuple[str, frozenset[str]]:
    """A condition as comparable text, and the columns it names (qualifiers dropped)."""
    try:
        tree = parse(condition).unqualified()
    except ParseError:
        return " ".join(condition.split()), frozenset()
    columns = frozenset(to_sql(c, always_quote=False) for c in tree.columns())
    return to_sql(tree, always_quote=False), columns


def predicate_gaps(info: IndexInfo, conditions: Iterable[str]) -> list[str]:
    """For each part of a partial index's predicate the query's conditions do not state:
    what the query says about that column instead (another value, a bound parameter, or
    nothing). Empty when every part is stated."""
    stated = [_normal(part) for condition in conditions for part in conjuncts(condition)]
    texts = {text for text, _ in stated}
    gaps = []
    for part in conjuncts(info.predicate):
        text, columns = _normal(part)
        if text in texts:
            continue
        said = sorted({t for t, named in stated if columns & named})
        if not said:
            what = f"no condition on {', '.join(sorted(columns)) or 'its columns'}"
        elif any(re.search(r"\$\d+", t) for t in said):
            what = f"a bound parameter, {' AND '.join(said)}, which the planner cannot prove"
        else:
            what = " AND ".join(said)
        gaps.append(f"the predicate says {text}; the query: {what}")
    return gaps


def order_lines(service: Service, info: IndexInfo) -> list[str]:
    """What ``ordered=True`` found: no ORDER BY to deliver, or the sorts above the scan
    (an Incremental Sort says which leading keys the index did deliver), and the fix."""
    lines = []
    if service.unordered:
        lines.append(
            "ordered=True, but the statement has no ORDER BY: there is no order for the index"
            " to deliver (in Django, an .order_by(...) or the model's Meta.ordering)."
        )
    if service.order_elsewhere and not service.unordered:
        lines.append(
            f"ordered=True, but {service.index_name} is read in {service.order_elsewhere},"
            " a subquery whose rows are not the statement's: the statement's ORDER BY is"
            " delivered, or sorted, elsewhere."
        )
    for sort in service.sorts:
        keys = ", ".join(sort.raw.get("Sort Key") or ())
        presorted = sort.raw.get("Presorted Key") or ()
        missing = [key.rsplit(".", 1)[-1] for key in missing_order(sort)]
        if presorted:
            lines.append(
                f"{sort.node_type} by {keys} above {service.index_name}: the index delivered"
                f" {', '.join(presorted)}; the rest ({', '.join(missing)}) is sorted row by row."
            )
        else:
            lines.append(
                f"{sort.node_type} by {keys} above {service.index_name}: the rows it"
                " delivered are sorted again, so the index does not deliver the ORDER BY."
            )
        if presorted:
            wanted = [*info.keys, *(key for key in missing if key not in info.keys)]
            lines.append(
                f"Hint: an index ending with what it lacks, ({', '.join(wanted)}), delivers"
                " the whole ORDER BY; or drop the rest from the ORDER BY (a tie-breaker such"
                ' as "pk" costs a sort).'
            )
        else:
            lines.append(
                f"Hint: an index delivers an ORDER BY when its keys run in the ORDER BY's"
                f" order and directions ({keys}), after the columns the query fixes with ="
            )
    return lines


def missing_order(sort: PlanNode) -> tuple[str, ...]:
    """The sort keys the index did not deliver: an Incremental Sort's keys after its
    Presorted Key, every key of a Sort."""
    keys = tuple(sort.raw.get("Sort Key") or ())
    presorted = sort.raw.get("Presorted Key") or ()
    return keys[len(presorted) :]
