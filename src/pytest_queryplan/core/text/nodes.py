"""Failure texts of the node checks: forbidden node types, tables read whole with a
Filter, and a ``tables=`` naming a table no query read. Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.verdict import Reason
from pytest_queryplan.core.text.blocks import (
    count,
    indent,
    mode_line,
    near_misses,
    queries_text,
    shown,
    suggestion_lines,
)
from pytest_queryplan.core.text.sql import format_sql, short_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.budget import Excess
    from pytest_queryplan.core.checks.verdict import Verdict
    from pytest_queryplan.core.report.nplusone import Repeat


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
    elif ordered_walks(verdict):
        head = (
            f"An index walked in order under a LIMIT, its rows checked one by one (a Filter,"
            f" or an Index Cond without its leading key){where}, in {len(offenses)} query"
            " plan(s): it delivers the ORDER BY and stops at the LIMIT, but where few rows"
            " match it reads far (a warning, not a failure)."
        )
    elif skipped_only(verdict):
        head = (
            f"Indexes read whole for a condition on a later key{where} in {len(offenses)}"
            " query plan(s): the Index Cond skips the index's leading key, so the whole index"
            " is read (or skipped through)."
        )
    else:
        head = (
            f"Tables read whole with a Filter{where} in {len(offenses)} query plan(s): a "
            "WHERE clause that no index served."
        )
    lines = [head, mode_line(verdict)] + queries_text(offenses, verbose)
    lines += suggestion_lines(verdict)
    if ordered_walks(verdict):
        lines += [
            "",
            "Hint: an index on the filtered columns followed by the ORDER BY's searches the "
            "rows and delivers them in order.",
        ]
    elif skipped_only(verdict):
        lines += [
            "",
            "Hint: an index that leads with the searched column serves the condition, or add"
            " a condition on the leading key.",
        ]
    elif verdict.kind == "filtered-full-read":
        lines += [
            "",
            "Hint: add an index for the filter, or exempt a table that is honestly read "
            "whole with allow_seq_scan=[...] (or ini queryplan_allow_seq_scan).",
        ]
    return lines


def skipped_only(verdict: Verdict) -> bool:
    """Whether every mark is an index searched without its leading key (no Filter)."""
    marks = [m for o in verdict.offenses for m in o.marks]
    return bool(marks) and all(m.reason == Reason.SKIPPED_LEADING_KEY for m in marks)


def ordered_walks(verdict: Verdict) -> bool:
    """Whether every mark is an ordered walk under a LIMIT (a warning's text)."""
    marks = [m for o in verdict.offenses for m in o.marks]
    return bool(marks) and all(m.reason == Reason.ORDERED_WALK for m in marks)


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


def repeat_text(repeat: Repeat, threshold: int, verbose: bool) -> str:
    """A repeated query (N+1): where it ran from, how often, the SQL, and the Django fix."""
    where = f" from {shown(repeat.call_site)}" if repeat.call_site is not None else ""
    fix = repeat.fix
    if repeat.kind == "row-by-row-write":
        head = (
            f"Row-by-row write (N+1): the same {repeat.verb} ran {repeat.count} times{where} "
            f"(the threshold is {threshold}): one statement per row where one would do."
        )
    else:
        head = (
            f"Repeated query (N+1): the same statement ran {repeat.count} times{where} "
            f"(the threshold is {threshold}): one query per row where one or two would do."
        )
    lines = [head]
    relation = repeat.relation
    if relation is not None:
        parents = (
            f"the {relation.owner} rows were loaded at {shown(relation.parents_at)}"
            if relation.parents_at is not None
            else f"the {relation.owner} rows were loaded before the test body (a fixture?)"
        )
        lines.append(
            f"Relation: {relation.owner}.{relation.name} ({relation.via}), read once per "
            f"{relation.owner} row, {repeat.count} times; {parents}."
        )
    lines += [
        "SQL (the first run):",
        indent(format_sql(repeat.sql)),
        f"Fix: {fix.text}" if fix.sure else f"Fix (a guess from the SQL): {fix.text}",
        "(For one test that means it: @pytest.mark.queryplan(allow_repeats=N); for the "
        "suite: ini queryplan_nplusone_threshold.)",
    ]
    return "\n".join(lines)


def budget_text(excess: Excess, where: str, argument: str) -> str:
    """A query budget exceeded: the count, then each statement shape with its call sites.
    ``where`` ran the queries; ``argument`` is how the budget was set (``max_queries``)."""
    lines = [
        f"Query budget exceeded: {where} ran {count(excess.count, 'query', 'queries')} on "
        f"{excess.using!r}, over its budget of {excess.limit} ({argument}; savepoints and "
        "other transaction control not counted).",
        "The queries, by statement shape (values taken out), most run first:",
    ]
    for found in excess.shapes:
        lines.append(f"  {found.count} x {short_sql(found.shape, 120)}")
        for site, runs in found.sites:
            at = shown(site) if site is not None else "(no call site in the project's code)"
            lines.append(f"        {runs} from {at}")
    lines.append(
        "Hint: a statement run once per row wants one query for all rows (select_related, "
        "prefetch_related, bulk_create, QuerySet.update()); if the work grew on purpose, "
        "raise the budget."
    )
    return "\n".join(lines)
