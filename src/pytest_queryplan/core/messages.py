"""Failure texts: what was expected, what the planner did, the SQL, the plan, and a hint.

Pure: :func:`render` turns any :class:`Verdict` into the text a failed check shows; every
source of checks (fixture, marker, guard) gets the same words for the same verdict.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks import SEQ_SCAN
from pytest_queryplan.core.modes import MODE_TEXT, Mode
from pytest_queryplan.core.sqltext import format_sql, short_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.catalog import IndexInfo
    from pytest_queryplan.core.plan import Plan, PlanNode
    from pytest_queryplan.core.verdict import Mark, Offense, Verdict

VERBOSE_HINT = "(run pytest with -v for costs, row estimates and all conditions)"


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def mark_text(mark: Mark) -> str:
    reason = mark.reason
    if reason == "seq-scan":
        return f"<-- sequential scan, not {mark.index}"
    if reason == "other-index":
        return f"<-- {mark.index} used instead"
    if reason == "forbidden":
        return f"<-- forbidden: {mark.index}"
    if reason == "filtered-seq-scan":
        return "<-- sequential scan with a Filter"
    if reason == "used":
        return f"<-- uses {mark.index}"
    return f"<-- {reason}"


def query_block(offense: Offense, verbose: bool) -> str:
    query = offense.query
    lines = ["SQL:", indent(format_sql(query.sql))]
    if query.plan is None:
        lines += ["Plan: could not be explained:", indent(query.error or "unknown error")]
    else:
        marks: dict[PlanNode, str] = {m.node: mark_text(m) for m in offense.marks}
        lines += ["Plan:", indent(query.plan.render(marks=marks, verbose=verbose))]
    return "\n".join(lines)


def _mode_line(verdict: Verdict) -> str:
    queries = [o.query for o in (*verdict.offenses, *verdict.proof)]
    mode = Mode(queries[0].mode) if queries else Mode.FORCED
    return f"({MODE_TEXT[mode]})"


def _queries(offenses: Sequence[Offense], verbose: bool) -> list[str]:
    lines = []
    for number, offense in enumerate(offenses, 1):
        lines.append("")
        if len(offenses) > 1:
            lines.append(f"Query {number} of {len(offenses)}:")
        lines.append(query_block(offense, verbose))
    return lines


def render(verdict: Verdict, verbose: bool = False) -> str:
    """The failure text of a verdict that did not pass; never raises, so no formatting
    problem can replace the verdict or skew a count."""
    try:
        return _render(verdict, verbose)
    except Exception as exc:  # noqa: BLE001 - the verdict stands, whatever its text
        return (
            f"The plan check failed ({verdict.kind}), and its failure text could not be "
            f"built ({type(exc).__name__}: {exc}); please report this."
        )


def _render(verdict: Verdict, verbose: bool) -> str:
    kind = verdict.kind
    if kind == "index-missing":
        lines = missing_index(verdict)
    elif kind == "no-query-on-table":
        lines = no_query_on_table(verdict)
    elif kind == "unknown-table":
        lines = unknown_table(verdict)
    elif kind in ("forbidden-node", "filtered-full-read"):
        lines = findings(verdict, verbose)
    else:
        lines = index_not_used(verdict, verbose)
    if not verbose and kind not in ("index-missing", "no-query-on-table", "unknown-table"):
        lines += ["", VERBOSE_HINT]
    return "\n".join(lines)


def near_misses(name: str, candidates: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)


def missing_index(verdict: Verdict) -> list[str]:
    """The named index is not in the database at all."""
    name, tables, existing = verdict.check.name, verdict.tables_read, verdict.existing
    lines = [f'Index "{name}" does not exist in this database.']
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
    return lines


def _predicate_implied(info: IndexInfo, conditions: Iterable[str]) -> bool:
    """Rough check: does any condition on the table mention the predicate's words?"""
    predicate = (info.predicate or "").strip("() ")
    words = {w for w in predicate.replace("(", " ").replace(")", " ").split() if w.isidentifier()}
    words -= {"AND", "OR", "NOT", "IS", "NULL", "true", "false"}
    text = " ".join(conditions)
    return bool(words) and all(word in text for word in words)


def conditions_on(plan: Plan, table: str) -> list[str]:
    found = []
    for node in plan.nodes():
        if node.relation_name == table or (
            node.parent is not None and node.parent.relation_name == table
        ):
            found += [c for c in (node.index_cond, node.recheck_cond, node.filter) if c]
    return found


def diagnosis(info: IndexInfo, plans: Sequence[Plan], mode: Mode) -> list[str]:
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
    if info.is_partial and not _predicate_implied(info, conditions):
        return [
            f'"{info.name}" is a partial index: it covers only rows of {info.table} '
            f"WHERE {info.predicate}.",
            "The query's conditions on that table do not imply this predicate, so PostgreSQL "
            "cannot use the index for it, whatever the data volume.",
            "Hint: add the index's predicate to the query's WHERE clause (in Django, a "
            f".filter(...) that implies: {info.predicate}), or assert an index that serves "
            "this query.",
        ]
    lines = []
    seq = [n for plan in reading for n in plan.nodes() if n.node_type == SEQ_SCAN]
    used = sorted({n.index_name for plan in reading for n in plan.nodes() if n.index_name})
    if seq and mode == Mode.FORCED:
        lines.append(
            f"Even with sequential scans discouraged the planner read {info.table} "
            f"sequentially: no index can serve this query's conditions, {info.name} included."
        )
    elif seq:
        lines.append(
            f"The planner read {info.table} sequentially. On a small test table that is "
            "often the right choice; use mode='forced' to ask whether the index *can* serve "
            "the query, or load realistic volume (with queryplan_analyze = true)."
        )
    elif used:
        lines.append(f"The planner preferred {', '.join(used)} over {info.name}.")
    lines.append(
        f"{info.name} is {info.definition.split(' USING ', 1)[-1]}. Hint: an index serves a "
        "query when its leading columns are in the WHERE clause (or the ORDER BY matches)."
    )
    return lines


def index_not_used(verdict: Verdict, verbose: bool) -> list[str]:
    """The index exists but the plan(s) did not scan it (in one query, or in a block's)."""
    info = verdict.index
    assert info is not None
    check, offenses = verdict.check, verdict.offenses
    if not check.block:
        head = f'Expected the query to use index "{info.name}", but the planner did not.'
    elif check.every:
        head = (
            f'Expected every query on {info.table} to use index "{info.name}"; '
            f"{len(offenses)} of the block's queries on it did not."
        )
    else:
        head = (
            f'Expected a query in the block to use index "{info.name}"; none of its '
            f"{count(len(offenses), 'query', 'queries')} on {info.table} did "
            f"({verdict.total} in all)."
        )
    plans = [o.query.plan for o in offenses if o.query.plan is not None]
    mode = Mode(offenses[0].query.mode) if offenses else Mode.FORCED
    lines = [head, _mode_line(verdict), ""]
    lines += diagnosis(info, plans, mode)
    for name, why in verdict.kept:
        lines.append(f"(Forced mode could not set the competing index {name} aside: {why})")
    for suggestion in verdict.suggestions:
        lines += ["", suggestion.render()]
    return lines + _queries(offenses, verbose)


def no_query_on_table(verdict: Verdict) -> list[str]:
    info = verdict.index
    assert info is not None
    queries = verdict.queries
    lines = [
        f'Expected the block to use index "{info.name}", but it ran no query on '
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


def findings(verdict: Verdict, verbose: bool) -> list[str]:
    """Forbidden node types, or filtered full reads, in the plans."""
    check, offenses = verdict.check, verdict.offenses
    tables = check.tables
    where = f" on {', '.join(tables)}" if tables else ""
    if verdict.kind == "forbidden-node":
        head = (
            f"Forbidden plan nodes ({', '.join(check.node_types)}){where} in "
            f"{len(offenses)} query plan(s)."
        )
    else:
        head = (
            f"Sequential scans with a Filter{where} in {len(offenses)} query plan(s): a WHERE "
            "clause that no index served."
        )
    lines = [head, _mode_line(verdict)] + _queries(offenses, verbose)
    for suggestion in verdict.suggestions:
        lines += ["", suggestion.render()]
    if verdict.kind == "filtered-full-read":
        lines += [
            "",
            "Hint: add an index for the filter, or exempt a table that is honestly read "
            "whole with allow_seq_scan=[...] (or ini queryplan_allow_seq_scan).",
        ]
    return lines


def unknown_table(verdict: Verdict) -> list[str]:
    """``tables=`` names a table no query read: the check could never have failed."""
    lines = []
    for table in verdict.unread:
        close = near_misses(table, verdict.tables_read)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        lines.append(f"tables=[...] names {table}, which none of the test's queries read.{hint}")
    lines.append(f"The queries read: {', '.join(verdict.tables_read) or 'no table'}.")
    lines.append("Hint: name the tables as the database calls them (Model._meta.db_table).")
    return lines
