"""Index suggestions for the normalised dialects (SQLite, MariaDB): an index on the columns
a full read's Filter compares with a value, or the reason there is none.

The Filter is read with ``sqlscan`` (a tokenizer): each AND-ed condition that compares a
plain column of the scanned table with a value (``=``, ``IN``, ``IS``; a range; a LIKE with
a fixed prefix where the vendor searches that) gives a key, equality keys first. Where the
vendor's DDL is transactional (SQLite) the index is created inside a rolled-back savepoint
and the query explained again: only an index the planner then searches is "tried". Where
DDL commits (MariaDB) it is never created: the suggestion says it is unverified and why.
Pure: stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.checks.names import slug
from pytest_queryplan.core.checks.verdict import FULL_READS
from pytest_queryplan.dialects import sqlscan

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.dialect import Catalog
    from pytest_queryplan.core.checks.verdict import Offense
    from pytest_queryplan.core.plan.node import PlanNode

_MAX_KEYS = 3
_EQUALITY = frozenset({"=", "==", "IN", "IS", "<=>"})
_RANGE = frozenset({"<", ">", "<=", ">=", "BETWEEN"})
_NEGATED = frozenset({"<>", "!=", "NOT", "!~~"})


class Writer:
    """How one vendor writes (and whether it can try) a suggested index."""

    title = ""
    #: Whether the index can be created inside a savepoint that is rolled back.
    can_try = False
    #: Why it was not tried, when it cannot be.
    untried = ""
    #: Whether a LIKE with a fixed prefix searches an ordinary index.
    like_searches = False

    def quote(self, name: str) -> str:  # pragma: no cover - each vendor quotes
        raise NotImplementedError

    def create(self, name: str, table: str, columns: Sequence[str]) -> str:
        keys = ", ".join(self.quote(column) for column in columns)
        return f"CREATE INDEX {self.quote(name)} ON {self.quote(table)} ({keys})"


@dataclass(frozen=True)
class IndexProposal:
    """An index to add, as a Django ``models.Index`` line and as the vendor's SQL."""

    table: str
    columns: tuple[str, ...]
    fields: tuple[str, ...]
    name: str
    sql: str
    title: str
    verified: bool = False
    untried: str = ""
    #: The Filter it answers, as the plan printed it.
    condition: str = ""

    def as_django(self) -> str:
        fields = ", ".join(f'"{field}"' for field in self.fields)
        return f'models.Index(fields=[{fields}], name="{self.name}")'

    def render(self) -> str:
        if self.verified:
            status = (
                f"tried: {self.title} searched it when it was created inside the rolled-back "
                "savepoint, on this test's data; check it at production volume"
            )
        else:
            status = f"unverified: {self.untried}"
        return "\n".join(
            [
                f"Suggestion ({status}): an index on {self.table} ({', '.join(self.columns)}):",
                f"    {self.as_django()}",
                f"    {self.sql};",
            ]
        )


@dataclass(frozen=True)
class NoProposal:
    """No index is suggested, and why (one clause)."""

    table: str
    reason: str
    already: str | None = None
    #: The Filter it answers, as the plan printed it.
    condition: str = ""

    def render(self) -> str:
        return f"No index suggested for {self.table}: {self.reason}."


@dataclass(frozen=True)
class _Key:
    column: str
    equality: bool


def _column_of(tokens: list[sqlscan.Token], names: set[str]) -> tuple[str | None, int]:
    """The plain column of the scanned table the condition starts with, and where its
    operator starts; (None, 0) when it starts with anything else."""
    i = 0
    parts = []
    while i < len(tokens) and tokens[i][0] in ("ident", "qid"):
        parts.append(sqlscan.unquote(tokens[i]))
        if i + 1 < len(tokens) and tokens[i + 1][1] == ".":
            i += 2
            continue
        i += 1
        break
    if not parts or (i < len(tokens) and tokens[i][1] == "("):
        return None, 0
    if len(parts) > 1 and parts[-2] not in names:
        return None, 0
    return parts[-1], i


def _read(text: str, table: str, alias: str | None, like_searches: bool) -> tuple[list[_Key], str]:
    """The keys a Filter offers, and the first reason a condition offers none."""
    names = {table} | ({alias} if alias else set())
    keys: list[_Key] = []
    refusal = ""
    for part in sqlscan.flatten_and(sqlscan.tokenize(text, backslash=True)):
        shown = sqlscan.render(part)
        if len(sqlscan.split_top(part, "OR")) > 1:
            refusal = refusal or f"the condition is an OR ({shown}): each branch needs an index"
            continue
        column, at = _column_of(part, names)
        if column is None:
            refusal = refusal or (
                f"it filters on an expression ({shown}); an index on the column itself cannot "
                "search it"
            )
            continue
        rest = part[at:]
        operator = rest[0][1].upper() if rest else ""
        if operator == "NOT" and len(rest) > 1:
            operator = "NOT"
        value = rest[1:]
        if sqlscan.referenced_columns(value, alias or table) & {column} or any(
            sqlscan.unquote(t) in names
            for i, t in enumerate(value)
            if i + 1 < len(value) and value[i + 1][1] == "."
        ):
            refusal = refusal or f"it compares columns of the same row ({shown})"
            continue
        if operator in _EQUALITY:
            keys.append(_Key(column, True))
        elif operator in _RANGE:
            keys.append(_Key(column, False))
        elif operator in ("~~", "LIKE"):
            fixed = value[:1] and value[0][0] == "str" and value[0][1][1:2] not in ("%", "_", "'")
            if like_searches and fixed:
                keys.append(_Key(column, False))
            else:
                refusal = refusal or f"the pattern match ({shown}) cannot search an ordinary index"
        elif operator in _NEGATED:
            refusal = refusal or f"an index cannot look up <>, NOT IN or NOT LIKE ({shown})"
        else:
            refusal = refusal or f"no index serves this condition ({shown})"
    return keys, refusal


def _chosen(keys: list[_Key]) -> tuple[str, ...]:
    """Equality keys first (in the Filter's order), then one range key."""
    out: list[str] = []
    for key in keys:
        if key.equality and key.column not in out:
            out.append(key.column)
    ranges = [k.column for k in keys if not k.equality and k.column not in out]
    return tuple((out + ranges[:1])[:_MAX_KEYS])


def _covering(chosen: Sequence[str], existing: Iterable[IndexInfo]) -> IndexInfo | None:
    """An existing index whose leading keys are the chosen ones (in any order for the
    equality part): it would serve the Filter already."""
    for info in existing:
        lead = [c.lower() for c in info.columns[: len(chosen)]]
        if chosen and sorted(lead) == sorted(c.lower() for c in chosen):
            return info
    return None


def propose(node: PlanNode, catalog: Catalog, writer: Writer) -> IndexProposal | NoProposal:
    table, condition = node.relation_name or "", node.filter or ""
    keys, refusal = _read(condition, table, node.alias, writer.like_searches)
    chosen = _chosen(keys)
    if not chosen:
        return NoProposal(table, refusal or f"the filter names no column of {table} ({condition})")
    existing = catalog.indexes_on([table])
    cover = _covering(chosen, existing)
    if cover is not None:
        return NoProposal(
            table,
            f"{cover.name} ({', '.join(cover.columns)}) already serves it, yet the plan reads "
            "the table without it",
            already=cover.name,
        )
    fields = catalog.field_names(table)
    name = catalog.index_names.name_for(
        (table, "btree", chosen),
        table,
        [slug(fields.get(c, c)) for c in chosen],
        "idx",
        reserved=[i.name for i in existing],
    )
    return IndexProposal(
        table=table,
        columns=chosen,
        fields=tuple(fields.get(c, c) for c in chosen),
        name=name,
        sql=writer.create(name, table, chosen),
        title=writer.title,
        untried=writer.untried,
    )


def existing_cover(node: PlanNode, catalog: Catalog, writer: Writer) -> str | None:
    """An existing index whose leading key is a column the Filter searches, said as a fact:
    an index walked whole with that Filter is the planner's choice on a small table."""
    if not node.relation_name or not node.filter:
        return None
    keys, _ = _read(node.filter, node.relation_name, node.alias, writer.like_searches)
    columns = {key.column.lower() for key in keys}
    for info in catalog.indexes_on([node.relation_name]):
        if info.columns and info.columns[0].lower() in columns and not info.is_partial:
            return f"{info.name} ({', '.join(info.columns)}) serves that filter"
    return None


def suggest_for(
    offenses: Iterable[Offense], catalog: Catalog, writer: Writer
) -> tuple[IndexProposal | NoProposal, ...]:
    """One suggestion (or reason for none) per distinct (table, filter) read whole in
    forced mode; tried where the vendor can. Natural mode suggests nothing."""
    found: dict[tuple[str, str], IndexProposal | NoProposal] = {}
    for offense in offenses:
        query = offense.query
        if query.mode != Mode.FORCED or query.plan is None:
            continue
        for mark in offense.marks:
            node = mark.node
            table, condition = node.relation_name, node.filter
            if mark.reason not in FULL_READS or not table or not condition:
                continue
            if (table, condition) in found:
                continue
            proposed = propose(node, catalog, writer)
            tried = _tried(proposed, offense, catalog, writer)
            found[(table, condition)] = replace(tried, condition=condition)
    return tuple(found.values())


def _tried(
    found: IndexProposal | NoProposal, offense: Offense, catalog: Catalog, writer: Writer
) -> IndexProposal | NoProposal:
    if not isinstance(found, IndexProposal) or not writer.can_try:
        return found
    try:
        plan = catalog.replan(offense.query, create=[found.sql])
    except Exception as exc:  # noqa: BLE001 - a lock not granted in time, for one
        reason = str(exc).splitlines()[0].split(" could not EXPLAIN the query: ", 1)[-1]
        return IndexProposal(**{**found.__dict__, "untried": f"not tried: {reason}"})
    if any(n.index_name == found.name and n.index_cond for n in plan.nodes()):
        return IndexProposal(**{**found.__dict__, "verified": True})
    return NoProposal(
        found.table,
        f"{found.sql} was created inside the rolled-back savepoint, and {found.title}'s "
        "planner still did not search it",
    )
