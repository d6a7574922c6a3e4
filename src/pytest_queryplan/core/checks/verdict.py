"""What a check decided, as facts: the verdict every message, record and report is built from.

Pure data. A :class:`Verdict` says whether the check passed, which queries offended (or
proved it) and which plan nodes to point at, with the catalog facts a message needs. No
text is built here: ``messages.py`` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.checks.service import Service
    from pytest_queryplan.core.plan.node import PlanNode


class Kind(StrEnum):
    """What a check found: a stable identifier, stored in records and reports."""

    INDEX_USED = "index-used"
    INDEX_MISSING = "index-missing"
    INDEX_NOT_USED = "index-not-used"
    INDEX_PARTLY_USED = "index-partly-used"
    #: Generic mode: the index serves the query with its values, not once prepared.
    INDEX_LOST_WHEN_PREPARED = "index-lost-when-prepared"
    NO_QUERY_ON_TABLE = "no-query-on-table"
    FORBIDDEN_NODE = "forbidden-node"
    FILTERED_FULL_READ = "filtered-full-read"
    UNKNOWN_TABLE = "unknown-table"


class Reason(StrEnum):
    """Why a plan node is marked."""

    #: Read sequentially instead of the index.
    SEQ_SCAN = "seq-scan"
    #: Another index (``Mark.index``) read instead of the wanted one.
    OTHER_INDEX = "other-index"
    #: A node of a forbidden type.
    FORBIDDEN = "forbidden"
    #: A full read carrying a Filter: the table in storage order, or an index walked whole.
    FILTERED_SEQ_SCAN = "filtered-seq-scan"
    FILTERED_INDEX_WALK = "filtered-index-walk"
    #: An index (``Mark.index``) walked whole in the statement's ORDER BY under a LIMIT, with
    #: a Filter: served by the order (as ``IndexUsed`` counts it), read far if rows are rare.
    ORDERED_WALK = "ordered-walk-filtered"
    #: The index scanned, but a key column's condition left to a Filter.
    PARTLY_USED = "partly-used"
    #: The index read whole, without searching it.
    FULL_WALK = "full-walk"
    #: The heap node above a bitmap scan whose Filter holds key columns (``Mark.index``).
    FILTER_LEFT = "filter-left"
    #: The index searched, but not as the check asked (``ordered=``, ``keys=``).
    NOT_ASKED = "not-as-asked"
    #: A sort above a scan of the index (``Mark.index``) re-orders the rows it delivered.
    RESORTED = "resorted"
    #: A btree (``Mark.index``) searched without its leading key (``Mark.detail``): the
    #: whole index is read (or skipped through), a full read with its condition inside.
    SKIPPED_LEADING_KEY = "skipped-leading-key"
    #: The node that proved a passing check.
    USED = "used"
    #: Forced mode: a scan of the index without its leading key, where the plan proves a
    #: parameterised scan can search that key through a join (``Mark.detail``: by what).
    PARAMETERISED = "used-parameterised"
    #: An index walked whole with a Filter while an existing index (``Mark.index``) serves
    #: that Filter: the planner's choice for a small table, not a finding.
    EXCUSED = "excused"


#: Marks whose node is a full read an index could replace.
FULL_READS = frozenset(
    {Reason.SEQ_SCAN, Reason.FILTERED_SEQ_SCAN, Reason.FILTERED_INDEX_WALK, Reason.FULL_WALK}
)


class Suggestion(Protocol):
    """An index suggestion, or the reason none is made, as a dialect proposes it."""

    table: str
    #: The Filter it answers, as the plan printed it ("" when unknown).
    condition: str

    def render(self) -> str:
        """The failure message's block for it."""
        ...


@dataclass(frozen=True)
class Mark:
    """A plan node a message points at, and why (:class:`Reason`)."""

    node: PlanNode
    reason: Reason
    index: str | None = None
    detail: str | None = None


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

    ``kind`` says what was found (:class:`Kind`); ``offenses`` are the queries that failed
    it and ``proof`` the ones that passed it, so a passing check can say why it passed.
    ``dialect`` is the database's that explained the queries: the texts ask it.
    """

    #: The check that was judged (``core.checks.Check``).
    check: Any
    passed: bool
    kind: Kind
    offenses: tuple[Offense, ...] = ()
    proof: tuple[Offense, ...] = ()
    #: How many queries the check judged in all.
    total: int = 0
    index: IndexInfo | None = None
    tables_read: tuple[str, ...] = ()
    #: index-missing: the indexes that do exist on the tables the queries read.
    existing: tuple[IndexInfo, ...] = ()
    #: Per offending scan of the index: how it served the query (strict checks).
    services: tuple[Service, ...] = ()
    #: A partitioned index: the partition reads no index attached to it made (a sequential read,
    #: another index; ``Mark.detail`` "none-attached" where it has none on that partition).
    strays: tuple[Mark, ...] = ()
    #: Index suggestions (or why none is made) for the filtered reads found.
    suggestions: tuple[Suggestion, ...] = ()
    #: Queries that warn without failing the check (ordered walks under a LIMIT).
    warnings: tuple[Offense, ...] = ()
    #: Competing indexes that could not be set aside in forced mode: (name, why).
    kept: tuple[tuple[str, str], ...] = ()
    #: The index's table's column types, for hints (when the check asked for them).
    column_types: dict[str, str] | None = None
    #: unknown-table: the tables a check names that no query read.
    unread: tuple[str, ...] = ()
    #: The ``Dialect`` of the database that explained the queries (typed loosely: the
    #: dialect's own interface speaks of verdicts).
    dialect: object | None = None

    @property
    def queries(self) -> list[ExplainedQuery]:
        return [offense.query for offense in self.offenses]
