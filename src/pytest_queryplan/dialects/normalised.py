"""What every dialect whose plans are *normalised* into the model's vocabulary shares.

SQLite and MariaDB print their plans in their own words; their ``plan.py`` turns them into
nodes with the model's keys (a full read of a table is a "Seq Scan", a search of an index
an "Index Scan" with an "Index Cond", the conditions checked row by row a "Filter"). Once
normalised, the serve rules are the model's: the same reading of Index Cond and Filter
text PostgreSQL's dialect uses (``postgresql.conditions``), the same full reads. What stays
the vendor's own: the names ``forbid=`` takes (its own plan words), the modes, the texts,
and the suggestion's SQL (``proposal.py``). Pure: stdlib only.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.plan.tree import Plan
from pytest_queryplan.dialects import proposal
from pytest_queryplan.dialects.postgresql.rules import ModelRules
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.dialect import Catalog, Judge
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.checks.service import Cause, Service
    from pytest_queryplan.core.checks.verdict import Offense, Suggestion, Verdict
    from pytest_queryplan.core.plan.node import PlanNode

#: The model's name for a table read whole in storage order.
TABLE_SCAN = "Seq Scan"


class NormalisedDialect(ModelRules):
    """The base of a dialect whose ``plan.py`` normalises its EXPLAIN output."""

    name: ClassVar[str]
    title: ClassVar[str]
    modes: ClassVar[frozenset[Mode]]
    #: The plan words ``forbid=`` takes -> which normalised nodes they name.
    node_names: ClassVar[Mapping[str, Callable[[PlanNode], bool]]]
    #: mode -> what it did to the planner, for the failure text (names the database).
    mode_texts: ClassVar[Mapping[Mode, str]]
    #: The vendor's own catalog tables' prefix.
    system_prefix: ClassVar[str]
    #: How the suggestion's SQL is written, and whether it can be tried.
    writer: ClassVar[proposal.Writer]

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"

    def normalise(self, raw: Any, sql: str | None) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def parse(self, raw: Any, sql: str | None = None) -> Plan:
        return Plan(self.normalise(raw, sql))

    def check_mode(self, mode: Mode) -> None:
        if mode not in self.modes:
            have = ", ".join(repr(m.value) for m in Mode if m in self.modes)
            raise QueryPlanUsageError(
                f"mode {mode.value!r} does not exist on {self.title}: it has {have}. "
                f"({mode.value!r} is PostgreSQL's: the plan of a prepared statement.)"
                if mode == Mode.GENERIC
                else f"mode {mode.value!r} does not exist on {self.title}: it has {have}."
            )

    def mode_text(self, mode: Mode) -> str:
        return self.mode_texts[mode]

    # -- node vocabulary -------------------------------------------------------------
    def check_node_types(self, names: Iterable[str]) -> None:
        known = self.node_names
        lowered = {name.lower(): name for name in known}
        for name in names:
            if name in known:
                continue
            close = [lowered[m] for m in difflib.get_close_matches(name.lower(), lowered, n=3)]
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise QueryPlanUsageError(
                f"forbid: {name!r} is not a word {self.title}'s plans use, so it would never "
                f"match.{hint} {self.title}'s: {', '.join(repr(k) for k in known)}."
            )

    def matches_type(self, node: PlanNode, name: str) -> bool:
        test = self.node_names.get(name)
        return test is not None and test(node)

    def is_system_table(self, name: str) -> bool:
        return name.startswith(self.system_prefix)

    def is_table_scan(self, node: PlanNode) -> bool:
        return node.node_type == TABLE_SCAN

    # -- serve rules -----------------------------------------------------------------
    def heap_of(self, node: PlanNode) -> PlanNode | None:
        return None  # no bitmap scans: an index scan reads its rows itself

    def join_key(self, node: PlanNode, info: IndexInfo) -> str | None:
        return None  # no planner setting to ask again with: the first answer stands

    def parameterised_search(self, node: PlanNode, info: IndexInfo, sql: str) -> str | None:
        return None  # read only from a plan the server gave: no reasoning about paths

    def join_settings(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        return ()

    def order_settings(self) -> tuple[str, ...]:
        return ()  # no setting that discourages a filesort or a temp B-tree

    # -- suggestions -----------------------------------------------------------------
    def suggest(self, offenses: Iterable[Offense], catalog: Catalog) -> tuple[Suggestion, ...]:
        return proposal.suggest_for(offenses, catalog, self.writer)

    def existing_cover(self, node: PlanNode, catalog: Catalog) -> str | None:
        return proposal.existing_cover(node, catalog, self.writer)

    # -- texts -----------------------------------------------------------------------
    def recheck(
        self, verdict: Verdict, queries: Sequence[ExplainedQuery], catalog: Catalog, judge: Judge
    ) -> Verdict:
        return verdict

    def read_whole_text(self, table: str, index: str, mode: Mode) -> str:
        if mode != Mode.FORCED:
            return (
                f"{self.title} read {table} whole. On a small test table that may be the "
                "right choice; use mode='forced' to ask whether the index *can* serve the "
                "query, or load realistic volume."
            )
        return (
            f"Even in forced mode {self.title} read {table} whole: no index can serve this "
            f"query's conditions, {index} included."
        )

    def special_text(self, verdict: Verdict, verbose: bool) -> list[str] | None:
        return None

    def cause_hints(
        self, service: Service, column_types: Mapping[str, str] | None = None
    ) -> list[str]:
        lead = service.keys[0] if service.keys else None
        hints = []
        for cause in service.causes:
            if cause.kind == "other" and lead and lead not in service.keys_in_cond:
                hints.append(
                    f"{cause.column}: the index starts with {lead}, which the query "
                    f'does not constrain, so "{cause.condition}" cannot search it: an index is '
                    "searched from its leading key. Filter on it too, or index "
                    f"{cause.column} first."
                )
            else:
                hints.append(self.cause_hint(cause))
        return hints

    def cause_hint(self, cause: Cause) -> str:
        """One line of advice for a key column's condition the index could not search."""
        said = f'"{cause.condition}"'
        if cause.kind == "function":
            return (
                f"{cause.column}: {cause.detail}() on the column, {said}, is checked row by "
                f"row: the index holds {cause.column} itself. {self.function_fix(cause)}"
            )
        if cause.kind == "pattern":
            return f"{cause.column}: the pattern match {said} is checked row by row. " + (
                self.pattern_fix(cause)
            )
        if cause.kind == "operator":
            return (
                f"{cause.column}: {said} asks for every value but one; an index cannot look "
                "that up. Filter on the values wanted instead."
            )
        if cause.kind == "cast":
            return (
                f"{cause.column}: the column is converted ({cause.detail}) before it is "
                "compared, so the index on the column itself cannot search it: compare with "
                "a value of the column's own type."
            )
        return f"{cause.column}: {said} is checked row by row, not searched in the index."

    def function_fix(self, cause: Cause) -> str:  # pragma: no cover - each dialect says
        raise NotImplementedError

    def pattern_fix(self, cause: Cause) -> str:  # pragma: no cover - each dialect says
        raise NotImplementedError

    def service_hints(
        self, service: Service, column_types: Mapping[str, str] | None = None
    ) -> list[str]:
        lines = self.cause_hints(service, column_types)
        if service.full_walk and not service.ordered_limit and not service.partial:
            filtered = " and every row filtered" if service.filter else ""
            lines.append(
                f"no Index Cond: {service.index_name} was read whole{filtered}, in index "
                "order, not searched: the query's conditions do not start with the index's "
                f"leading key ({service.keys[0] if service.keys else '?'})."
            )
        return lines

    def predicate_gaps(self, info: IndexInfo, conditions: Iterable[str]) -> list[str]:
        return []
