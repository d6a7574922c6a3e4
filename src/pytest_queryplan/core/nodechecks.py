"""Checks on plan nodes: no forbidden node type, and no table read whole with a Filter.

The guard's check and the bare marker's are the same :class:`NoFilteredFullScan`; a full
read is a sequential scan carrying a Filter or an index walked whole (no Index Cond) with
one (``matchers.filtered_full_reads``). Each finding comes with an index suggestion that
was tried on the planner, or the reason none is made (``suggesting.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pytest_queryplan.core.matchers import (
    check_node_types,
    filtered_full_reads,
    forbidden_nodes,
    is_system_catalog,
    walked_index,
)
from pytest_queryplan.core.suggesting import existing_cover, suggest_for
from pytest_queryplan.core.verdict import Mark, Offense, Verdict

if TYPE_CHECKING:
    from pytest_queryplan.core.catalog import Catalog
    from pytest_queryplan.core.plan import Plan, PlanNode
    from pytest_queryplan.core.query import ExplainedQuery


def tables_read(queries: Iterable[ExplainedQuery]) -> tuple[str, ...]:
    return tuple(sorted({table for q in queries if q.plan for table in q.plan.tables}))


def _unread_tables(
    check: Forbidden | NoFilteredFullScan, queries: Sequence[ExplainedQuery]
) -> Verdict | None:
    """A failing verdict when ``tables=`` names a table no query read: a misspelled name
    must not turn the check into one that can never fail."""
    read = tables_read(queries)
    missing = [table for table in check.tables or () if table not in read]
    if not missing or all(q.plan is None for q in queries):
        return None
    return Verdict(
        check, False, "unknown-table", total=len(queries), tables_read=read, unread=tuple(missing)
    )


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
            for node in filtered_full_reads(plan, self.allow)
            if not is_system_catalog(node.relation_name or "")
            and (self.tables is None or node.relation_name in self.tables)
        ]

    def judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        if (unread := _unread_tables(self, queries)) is not None:
            return unread
        offenses, excused = [], []
        seen: dict[tuple[object, ...], int] = {}
        for query in queries:
            if query.plan is None:
                continue
            marks, fine = [], []
            for node in self.nodes(query.plan):
                walked = walked_index(node)
                cover = existing_cover(node, catalog) if walked else None
                if cover is not None:  # an index that serves the Filter exists: no finding
                    fine.append(Mark(node, "excused", cover))
                elif walked:
                    marks.append(Mark(node, "filtered-index-walk", walked))
                else:
                    marks.append(Mark(node, "filtered-seq-scan"))
            if marks:
                # The same SQL with the same finding, run again (a loop): said once.
                same = (query.sql, tuple((m.node.relation_name, m.node.filter) for m in marks))
                if same in seen:
                    first = seen[same]
                    offenses[first] = replace(offenses[first], runs=offenses[first].runs + 1)
                else:
                    seen[same] = len(offenses)
                    offenses.append(Offense(query, tuple(marks)))
            if fine:
                excused.append(Offense(query, tuple(fine)))
        suggestions = ()
        if self.suggest and offenses:
            suggestions = suggest_for(offenses, catalog)
        return Verdict(
            self,
            not offenses,
            "filtered-full-read",
            offenses=tuple(offenses),
            proof=tuple(excused),
            total=len(queries),
            suggestions=suggestions,
        )
