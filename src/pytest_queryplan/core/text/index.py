"""Failure texts of the index checks: the index is missing, not used, only partly used,
or the block never read its table. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.text.blocks import (
    count,
    dialect_of,
    keys_text,
    mode_line,
    near_misses,
    queries_text,
    suggestion_lines,
)
from pytest_queryplan.core.text.sql import collapse, short_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.dialect import Dialect
    from pytest_queryplan.core.checks.verdict import Verdict
    from pytest_queryplan.core.plan.tree import Plan


def missing_index(verdict: Verdict, verbose: bool) -> list[str]:
    """The named index is not in the database: never migrated here, or dropped."""
    name, tables, existing = verdict.check.name, verdict.tables_read, verdict.existing
    aliases = sorted({o.query.using for o in verdict.offenses})
    where = f" (alias {', '.join(repr(a) for a in aliases)})" if aliases else ""
    lines = [
        f'Index "{name}" does not exist in this database{where}: the migration that creates'
        " it has not run in the test database, or something dropped it.",
        mode_line(verdict),
    ]
    if existing:
        lines.append(f"Indexes on the tables the query reads ({', '.join(tables)}):")
        lines += [f"    {info.name}: {info.definition}" for info in existing]
    elif tables:
        lines.append(f"The tables the query reads ({', '.join(tables)}) have no indexes.")
    close = near_misses(name, (info.name for info in existing))
    if close:
        lines.append(f"Did you mean: {', '.join(close)}?")
    lines.append(
        "Hint: check the name in Meta.indexes, and that the migration creating it has run "
        "in the test database."
    )
    return lines + queries_text(verdict.offenses, verbose)


def conditions_on(plan: Plan, table: str) -> list[str]:
    found = []
    for node in plan.nodes():
        if node.relation_name == table or (
            node.parent is not None and node.parent.relation_name == table
        ):
            found += [c for c in (node.index_cond, node.recheck_cond, node.filter) if c]
    return found


def diagnosis(
    info: IndexInfo,
    plans: Sequence[Plan],
    mode: Mode,
    dialect: Dialect,
    column_types: Mapping[str, str] | None = None,
) -> list[str]:
    """Why the planner may have passed the index over, from what the plans show."""
    reading = [plan for plan in plans if info.table in plan.tables]
    if not reading:
        read = sorted({table for plan in plans for table in plan.tables})
        return [
            f'"{info.name}" is an index on {info.table}, which the query does not read '
            f"(it reads: {', '.join(read) or 'no table'}).",
            "Hint: check that the assertion names the index of the table this query filters.",
        ]
    conditions = [c for plan in reading for c in conditions_on(plan, info.table)]
    gaps = dialect.predicate_gaps(info, conditions) if info.is_partial else []
    if gaps:
        return [
            f'"{info.name}" is a partial index: it covers only rows of {info.table} '
            f"WHERE {info.predicate}.",
            "The query's conditions on that table do not imply this predicate, so "
            f"{dialect.title} cannot use the index for it, whatever the data volume:",
            *(f"    {gap}" for gap in gaps),
            "Hint: add the index's predicate to the query's WHERE clause (in Django, a "
            f".filter(...) that implies: {info.predicate}), or assert an index that serves "
            "this query.",
        ]
    lines = []
    seq = [n for plan in reading for n in plan.nodes() if dialect.is_table_scan(n)]
    used = sorted({n.index_name for plan in reading for n in plan.nodes() if n.index_name})
    # A Filter on the index's own key columns that it could not search: say why.
    causes = [h for n in seq for h in dialect.cause_hints(dialect.serve(n, info), column_types)]
    if seq and mode == Mode.FORCED:
        lines.append(dialect.read_whole_text(info.table, info.name, mode))
        if causes:
            lines.append(f"{info.name} is {info.definition.split(' USING ', 1)[-1]}.")
            return lines + [f"Hint: {hint}" for hint in causes]
    elif seq:
        lines.append(dialect.read_whole_text(info.table, info.name, mode))
    elif used:
        lines.append(f"The planner preferred {', '.join(used)} over {info.name}.")
    lines.append(
        f"{info.name} is {info.definition.split(' USING ', 1)[-1]}. Hint: an index serves a "
        "query when its leading columns are in the WHERE clause (or the ORDER BY matches)."
    )
    return lines


def index_not_used(verdict: Verdict, verbose: bool) -> list[str]:
    """The index exists but the plan(s) did not scan it (in one query, or in a block's)."""
    dialect = dialect_of(verdict)
    info = verdict.index
    assert info is not None
    check, offenses = verdict.check, verdict.offenses
    if not check.block:
        head = f'Expected the query to use index "{info.name}", but the planner did not.'
    elif check.every:
        head = (
            f'Expected every query on {info.table} to use index "{info.name}"; '
            f"{len(offenses)} of {check.ran}'s queries on it did not."
        )
    else:
        head = (
            f'Expected a query in {check.ran} to use index "{info.name}"; none of its '
            f"{count(len(offenses), 'query', 'queries')} on {info.table} did "
            f"({verdict.total} in all)."
        )
    plans = [o.query.plan for o in offenses if o.query.plan is not None]
    mode = Mode(offenses[0].query.mode) if offenses else Mode.FORCED
    lines = [head, mode_line(verdict), ""]
    lines += diagnosis(info, plans, mode, dialect, verdict.column_types)
    for name, why in verdict.kept:
        lines.append(f"(Forced mode could not set the competing index {name} aside: {why})")
    lines += suggestion_lines(verdict)
    return lines + queries_text(offenses, verbose)


def no_query_on_table(verdict: Verdict) -> list[str]:
    info = verdict.index
    assert info is not None
    queries = verdict.queries
    lines = [
        f'Expected {verdict.check.ran} to use index "{info.name}", but it ran no query on '
        f"{info.table} ({count(len(queries), 'query', 'queries')} in all).",
    ]
    for query in queries[:10]:
        read = ", ".join(sorted(query.plan.tables)) if query.plan else "not explained"
        lines.append(f"    {short_sql(query.sql)}  [{read}]")
    if len(queries) > 10:
        lines.append(f"    ... and {len(queries) - 10} more")
    lines.append(
        "Hint: the code path may be served from a cache, use another database alias "
        "(using=...), or never reach the database."
    )
    return lines


def partly_used(verdict: Verdict, verbose: bool) -> list[str]:
    """The index was scanned but did not serve: key columns left to a Filter, a whole walk,
    or not as the check asked (its order re-sorted, a key in ``keys=`` not searched)."""
    info, check = verdict.index, verdict.check
    assert info is not None
    dialect = dialect_of(verdict)
    who = "the query"
    if check.block:
        who = "every query on its table" if check.every else f"a query in {check.ran}"
    if verdict.strays and not verdict.services:
        head = (
            f'Expected {who} to be served by index "{info.name}" on every partition it '
            "reads, but a partition was read without it."
        )
    elif all(found.narrowed and not found.skips_leading_key for found in verdict.services):
        asked = [
            *(["deliver its ORDER BY (ordered=True)"] if getattr(check, "ordered", False) else []),
            *(["search its keys (keys=...)"] if getattr(check, "keys", None) else []),
        ]
        head = (
            f'Expected index "{info.name}" to serve {who} and {" and ".join(asked)}, but '
            "the planner's scan of it did not."
        )
    else:
        head = (
            f'Expected {who} to be served by index "{info.name}", but the planner only '
            "scanned it: rows the index should have narrowed were read and checked one by one."
        )
    lines = [
        head,
        mode_line(verdict),
        "",
        f"{info.name} is {info.definition.split(' USING ', 1)[-1]}.",
    ]
    seen: set[tuple[str, str, str, str]] = set()
    for found in verdict.services:
        key = (found.index_cond or "", found.filter or "", found.node.node_type, found.place or "")
        if key in seen:
            continue
        seen.add(key)
        where = f" ({found.place})" if found.place else ""
        lines.append(
            f"{found.node.node_type} on {found.index_name}{where}: the Index Cond searched "
            f"{keys_text(found.keys_in_cond)}; left to the Filter: "
            f"{keys_text(found.keys_in_filter)}."
        )
        if found.index_cond:
            lines.append(f"    Index Cond: {collapse(found.index_cond)}")
        if found.filter:
            lines.append(f"    Filter: {collapse(found.filter)}")
        if found.unordered_limit:
            lines.append(
                "    No Index Cond: the whole index was read under a LIMIT, but the statement "
                "has no ORDER BY (as .exists() or an unordered [:1] sends): any row would do, "
                "so the walk delivered no order the query asked for."
            )
        elif found.full_walk and not found.ordered_limit and not found.partial:
            lines.append(
                "    No Index Cond: the whole index was read, and no ORDER BY under a LIMIT "
                "made that worthwhile."
            )
        if found.skips_leading_key:
            lines.append(
                f"    The Index Cond does not use the leading key {found.keys[0]}: a btree is "
                "then read whole (or skipped through), not searched."
            )
        if found.join_condition:
            lead = found.keys[0]
            if found.join_searchable:
                lines.append(
                    f"    {lead} is compared only in a join, in {found.join_condition}: a"
                    f" parameterised scan of {found.index_name} could search it"
                    f" ({found.join_searchable}), but what else the scan left still counts."
                )
            else:
                lines.append(
                    f"    {lead} is compared only in a join, in {found.join_condition}, where"
                    f" no scan of {found.index_name} can take it as a parameter (the join"
                    " keeps every row of this side, as an outer join's preserved side does,"
                    f" or {lead} is cast or wrapped there): filter on {lead} itself, or join"
                    " on the bare column."
                )
            if found.retried_with:
                lines.append(f"    Asked again with {found.retried_with}: no better plan.")
        if found.keys_unsearched:
            lines.append(
                f"    keys=: the Index Cond narrowed by {keys_text(found.keys_in_cond)}; not "
                f"searched: {keys_text(found.keys_unsearched)} (used, if at all, only outside "
                "the scan: a Filter, an aggregate's FILTER, the select list)."
            )
        lines += [f"    {line}" for line in dialect.order_lines(found, info)]
        hints = dialect.service_hints(found, verdict.column_types)
        lines += [f"Hint: {hint}" for hint in hints]
    for mark in verdict.strays:
        node = mark.node
        alias = f" (alias {node.alias})" if node.alias and node.alias != node.relation_name else ""
        how = "sequentially" if mark.reason == "seq-scan" else f"with {mark.index}"
        lines.append(
            f"Partition {node.relation_name}{alias} was read {how}, not with an index "
            f"attached to {info.name}: every partition the query reads must use it."
        )
        if mark.detail == "none-attached":
            lines.append(
                f"    {info.name} has no index attached on {node.relation_name} (an index "
                "created ON ONLY the parent, not attached everywhere): create one there and "
                "attach it to this index tree's index on the partition's own parent table: "
                f"ALTER INDEX {info.name} ATTACH PARTITION <the new index> where that parent "
                f"is {info.table}; on a sub-partition, the parent partition's index (PostgreSQL "
                "attaches one level at a time)."
            )
    if check.strict:
        lines.append(
            "(strict check: pass strict=False to accept any scan of the index, as before.)"
        )
    return lines + queries_text(verdict.offenses, verbose)
