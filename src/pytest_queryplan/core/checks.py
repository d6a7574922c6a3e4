"""The checks, as data: each says what was asked and judges explained queries into a Verdict.

Every source of checks (the ``assert_uses_index`` fixture, the marker, the suite-wide
guard, the TestCase mixin) builds these and hands them to one runner; they differ only in
how they collect queries. A check may ask the database through the :class:`Catalog`
interface while it judges, never builds text, and never imports a driver.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_queryplan.core.matchers import (
    SEQ_SCAN,
    check_node_types,
    filtered_seq_scans,
    forbidden_nodes,
    is_system_catalog,
)
from pytest_queryplan.core.modes import Mode
from pytest_queryplan.core.verdict import Mark, Offense, Verdict

if TYPE_CHECKING:
    from pytest_queryplan.core.catalog import Catalog, IndexInfo
    from pytest_queryplan.core.plan import Plan, PlanNode
    from pytest_queryplan.core.query import ExplainedQuery

_REFUSED = "PostgreSQL could not EXPLAIN the query: "


def _tables_read(queries: Iterable[ExplainedQuery]) -> tuple[str, ...]:
    return tuple(sorted({table for q in queries if q.plan for table in q.plan.tables}))


def _unread_tables(
    check: Forbidden | NoFilteredFullScan, queries: Sequence[ExplainedQuery]
) -> Verdict | None:
    """A failing verdict when ``tables=`` names a table no query read: a misspelled name
    must not turn the check into one that can never fail."""
    read = _tables_read(queries)
    missing = [table for table in check.tables or () if table not in read]
    if not missing or all(q.plan is None for q in queries):
        return None
    return Verdict(
        check, False, "unknown-table", total=len(queries), tables_read=read, unread=tuple(missing)
    )


@dataclass(frozen=True)
class IndexUsed:
    """Some query (``every``: every query reading its table) scans index ``name``.

    ``block``: the queries were captured from running code, not one given target, so
    running no query on the index's table is a failure of its own.
    """

    name: str
    every: bool = False
    block: bool = False

    def judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        total = len(queries)
        if not self.every:
            proof = _users(queries, {self.name})
            if proof:  # the common, passing case costs no catalog query at all
                return Verdict(self, True, "index-used", proof=proof, total=total)
        names = catalog.attached_indexes(self.name)
        infos = {info.name: info for info in catalog.index_info(names)}
        info = infos.get(self.name)
        if info is None:
            read = _tables_read(queries)
            return Verdict(
                self,
                False,
                "index-missing",
                offenses=tuple(Offense(q) for q in queries),
                total=total,
                tables_read=read,
                existing=tuple(catalog.indexes_on(read)) if read else (),
            )
        index_tables = {i.table for i in infos.values()}
        relevant = [q for q in queries if q.plan is None or q.plan.tables & index_tables]
        kept: tuple[tuple[str, str], ...] = ()
        if any(q.mode == Mode.FORCED for q in relevant):
            kept = _without_competitors(relevant, names, index_tables, catalog)
        proof = _users(relevant, names)
        users = {id(offense.query) for offense in proof}
        offenders = [q for q in relevant if id(q) not in users]
        facts = {"total": total, "index": info, "kept": kept, "tables_read": _tables_read(queries)}
        if self.block and not relevant:
            everything = tuple(Offense(q) for q in queries)
            return Verdict(self, False, "no-query-on-table", offenses=everything, **facts)
        if proof and not (self.every and offenders):
            return Verdict(self, True, "index-used", proof=proof, **facts)
        if not self.every:
            offenders = relevant
        offenses = tuple(_offense(q, info, self.name) for q in offenders or queries)
        # An index for the first filtered sequential read of the table, if one would serve.
        reads = [o for o in offenses if any(m.reason == "seq-scan" for m in o.marks)]
        suggestions = suggest_for(reads, catalog)[:1]
        return Verdict(
            self, False, "index-not-used", offenses=offenses, suggestions=suggestions, **facts
        )


def _users(queries: Iterable[ExplainedQuery], names: Collection[str]) -> tuple[Offense, ...]:
    """The queries whose plan scans one of ``names``, with the scanning node marked."""
    found = []
    for query in queries:
        if query.plan is None or not query.plan.index_names & set(names):
            continue
        nodes = [n for n in query.plan.nodes() if n.index_name in names]
        found.append(Offense(query, tuple(Mark(n, "used", n.index_name) for n in nodes)))
    return tuple(found)


def _offense(query: ExplainedQuery, info: IndexInfo, wanted: str) -> Offense:
    """Mark every node that reads the index's table without the wanted index."""
    if query.plan is None:
        return Offense(query)
    marks = []
    for node in query.plan.nodes():
        if node.relation_name != info.table or node.node_type == "ModifyTable":
            continue
        if node.node_type == SEQ_SCAN:
            marks.append(Mark(node, "seq-scan", wanted))
        elif node.index_name and node.index_name != wanted:
            marks.append(Mark(node, "other-index", node.index_name))
        elif node.node_type == "Bitmap Heap Scan":
            marks += [
                Mark(child, "other-index", child.index_name)
                for child in node.children
                if child.index_name and child.index_name != wanted
            ]
    return Offense(query, tuple(marks))


def _without_competitors(
    queries: Sequence[ExplainedQuery],
    names: frozenset[str],
    tables: set[str],
    catalog: Catalog,
) -> tuple[tuple[str, str], ...]:
    """Forced mode asks whether the index *can* serve the query. When the planner took
    another index of the same table instead (a cheaper-looking one, say a foreign-key
    index that leads the named one), the answer depends on statistics, not on the query:
    ask again with those competitors out of sight. A query whose plan then scans the
    named index gets that plan. Indexes backing a constraint cannot be set aside; one whose
    lock is not granted in time stays too, and the verdict says so (``kept``).
    """
    pending = [
        q
        for q in queries
        if q.plan is not None and q.mode == Mode.FORCED and not q.plan.index_names & names
    ]
    used = {name for q in pending for name in q.plan.index_names} - names
    if not used:
        return ()
    # One catalog look-up for every competitor of every query.
    hideable = {i.name for i in catalog.index_info(used) if i.table in tables and not i.constraint}
    kept: dict[str, str] = {}
    for query in pending:
        hide = sorted(hideable & query.plan.index_names)
        if not hide:
            continue
        try:
            plan = catalog.replan(query, hide=hide)
        except Exception as exc:  # noqa: BLE001 - the adapter's refusal: the first answer stands
            reason = str(exc).splitlines()[0].removeprefix(_REFUSED)
            kept.update(dict.fromkeys(hide, reason))
            continue
        if plan.index_names & names:
            query.plan = plan
    return tuple(sorted(kept.items()))


@dataclass(frozen=True)
class Forbidden:
    """No plan node of ``node_types`` concerns ``tables`` (every table when None)."""

    node_types: tuple[str, ...]
    tables: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_node_types(self.node_types)

    def judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        if (unread := _unread_tables(self, queries)) is not None:
            return unread
        offenses = []
        for query in queries:
            if query.plan is None:
                continue
            nodes = forbidden_nodes(query.plan, self.node_types, self.tables)
            if nodes:
                marks = tuple(Mark(node, "forbidden", node.node_type) for node in nodes)
                offenses.append(Offense(query, marks))
        return Verdict(
            self, not offenses, "forbidden-node", offenses=tuple(offenses), total=len(queries)
        )


@dataclass(frozen=True)
class NoFilteredFullScan:
    """No table is read whole with a Filter: a WHERE clause that no index served.

    ``allow``: tables honestly read whole. PostgreSQL's own catalogs are always exempt.
    ``suggest``: propose (and verify) an index for each finding.
    """

    allow: frozenset[str] = field(default_factory=frozenset)
    tables: tuple[str, ...] | None = None
    suggest: bool = True

    def nodes(self, plan: Plan) -> list[PlanNode]:
        return [
            node
            for node in filtered_seq_scans(plan, self.allow)
            if not is_system_catalog(node.relation_name or "")
            and (self.tables is None or node.relation_name in self.tables)
        ]

    def judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        if (unread := _unread_tables(self, queries)) is not None:
            return unread
        offenses = []
        for query in queries:
            if query.plan is None:
                continue
            nodes = self.nodes(query.plan)
            if nodes:
                marks = tuple(Mark(node, "filtered-seq-scan") for node in nodes)
                offenses.append(Offense(query, marks))
        suggestions = ()
        if self.suggest and offenses:
            suggestions = suggest_for(offenses, catalog)
        return Verdict(
            self,
            not offenses,
            "filtered-full-read",
            offenses=tuple(offenses),
            total=len(queries),
            suggestions=suggestions,
        )


def suggest_for(offenses: Iterable[Offense], catalog: Catalog) -> tuple[object, ...]:
    """One index suggestion per distinct (table, filter) a forced-mode full read carried."""
    from pytest_queryplan.core.suggest import suggest_index

    found: dict[tuple[str, str], object] = {}
    for offense in offenses:
        if offense.query.mode != Mode.FORCED:
            continue
        for mark in offense.marks:
            node = mark.node
            if node.node_type != SEQ_SCAN:
                continue
            table, condition = node.relation_name, node.filter
            if not table or not condition or (table, condition) in found:
                continue
            suggestion = suggest_index(table, condition, catalog.field_names(table))
            if suggestion is not None:
                found[(table, condition)] = suggestion
    unique = {s.render(): s for s in found.values()}  # type: ignore[attr-defined]
    return tuple(unique.values())


Check = IndexUsed | Forbidden | NoFilteredFullScan


def judge_all(
    checks: Iterable[Check], queries: Sequence[ExplainedQuery], catalog: Catalog
) -> list[Verdict]:
    """Every check over the same explained queries, each judged once, in order."""
    return [check.judge(queries, catalog) for check in dict.fromkeys(checks)]
