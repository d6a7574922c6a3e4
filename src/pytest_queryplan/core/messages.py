"""Failure texts: what was expected, what the planner did, the SQL, the plan, and a hint.

Pure: every function takes plain data (plans, catalog facts) and returns a string.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pytest_queryplan.core.checks import SEQ_SCAN
from pytest_queryplan.core.sqltext import format_sql

if TYPE_CHECKING:
    from pytest_queryplan.backends.base import IndexInfo
    from pytest_queryplan.core.plan import Plan, PlanNode
    from pytest_queryplan.core.suggest import IndexSuggestion

MODE_TEXT = {
    "forced": "mode: forced, sequential scans discouraged with enable_seqscan = off",
    "natural": "mode: natural, the planner's own choice for the data as it is now",
}
VERBOSE_HINT = "(run pytest with -v for costs, row estimates and all conditions)"


class ExplainedQuery(Protocol):
    """One statement and its plan (or why it could not be explained): a CapturedQuery."""

    sql: str
    params: Any
    plan: Plan | None
    error: str | None


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _marks(plan: Plan, tables: Iterable[str], wanted: str) -> dict[PlanNode, str]:
    """Mark every node that reads one of ``tables`` without the wanted index."""
    tables = set(tables)
    marks: dict[PlanNode, str] = {}
    for node in plan.nodes():
        if node.relation_name not in tables or node.node_type == "ModifyTable":
            continue
        if node.node_type == SEQ_SCAN:
            marks[node] = f"<-- sequential scan, not {wanted}"
        elif node.index_name and node.index_name != wanted:
            marks[node] = f"<-- {node.index_name} used instead"
        elif node.node_type == "Bitmap Heap Scan":
            for child in node.children:
                if child.index_name and child.index_name != wanted:
                    marks[child] = f"<-- {child.index_name} used instead"
    return marks


def query_block(query: ExplainedQuery, marks_for: Iterable[str], wanted: str, verbose: bool) -> str:
    lines = ["SQL:", indent(format_sql(query.sql))]
    if query.plan is None:
        lines += ["Plan: could not be explained:", indent(query.error or "unknown error")]
    else:
        marks = _marks(query.plan, marks_for, wanted)
        lines += ["Plan:", indent(query.plan.render(marks=marks, verbose=verbose))]
    return "\n".join(lines)


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def near_misses(name: str, candidates: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)


def missing_index(name: str, tables: Sequence[str], existing: Sequence[IndexInfo]) -> str:
    """The named index is not in the database at all."""
    lines = [f'Index "{name}" does not exist in this database.']
    if existing:
        read = ", ".join(sorted(tables))
        lines.append(f"Indexes on the tables the query reads ({read}):")
        lines += [f"    {info.name}: {info.definition}" for info in existing]
    elif tables:
        lines.append(f"The tables the query reads ({', '.join(sorted(tables))}) have no indexes.")
    close = near_misses(name, (info.name for info in existing))
    if close:
        lines.append(f"Did you mean: {', '.join(close)}?")
    lines.append(
        "Hint: check the name in Meta.indexes, and that the migration creating it has run "
        "in the test database."
    )
    return "\n".join(lines)


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


def diagnosis(info: IndexInfo, plans: Sequence[Plan], mode: str) -> list[str]:
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
    lines = []
    if info.is_partial and not _predicate_implied(info, conditions):
        lines += [
            f'"{info.name}" is a partial index: it covers only rows of {info.table} '
            f"WHERE {info.predicate}.",
            "The query's conditions on that table do not imply this predicate, so PostgreSQL "
            "cannot use the index for it, whatever the data volume.",
            "Hint: add the index's predicate to the query's WHERE clause (in Django, a "
            f".filter(...) that implies: {info.predicate}), or assert an index that serves "
            "this query.",
        ]
        return lines
    seq = [n for plan in reading for n in plan.nodes() if n.node_type == SEQ_SCAN]
    used = sorted({n.index_name for plan in reading for n in plan.nodes() if n.index_name})
    if seq and mode == "forced":
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


def index_not_used(
    info: IndexInfo,
    queries: Sequence[ExplainedQuery],
    *,
    mode: str,
    verbose: bool,
    suggestion: IndexSuggestion | None = None,
    every: bool = False,
    block: bool = False,
    total: int = 1,
) -> str:
    """The index exists but the plan(s) did not scan it (in one query, or in a block's)."""
    if not block:
        head = f'Expected the query to use index "{info.name}", but the planner did not.'
    elif every:
        head = (
            f'Expected every query on {info.table} to use index "{info.name}"; '
            f"{len(queries)} of the block's queries on it did not."
        )
    else:
        head = (
            f'Expected a query in the block to use index "{info.name}"; none of its '
            f"{_count(len(queries), 'query', 'queries')} on {info.table} did "
            f"({total} in all)."
        )
    plans = [q.plan for q in queries if q.plan is not None]
    lines = [head, f"({MODE_TEXT.get(mode, mode)})", ""]
    lines += diagnosis(info, plans, mode)
    if suggestion is not None:
        lines += ["", suggestion.render()]
    for number, query in enumerate(queries, 1):
        lines.append("")
        if len(queries) > 1:
            lines.append(f"Query {number} of {len(queries)}:")
        lines.append(query_block(query, [info.table], info.name, verbose))
    if not verbose:
        lines += ["", VERBOSE_HINT]
    return "\n".join(lines)


def no_query_on_table(info: IndexInfo, queries: Sequence[ExplainedQuery]) -> str:
    lines = [
        f'Expected the block to use index "{info.name}", but it ran no query on '
        f"{info.table} ({_count(len(queries), 'query', 'queries')} in all).",
    ]
    for query in queries[:10]:
        read = ", ".join(sorted(query.plan.tables)) if query.plan else "not explained"
        lines.append(f"    {' '.join(query.sql.split())[:100]}  [{read}]")
    if len(queries) > 10:
        lines.append(f"    ... and {len(queries) - 10} more")
    lines.append(
        "Hint: the code path may be served from a cache, use another database alias "
        "(using=...), or never reach the database."
    )
    return "\n".join(lines)


def findings(
    queries: Sequence[ExplainedQuery],
    *,
    forbid: Sequence[str],
    tables: Sequence[str] | None,
    allow: Iterable[str],
    mode: str,
    verbose: bool,
    suggest: Callable[[PlanNode], IndexSuggestion | None] | None = None,
) -> str | None:
    """Forbidden node types (or, with no ``forbid``, filtered sequential scans) in the plans."""
    from pytest_queryplan.core.checks import filtered_seq_scans, forbidden_nodes

    allow = set(allow)
    blocks = []
    suggestions: list[str] = []
    for query in queries:
        if query.plan is None:
            continue
        if forbid:
            nodes = forbidden_nodes(query.plan, forbid, tables)
            marks = {node: f"<-- forbidden: {node.node_type}" for node in nodes}
        else:
            nodes = [
                node
                for node in filtered_seq_scans(query.plan, allow)
                if tables is None or node.relation_name in tables
            ]
            marks = {node: "<-- sequential scan with a Filter" for node in nodes}
            for node in nodes:
                found = suggest(node) if suggest else None
                if found is not None and found.render() not in suggestions:
                    suggestions.append(found.render())
        if nodes:
            blocks.append(
                "\n".join(
                    [
                        "SQL:",
                        indent(format_sql(query.sql)),
                        "Plan:",
                        indent(query.plan.render(marks=marks, verbose=verbose)),
                    ]
                )
            )
    if not blocks:
        return None
    where = f" on {', '.join(tables)}" if tables else ""
    if forbid:
        head = f"Forbidden plan nodes ({', '.join(forbid)}){where} in {len(blocks)} query plan(s)."
    else:
        head = (
            f"Sequential scans with a Filter{where} in {len(blocks)} query plan(s): a WHERE "
            "clause that no index served."
        )
    lines = [head, f"({MODE_TEXT.get(mode, mode)})"]
    for number, block in enumerate(blocks, 1):
        lines.append("")
        if len(blocks) > 1:
            lines.append(f"Query {number} of {len(blocks)}:")
        lines.append(block)
    for suggestion in suggestions:
        lines += ["", suggestion]
    if not forbid:
        lines += [
            "",
            "Hint: add an index for the filter, or exempt a table that is honestly read "
            "whole with allow_seq_scan=[...] (or ini queryplan_allow_seq_scan).",
        ]
    if not verbose:
        lines += ["", VERBOSE_HINT]
    return "\n".join(lines)
