"""Checks on plan nodes: no forbidden node type, and no table read whole with a Filter.

The guard's check and the bare marker's are the same :class:`NoFilteredFullScan`; what
is a full read (a table read in storage order, or an index walked whole, carrying a
Filter) and which names ``forbid=`` takes are the dialect's to say. Each finding comes
with an index suggestion the dialect proposed (and tried, where it can), or the reason
none is made.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.verdict import Kind, Mark, Offense, Reason, Verdict

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.dialect import Catalog, Dialect
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.plan.node import PlanNode
    from pytest_queryplan.core.plan.tree import Plan


def tables_read(queries: Iterable[ExplainedQuery]) -> tuple[str, ...]:
    return tuple(sorted({table for q in queries if q.plan for table in q.plan.tables}))


def _unread_tables(
    check: Forbidden | NoFilteredFullScan, queries: Sequence[ExplainedQuery], catalog: Catalog
) -> Verdict | None:
    """A failing verdict when ``tables=`` names a table no query read: a misspelled name
    must not turn the check into one that can never fail. A partitioned table is read when
    one of its partitions is."""
    read = tables_read(queries)
    missing = [table for table in check.tables or () if table not in read]
    if missing and read:
        parents = set(catalog.partition_roots(read).values())
        missing = [table for table in missing if table not in parents]
    if not missing or all(q.plan is None for q in queries):
        return None
    return Verdict(
        check,
        False,
        Kind.UNKNOWN_TABLE,
        total=len(queries),
        tables_read=read,
        unread=tuple(missing),
    )


def covered(tables: Collection[str], names: Iterable[str], catalog: Catalog) -> set[str]:
    """Those of ``names`` that ``tables`` names, directly or as the partitioned table they
    are partitions of (one catalog look-up, only for names not named directly)."""
    named = set(tables)
    found = {name for name in names if name in named}
    rest = {name for name in names if name not in named}
    if rest and named:
        found |= {p for p, root in catalog.partition_roots(rest).items() if root in named}
    return found


_SKIPPED = "skipped-leading-key"


def condition(mark: Mark) -> str:
    """The condition a full-read finding is about: the Filter, or for an index searched
    without its leading key, the Index Cond (on the heap node above a bitmap, its Recheck)."""
    node = mark.node
    if mark.reason == Reason.SKIPPED_LEADING_KEY:
        return node.index_cond or node.recheck_cond or ""
    return node.filter or ""


def relations_under(node: PlanNode) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.relation_name:
            yield current.relation_name
        stack.extend(current.children)


def forbidden_nodes(
    plan: Plan,
    node_types: Iterable[str],
    dialect: Dialect,
    tables: Collection[str] | None = None,
) -> list[PlanNode]:
    """Nodes of a forbidden type that concern ``tables`` (all tables when None).

    A node without a relation of its own (Sort, Hash Join) concerns the tables beneath it.
    """
    wanted = list(node_types)
    return [
        node
        for node in plan.nodes()
        if any(dialect.matches_type(node, node_type) for node_type in wanted)
        and (tables is None or any(name in tables for name in relations_under(node)))
    ]


def _matched(node: PlanNode, names: Iterable[str], dialect: Dialect) -> str:
    """The forbid= name ``node`` matched, as the user wrote it (the database's word)."""
    if node.node_type in names:
        return node.node_type
    return next((name for name in names if dialect.matches_type(node, name)), node.node_type)


@dataclass(frozen=True)
class Forbidden:
    """No plan node of ``node_types`` concerns ``tables`` (every table when None).

    The names are the dialect's (checked at collection against the test's database, and
    again here: a name the database never prints must not make a check that cannot fail).
    """

    node_types: tuple[str, ...]
    tables: tuple[str, ...] | None = None

    def judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        dialect = catalog.dialect
        dialect.check_node_types(self.node_types)
        if (unread := _unread_tables(self, queries, catalog)) is not None:
            return unread
        hits = {
            id(q): forbidden_nodes(q.plan, self.node_types, dialect)
            for q in queries
            if q.plan is not None
        }
        if self.tables is not None:  # a partitioned table's name covers its partitions
            under = {name for nodes in hits.values() for n in nodes for name in relations_under(n)}
            inside = covered(self.tables, under, catalog) if under else set()
            hits = {
                key: [n for n in nodes if any(name in inside for name in relations_under(n))]
                for key, nodes in hits.items()
            }
        offenses = []
        for query in queries:
            nodes = hits.get(id(query))
            if nodes:
                marks = tuple(
                    Mark(node, Reason.FORBIDDEN, _matched(node, self.node_types, dialect))
                    for node in nodes
                )
                offenses.append(Offense(query, marks))
        return Verdict(
            self, not offenses, Kind.FORBIDDEN_NODE, offenses=tuple(offenses), total=len(queries)
        )


@dataclass(frozen=True)
class NoFilteredFullScan:
    """No table is read whole with a Filter: a WHERE clause that no index served.

    ``allow``: tables honestly read whole. The database's own catalogs are always exempt.
    ``suggest``: propose (and verify) an index for each finding.
    """

    allow: frozenset[str] = field(default_factory=frozenset)
    tables: tuple[str, ...] | None = None
    suggest: bool = True

    def nodes(self, plan: Plan, dialect: Dialect) -> list[PlanNode]:
        return [
            node
            for node in dialect.filtered_full_reads(plan, self.allow)
            if not dialect.is_system_table(node.relation_name or "")
            and (self.tables is None or node.relation_name in self.tables)
        ]

    def judged_tables(self, candidates: set[str], catalog: Catalog) -> set[str]:
        """Of the tables read whole, those this check judges: not allowed, and among
        ``tables`` when given. A partitioned table's name covers its partitions; the
        catalog is asked only about candidates neither list names, and only when a list
        is given, so a run without findings costs no look-up."""
        judged = set(candidates)
        if self.allow:
            judged -= covered(self.allow, judged, catalog)
        if self.tables is not None:
            judged &= covered(self.tables, judged, catalog)
        return judged

    def skipped_leading_keys(
        self, queries: Sequence[ExplainedQuery], catalog: Catalog
    ) -> dict[int, list[Mark]]:
        """Per query, the scans that search an index without its leading key: a full read
        whose condition sits in the Index Cond instead of a Filter (PostgreSQL 18 may
        skip-scan it; the plan reads the same on 15 and 18). One catalog look-up for every
        plan not judged before (a cached plan keeps its answer: the warm guard asks none)."""
        dialect = catalog.dialect
        plans = {id(q): q.plan for q in queries if q.plan is not None}
        fresh = [plan for plan in plans.values() if _SKIPPED not in plan.derived]
        searched = {
            id(plan): [
                node
                for node in plan.nodes()
                if node.is_index_scan and node.index_cond and node.index_name
            ]
            for plan in fresh
        }
        names = {node.index_name for nodes in searched.values() for node in nodes}
        infos = {info.name: info for info in catalog.index_info(names)} if names else {}
        for plan in fresh:
            marks = []
            for node in searched[id(plan)]:
                info = infos.get(node.index_name or "")
                if info is None or dialect.is_system_table(info.table):
                    continue
                if dialect.skips_leading_key(node, info):
                    marked = dialect.heap_of(node) or node
                    marks.append(
                        Mark(marked, Reason.SKIPPED_LEADING_KEY, info.name, info.columns[0])
                    )
            plan.derived[_SKIPPED] = marks
        return {key: list(plan.derived[_SKIPPED]) for key, plan in plans.items()}

    def judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        dialect = catalog.dialect
        if (unread := _unread_tables(self, queries, catalog)) is not None:
            return unread
        # Every table first (allowed ones too), then the lists applied once, so that a
        # partitioned table's name covers its partitions.
        every = replace(self, allow=frozenset(), tables=None)
        found = {id(q): every.nodes(q.plan, dialect) for q in queries if q.plan is not None}
        skipped = every.skipped_leading_keys(queries, catalog)
        candidates = {n.relation_name or "" for nodes in found.values() for n in nodes}
        candidates |= {m.node.relation_name or "" for ms in skipped.values() for m in ms}
        judged = self.judged_tables(candidates, catalog) if candidates else set()
        offenses, excused, warnings = [], [], []
        seen: dict[tuple[object, ...], int] = {}
        for query in queries:
            if query.plan is None:
                continue
            marks, fine, ordered = [], [], []
            order_by: bool | None = None
            for mark in skipped.get(id(query), ()):
                if mark.node.relation_name not in judged:
                    continue
                if dialect.walks_to_limit(mark.node):
                    if order_by is None:
                        order_by = dialect.has_order_by(query.sql)
                    if order_by:  # in the ORDER BY's order to the LIMIT: as a Filter's walk
                        ordered.append(Mark(mark.node, Reason.ORDERED_WALK, mark.index))
                        continue
                marks.append(mark)
            for node in (n for n in found[id(query)] if n.relation_name in judged):
                walked = dialect.walked_index(node)
                cover = dialect.existing_cover(node, catalog) if walked else None
                if cover is not None:  # an index that serves the Filter exists: no finding
                    fine.append(Mark(node, Reason.EXCUSED, cover))
                elif walked and dialect.ordered_walk(node):
                    if order_by is None:
                        order_by = dialect.has_order_by(query.sql)
                    # The walk delivers the ORDER BY and stops at the LIMIT: served, as
                    # IndexUsed counts it; how far the Filter makes it read is a warning.
                    if order_by:
                        ordered.append(Mark(node, Reason.ORDERED_WALK, walked))
                    else:  # a LIMIT without an order: any row would do, the walk is waste
                        marks.append(Mark(node, Reason.FILTERED_INDEX_WALK, walked))
                elif walked:
                    marks.append(Mark(node, Reason.FILTERED_INDEX_WALK, walked))
                else:
                    marks.append(Mark(node, Reason.FILTERED_SEQ_SCAN))
            if marks:
                # The same SQL with the same finding, run again (a loop): said once.
                same = (query.sql, tuple((m.node.relation_name, condition(m)) for m in marks))
                if same in seen:
                    first = seen[same]
                    offenses[first] = replace(offenses[first], runs=offenses[first].runs + 1)
                else:
                    seen[same] = len(offenses)
                    offenses.append(Offense(query, tuple(marks)))
            if fine:
                excused.append(Offense(query, tuple(fine)))
            if ordered:
                warnings.append(Offense(query, tuple(ordered)))
        suggestions = ()
        if self.suggest and (offenses or warnings):
            suggestions = dialect.suggest([*offenses, *warnings], catalog)
        return Verdict(
            self,
            not offenses,
            Kind.FILTERED_FULL_READ,
            offenses=tuple(offenses),
            proof=tuple(excused),
            total=len(queries),
            suggestions=suggestions,
            warnings=tuple(warnings),
        )
