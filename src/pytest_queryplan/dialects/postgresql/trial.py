"""Index suggestions that are proven, or not made.

For each full read a failure points at, ``suggest.propose`` writes the index that would
serve its Filter (or says why none would). Before it is shown, the index is created
inside the rolled-back savepoint and the query explained again (``Catalog.replan``): only
an index the planner then scans with an Index Cond is suggested, marked verified; one it
passes over becomes the reason no index is suggested.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.checks.verdict import FULL_READS, Reason
from pytest_queryplan.dialects.postgresql.expressions import quote
from pytest_queryplan.dialects.postgresql.rules import sorts_above
from pytest_queryplan.dialects.postgresql.suggest import (
    IndexKey,
    IndexSuggestion,
    NoSuggestion,
    boolean_advice,
    propose,
)

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.dialect import Catalog
    from pytest_queryplan.core.checks.verdict import Offense
    from pytest_queryplan.core.plan.tree import PlanNode


@dataclass(frozen=True)
class Suggested:
    """An index suggestion and how far it was proven: ``verified`` when the planner used
    it; otherwise ``untried`` says why it could not be tried."""

    suggestion: IndexSuggestion
    verified: bool
    untried: str = ""
    #: The Filter it answers, as the plan printed it.
    condition: str = ""
    #: An ordered walk's suggestion: the index must also deliver the ORDER BY.
    ordered: bool = False

    @property
    def table(self) -> str:
        return self.suggestion.table

    def render(self) -> str:
        text = self.suggestion.render(verified=self.verified, ordered=self.ordered)
        return f"{text}\n    (not tried: {self.untried})" if self.untried else text


def _proposal(node: PlanNode, catalog: Catalog) -> IndexSuggestion | NoSuggestion:
    table, condition = node.relation_name or "", node.filter or ""
    return propose(
        table,
        condition,
        column_types=catalog.column_types(table),
        field_names=catalog.field_names(table),
        existing=catalog.indexes_on([table]),
        names=catalog.index_names,
        alias=node.alias,
    )


def existing_cover(node: PlanNode, catalog: Catalog) -> str | None:
    """The existing index that already serves ``node``'s Filter, said as a fact, or None.

    An index walked whole with a Filter while such an index exists is the planner's choice
    for a small test table (forced mode leaves it only index paths, and one of them reads
    the whole table in order), not a query that lost its index.
    """
    if not node.relation_name or not node.filter:
        return None
    found = _proposal(node, catalog)
    if isinstance(found, NoSuggestion) and found.reason == "already-indexed":
        return found.detail
    return None


def suggest_for(offenses: Iterable[Offense], catalog: Catalog) -> tuple[object, ...]:
    """One proven suggestion (or reason for none) per distinct (table, filter) read whole
    in forced mode. Natural mode suggests nothing: a small table is rightly read whole."""
    found: dict[tuple[str, str], object] = {}
    for offense in offenses:
        query = offense.query
        if query.mode != Mode.FORCED or query.plan is None:
            continue
        for mark in offense.marks:
            node = mark.node
            table, condition = node.relation_name, node.filter
            ordered = mark.reason == Reason.ORDERED_WALK
            if (mark.reason not in FULL_READS and not ordered) or not table or not condition:
                continue
            if (table, condition) in found:
                continue
            proposal = _proposal(node, catalog)
            if isinstance(proposal, NoSuggestion) and proposal.reason == "boolean-only":
                proposal = _with_statistics(proposal, node, catalog)
            if ordered and isinstance(proposal, IndexSuggestion):
                proposal = _then_order(proposal, mark.index or "", catalog)
            if isinstance(proposal, IndexSuggestion):
                proposal = _tried(proposal, offense, catalog, ordered)
            found[(table, condition)] = replace(proposal, condition=condition)
    return tuple(found.values())


def _with_statistics(no: NoSuggestion, node: PlanNode, catalog: Catalog) -> NoSuggestion:
    """A boolean filter's advice with the planner's estimates: rows kept against the
    table's rows (``pg_class.reltuples``, when the table has statistics)."""
    table_rows = getattr(catalog, "table_rows", None)
    total = table_rows(no.table) if table_rows is not None else None
    kept = node.raw.get("Plan Rows")
    if total is None or kept is None:
        return no
    return replace(no, detail=boolean_advice(node.filter or "", float(kept), total))


def _then_order(
    suggestion: IndexSuggestion, walked: str, catalog: Catalog
) -> IndexSuggestion | NoSuggestion:
    """For an index walked in the ORDER BY under a LIMIT: the Filter's keys, then the walked
    index's keys (the order it delivered), so one search finds the rows in that order."""
    info = next(iter(catalog.index_info([walked])), None)
    if info is None or suggestion.method != "btree" or info.method != "btree":
        return suggestion
    fields = catalog.field_names(suggestion.table)
    have = {key.column for key in suggestion.keys}
    extra = tuple(IndexKey(c, None, fields.get(c)) for c in info.columns if c not in have)
    if not extra or any(not c.isidentifier() for c in info.columns):
        return suggestion  # an expression key: no plain column to add
    keys = (*suggestion.keys, *extra)
    signature = (
        suggestion.table,
        "btree",
        tuple((k.column, k.opclass, k.expression) for k in keys),
    )
    labels = [k.field or k.column for k in keys]
    existing = [i.name for i in catalog.indexes_on([suggestion.table])]
    name = catalog.index_names.name_for(
        signature, suggestion.table, labels, "idx", reserved=existing
    )
    return replace(suggestion, keys=keys, name=name)


#: Raised (inside the savepoint) when the new index cannot be used in this transaction.
_CHECK_XMIN = (
    "DO $$BEGIN IF (SELECT indcheckxmin FROM pg_index WHERE indexrelid = '{name}'::regclass) "
    "THEN RAISE EXCEPTION 'queryplan: indcheckxmin'; END IF; END$$"
)
_UNUSABLE = (
    "PostgreSQL cannot use an index inside the transaction that created it after the "
    "same transaction changed rows of its table (pg_index.indcheckxmin)"
)


def _tried(
    suggestion: IndexSuggestion, offense: Offense, catalog: Catalog, ordered: bool = False
) -> object:
    create = [
        # A deferred foreign-key check the test queued would make CREATE INDEX refuse
        # ("pending trigger events"); run it now, inside the savepoint only.
        "SET CONSTRAINTS ALL IMMEDIATE",
        suggestion.as_sql().replace(" CONCURRENTLY", "", 1),  # not inside a transaction
        # An index the planner may not use yet must not read as one it declined.
        _CHECK_XMIN.format(name=quote(suggestion.name)),
    ]
    try:
        plan = catalog.replan(offense.query, create=create)
    except Exception as exc:  # noqa: BLE001 - a lock not granted in time, for one
        reason = str(exc).splitlines()[0].removeprefix("PostgreSQL could not EXPLAIN the query: ")
        if "queryplan: indcheckxmin" in reason:
            reason = _UNUSABLE
        return Suggested(suggestion, verified=False, untried=reason, ordered=ordered)
    scans = [node for node in plan.nodes() if node.index_name == suggestion.name]
    # For an ordered walk, proven only when the new index also delivers the order: no sort
    # re-orders what it found.
    if any(node.index_cond and not (ordered and sorts_above(node)) for node in scans):
        return Suggested(suggestion, verified=True, ordered=ordered)
    return NoSuggestion(
        suggestion.table,
        "planner-declined",
        f"{suggestion.as_sql()} was created inside the rolled-back savepoint, and the "
        "planner still did not search it",
    )
