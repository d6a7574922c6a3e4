"""What a check decided, as facts: the verdict every message, record and report is built from.

Pure data. A :class:`Verdict` says whether the check passed, which queries offended (or
proved it) and which plan nodes to point at, with the catalog facts a message needs. No
text is built here: ``messages.py`` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_queryplan.core.catalog import IndexInfo
    from pytest_queryplan.core.plan import PlanNode
    from pytest_queryplan.core.query import ExplainedQuery


@dataclass(frozen=True)
class Mark:
    """A plan node a message points at, and why.

    ``reason``: ``seq-scan`` (read sequentially instead of the index), ``other-index``
    (``index`` used instead), ``forbidden`` (a forbidden node type), ``filtered-seq-scan``
    and ``filtered-index-walk`` (a full read carrying a Filter), ``partly-used`` (the index
    scanned, but a key column's condition left to a Filter), ``full-walk`` (the index read
    whole without an Index Cond), ``used`` (the node that proved a passing check),
    ``excused`` (an index walked whole with a Filter while an existing index, named in
    ``index``, serves that Filter: the planner's choice for a small table).
    """

    node: PlanNode
    reason: str
    index: str | None = None


@dataclass(frozen=True)
class Offense:
    """One query a verdict concerns, with the nodes to mark in its plan; ``runs``: how many
    times the test ran the same SQL with the same finding (shown once)."""

    query: ExplainedQuery
    marks: tuple[Mark, ...] = ()
    runs: int = 1


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check over the queries it was given.

    ``kind`` is a stable identifier of what was found (``index-used``, ``index-missing``,
    ``index-not-used``, ``index-partly-used``, ``no-query-on-table``, ``forbidden-node``,
    ``filtered-full-read``, ``unknown-table``); ``offenses`` are the queries that failed it
    and ``proof`` the ones that passed it, so a passing check can say why it passed.
    """

    check: Any
    passed: bool
    kind: str
    offenses: tuple[Offense, ...] = ()
    proof: tuple[Offense, ...] = ()
    #: How many queries the check judged in all.
    total: int = 0
    index: IndexInfo | None = None
    tables_read: tuple[str, ...] = ()
    #: index-missing: the indexes that do exist on the tables the queries read.
    existing: tuple[IndexInfo, ...] = ()
    #: Per offending scan of the index: how it served the query (strict checks).
    services: tuple[Any, ...] = ()
    #: Index suggestions (or why none is made) for the filtered reads found.
    suggestions: tuple[Any, ...] = ()
    #: Competing indexes that could not be set aside in forced mode: (name, why).
    kept: tuple[tuple[str, str], ...] = ()
    #: The index's table's column types, for hints (when the check asked for them).
    column_types: dict[str, str] | None = None
    #: unknown-table: the tables a check names that no query read.
    unread: tuple[str, ...] = ()

    @property
    def queries(self) -> list[ExplainedQuery]:
        return [offense.query for offense in self.offenses]
