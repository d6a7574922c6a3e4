"""The seams between the pure checks and one database: what a check may ask the database
while it judges (:class:`Catalog`), and what it asks the vendor's rules (:class:`Dialect`).

The plan model's node vocabulary is PostgreSQL's ``EXPLAIN (FORMAT JSON)`` keys ("Node
Type", "Relation Name", "Index Name", "Index Cond", "Filter", "Plans"): every dialect
normalises its own plan output into nodes with those keys, and keeps its vendor's fields
beside them. Everything a vendor decides beyond that (which node is a full read, whether a
scan *serves* the query, the names ``forbid=`` takes, which modes exist, how an index is
suggested and tried, the hints) is asked through :class:`Dialect`; one implementation per
vendor lives in ``pytest_queryplan/dialects/<vendor>/``. The core never imports a dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.modes import Mode
    from pytest_queryplan.core.checks.names import NameRegistry
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.checks.service import Service
    from pytest_queryplan.core.checks.verdict import Offense, Suggestion, Verdict
    from pytest_queryplan.core.plan.node import PlanNode
    from pytest_queryplan.core.plan.tree import Plan

Judge = Callable[[Sequence["ExplainedQuery"], "Catalog"], "Verdict"]


class Catalog(Protocol):
    """What a check may ask the database while it judges (one adapter per vendor).

    ``replan`` explains a query again, in the same mode and as safely as the first time,
    with ``hide`` indexes out of the planner's sight, ``create`` statements (``CREATE
    INDEX``) run first and the dialect's ``settings`` applied, all inside a savepoint that
    is rolled back. It returns the new plan,
    or raises an exception whose first line says why the database refused (for one, a lock
    not granted in time): the caller keeps its first answer.
    """

    #: The dialect of the database this catalog describes.
    dialect: Dialect
    #: Names for suggested indexes, unique within the run.
    index_names: NameRegistry

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]: ...

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]: ...

    def attached_indexes(self, name: str) -> frozenset[str]: ...

    def partitions(self, name: str) -> frozenset[str]:
        """The leaf partitions of the table index ``name`` is on; empty for a plain table."""
        ...

    def partition_roots(self, names: Iterable[str]) -> dict[str, str]:
        """Each named table or index that is a partition -> the top of its partition tree."""
        ...

    def column_types(self, table: str) -> dict[str, str]: ...

    def field_names(self, table: str) -> dict[str, str]:
        """Column -> the model field's name, so a suggestion reads like the project's code."""
        ...

    def replan(
        self,
        query: ExplainedQuery,
        *,
        hide: Sequence[str] = (),
        create: Sequence[str] = (),
        settings: Sequence[str] = (),
    ) -> Plan: ...


class Dialect(Protocol):
    """One database vendor's answers to the questions the core asks about its plans."""

    #: Django's ``connection.vendor`` ("postgresql").
    name: str
    #: How messages name the database ("PostgreSQL").
    title: str
    #: The planner modes it has.
    modes: frozenset[Mode]

    def parse(self, raw: Any, sql: str | None = None) -> Plan:
        """Its EXPLAIN output as a :class:`Plan` (nodes in the model's vocabulary).

        ``sql`` is the statement that was explained: a vendor whose plans name aliases
        rather than tables, or leave out the conditions and the LIMIT, reads them there."""
        ...

    def check_mode(self, mode: Mode) -> None:
        """A usage error for a mode this database does not have, naming it."""
        ...

    def mode_text(self, mode: Mode) -> str:
        """The failure text's line saying what ``mode`` did to the planner."""
        ...

    # -- node vocabulary -------------------------------------------------------------
    def check_node_types(self, names: Iterable[str]) -> None:
        """A usage error for a ``forbid=`` name the vendor never prints."""
        ...

    def matches_type(self, node: PlanNode, name: str) -> bool:
        """Whether ``node`` is of the node type ``name`` (a ``forbid=`` entry)."""
        ...

    def is_system_table(self, name: str) -> bool:
        """The vendor's own catalog tables: no project index serves them."""
        ...

    def is_table_scan(self, node: PlanNode) -> bool:
        """A read of the whole table in storage order."""
        ...

    def walked_index(self, node: PlanNode) -> str | None:
        """The index ``node`` reads whole, without searching it, or None."""
        ...

    def filtered_full_reads(self, plan: Plan, allow: Collection[str]) -> list[PlanNode]:
        """Tables read whole (in storage or index order) with a Filter."""
        ...

    def skips_leading_key(self, node: PlanNode, info: IndexInfo) -> bool:
        """A scan that searches ``info`` without its leading key, which reads it whole."""
        ...

    def ordered_walk(self, node: PlanNode) -> bool:
        """An index walked whole whose rows reach a LIMIT in the index's order (with the
        statement's ORDER BY, the walk delivers it and stops early)."""
        ...

    def walks_to_limit(self, node: PlanNode) -> bool:
        """Whether an index scan's rows reach the statement's own LIMIT in the index's order,
        whatever its Index Cond (one that skips the leading key walks the whole index)."""
        ...

    def heap_of(self, node: PlanNode) -> PlanNode | None:
        """The node that reads the table for an index scan that does not (a bitmap's)."""
        ...

    # -- serve rules -----------------------------------------------------------------
    def index_scans(self, plan: Plan, names: Collection[str]) -> list[PlanNode]:
        """Every scan of an index named in ``names``, in plan order."""
        ...

    def plainly_served(self, node: PlanNode, info: IndexInfo) -> bool:
        """A fast, sure yes: the scan searches the leading key and nothing is filtered."""
        ...

    def serve(
        self,
        node: PlanNode,
        info: IndexInfo,
        column_types: Mapping[str, str] | None = None,
    ) -> Service:
        """How one scan of ``info`` served the query, read from the node's conditions."""
        ...

    def conjuncts(self, text: str | None) -> list[str]:
        """The AND-ed parts of a condition as the vendor prints it."""
        ...

    def scan_place(self, node: PlanNode) -> str | None:
        """Where a scan sits among others of its index (a UNION branch, an InitPlan, an
        alias), or None for the statement's own scan of its table."""
        ...

    def join_key(self, node: PlanNode, info: IndexInfo) -> str | None:
        """Where another node compares the index's leading key with another relation's
        column, when the scan itself does not search it (a join the planner did not turn
        into a parameterised scan of the index), or None."""
        ...

    def parameterised_search(self, node: PlanNode, info: IndexInfo, sql: str) -> str | None:
        """The condition a parameterised scan of ``info`` would search its leading key by
        (``"customer_id = upstream_customer.id"``) when the plan proves the planner can
        build that scan whatever the statistics (an equi-join of the bare key with another
        table's column, on a side of the join a parameter can reach), or None. ``sql`` is
        the statement, for what the plan cannot tell (whether it has subqueries kept whole)."""
        ...

    def join_settings(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        """The planner settings to ask again with, in order, when the leading key is only
        in a join: each (statements for ``Catalog.replan``, how a message names them)."""
        ...

    # -- order -----------------------------------------------------------------------
    def sorts_above(self, node: PlanNode) -> tuple[PlanNode, ...]:
        """The nodes that sort ``node``'s rows on their way up (every kind of sort)."""
        ...

    def has_order_by(self, sql: str) -> bool:
        """Whether the statement itself has an ORDER BY (the plan cannot say)."""
        ...

    def order_settings(self) -> tuple[str, ...]:
        """Planner settings that discourage sorting, for asking whether an index can
        deliver a statement's ORDER BY (for ``Catalog.replan``); () where there are none."""
        ...

    def feeds_a_subplan(self, node: PlanNode) -> str | None:
        """Where ``node``'s rows go when that is not the statement's own rows (a correlated
        subquery's or a CTE's plan: its order never reaches the statement's ORDER BY), as
        the plan names it; None for a scan of the statement's own rows."""
        ...

    # -- suggestions -----------------------------------------------------------------
    def suggest(self, offenses: Iterable[Offense], catalog: Catalog) -> tuple[Suggestion, ...]:
        """An index (tried where the vendor can) or the reason for none, per full read."""
        ...

    def existing_cover(self, node: PlanNode, catalog: Catalog) -> str | None:
        """An existing index that already serves ``node``'s Filter, said as a fact."""
        ...

    # -- texts only the vendor can write ----------------------------------------------
    def recheck(
        self, verdict: Verdict, queries: Sequence[ExplainedQuery], catalog: Catalog, judge: Judge
    ) -> Verdict:
        """A failed verdict asked again where the mode calls for it (generic plans)."""
        ...

    def read_whole_text(self, table: str, index: str, mode: Mode) -> str:
        """The sentence for a plan in ``mode`` that read ``table`` whole instead of ``index``."""
        ...

    def special_text(self, verdict: Verdict, verbose: bool) -> list[str] | None:
        """The text of a verdict kind only this dialect makes, or None."""
        ...

    def cause_hints(
        self, service: Service, column_types: Mapping[str, str] | None = None
    ) -> list[str]:
        """One line of advice per key column whose condition the index could not search."""
        ...

    def service_hints(
        self, service: Service, column_types: Mapping[str, str] | None = None
    ) -> list[str]:
        """The advice for a scan that did not serve the query."""
        ...

    def order_lines(self, service: Service, info: IndexInfo) -> list[str]:
        """What ``ordered=`` found wrong with a scan's order, and the fix."""
        ...

    def predicate_gaps(self, info: IndexInfo, conditions: Iterable[str]) -> list[str]:
        """What the query says instead of each part of a partial index's predicate."""
        ...
