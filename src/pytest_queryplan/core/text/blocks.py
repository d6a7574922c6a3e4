"""The pieces every failure text is made of: a query's SQL and marked plan, the mode line,
suggestions, counts. Pure; ``messages.py`` and its two siblings assemble them.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.checks.verdict import Reason
from pytest_queryplan.core.text.sql import format_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.dialect import Dialect
    from pytest_queryplan.core.checks.verdict import Mark, Offense, Verdict
    from pytest_queryplan.core.plan.tree import PlanNode
    from pytest_queryplan.core.report.callsite import CallSite


def verbose_hint(how: str = "run pytest with -v") -> str:
    """The last line of a terse failure: how to see the rest, in the runner's own words."""
    return f"({how} for costs, row estimates and all conditions)"


def shown(site: CallSite) -> str:
    """A call site with its path relative to the working directory when under it."""
    return str(site.relative_to(os.getcwd()))


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


#: What a plan line's mark says, by reason (``{index}``/``{detail}``: the mark's).
_MARK_TEXT = {
    Reason.SEQ_SCAN: "<-- sequential scan, not {index}",
    Reason.OTHER_INDEX: "<-- {index} used instead",
    Reason.FORBIDDEN: "<-- forbidden: {index}",
    Reason.FILTERED_SEQ_SCAN: "<-- sequential scan with a Filter",
    Reason.USED: "<-- uses {index}",
    Reason.PARAMETERISED: "<-- {index}: a parameterised scan of it can search {detail}"
    " (the planner drove from it on these statistics)",
    Reason.PARTLY_USED: "<-- {index} scanned, but a key column's condition left to the Filter",
    Reason.FILTER_LEFT: "<-- Filter checks {index} row by row",
    Reason.NOT_ASKED: "<-- {index} scanned, but not as the check asked",
    Reason.RESORTED: "<-- re-sorts the rows {index} delivered",
    Reason.SKIPPED_LEADING_KEY: "<-- {index} searched without its leading key {detail}: the"
    " whole index is read (or skipped through)",
    Reason.FULL_WALK: "<-- {index} read whole: no Index Cond",
    Reason.ORDERED_WALK: "<-- {index} walked in the ORDER BY's order up to the LIMIT,"
    " its rows checked one by one: it reads as far as it takes to find the rows",
    Reason.FILTERED_INDEX_WALK: "<-- whole index {index} walked with a Filter (no Index Cond)",
}


def mark_text(mark: Mark) -> str:
    template = _MARK_TEXT.get(mark.reason, "<-- {reason}")
    return template.format(index=mark.index, detail=mark.detail, reason=mark.reason)


def query_block(offense: Offense, verbose: bool) -> str:
    query = offense.query
    lines = []
    if query.site is not None:
        test = f" (test: {shown(query.test_site)})" if query.test_site is not None else ""
        lines.append(f"Run by: {shown(query.site)}{test}")
    lines += ["SQL:", indent(format_sql(query.sql))]
    if query.plan is None:
        lines += ["Plan: could not be explained:", indent(query.error or "unknown error")]
    else:
        marks: dict[PlanNode, str] = {m.node: mark_text(m) for m in offense.marks}
        lines += ["Plan:", indent(query.plan.render(marks=marks, verbose=verbose))]
    return "\n".join(lines)


def dialect_of(verdict: Verdict) -> Dialect:
    """The dialect that explained the verdict's queries (``checks.judge`` sets it)."""
    if verdict.dialect is None:
        raise ValueError(f"a {verdict.kind} verdict reached the renderer without its dialect")
    return cast("Dialect", verdict.dialect)


def mode_line(verdict: Verdict) -> str:
    queries = [o.query for o in (*verdict.offenses, *verdict.proof)]
    mode = Mode(queries[0].mode) if queries else Mode.FORCED
    return f"({dialect_of(verdict).mode_text(mode)})"


def queries_text(offenses: Sequence[Offense], verbose: bool) -> list[str]:
    lines = []
    for number, offense in enumerate(offenses, 1):
        lines.append("")
        runs = f" (run {offense.runs} times)" if offense.runs > 1 else ""
        if len(offenses) > 1:
            lines.append(f"Query {number} of {len(offenses)}{runs}:")
        elif runs:
            lines.append(f"The query{runs}:")
        lines.append(query_block(offense, verbose))
    return lines


def suggestion_lines(verdict: Verdict) -> list[str]:
    """The suggestions for the queries the text shows (a suggestion that names the Filter
    it answers is shown only with a query that has it)."""
    shown = {(m.node.relation_name, m.node.filter) for o in verdict.offenses for m in o.marks}
    lines = []
    for found in verdict.suggestions:
        condition = getattr(found, "condition", "")
        if condition and (found.table, condition) not in shown:
            continue
        lines += ["", found.render()]
    return lines


def near_misses(name: str, candidates: Iterable[str]) -> list[str]:
    """Only names close enough to be a typo of ``name``: an unrelated one misleads."""
    return difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.85)


def keys_text(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"
