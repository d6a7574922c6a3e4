"""Generic mode's second question: does the statement lose the index only once prepared?

A generic plan is made without the parameters' values. When an index check fails on one,
the cause is either the query itself (it would fail with its values too) or the missing
values (a partial index whose predicate column is bound as ``$n``, a LIKE pattern the
planner cannot turn into a range). Asking again in forced mode tells the two apart: the
verdict is then forced mode's own failure, or ``index-lost-when-prepared`` with both plans
as facts. Owns that re-check and what it finds in a generic plan; pure, and asks the
database only through :class:`Catalog`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.checks.verdict import Kind, Verdict
from pytest_queryplan.dialects.postgresql.conditions import conjuncts
from pytest_queryplan.dialects.postgresql.expressions import Expr, ParseError, parse, to_sql

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.dialect import Catalog
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.plan.tree import Plan

#: Failures a missing value can explain: the index exists and the query reads its table.
_RECHECKED = frozenset({"index-not-used", "index-partly-used"})
#: LIKE, ILIKE and regular expressions: searchable only through a constant prefix.
_PATTERN_OPERATORS = frozenset({"~~", "~~*", "~", "~*"})
_PARAMETER = re.compile(r"\$(\d+)")

Judge = Callable[[Sequence["ExplainedQuery"], "Catalog"], Verdict]


def recheck_with_values(
    verdict: Verdict, queries: Sequence[ExplainedQuery], catalog: Catalog, judge: Judge
) -> Verdict:
    """``verdict`` (a failed check on generic plans), or what forced mode says about the
    same queries: its own failure when the query fails with its values too (that comes
    first), else ``index-lost-when-prepared``: the offending generic plans, and as proof
    the forced plans that used the index.
    """
    if verdict.passed or verdict.kind not in _RECHECKED:
        return verdict
    generic = [o.query for o in verdict.offenses if o.query.mode == Mode.GENERIC]
    if not generic or any(q.plan is None for q in generic):
        return verdict
    with_values: dict[int, ExplainedQuery] = {}
    for query in generic:
        again = replace(query, plan=None, error=None, mode=Mode.FORCED.value)
        try:
            again.plan = catalog.replan(again)
        except Exception:  # noqa: BLE001 - the adapter's refusal: the generic verdict stands
            return verdict
        with_values[id(query)] = again
    forced = judge([with_values.get(id(q), q) for q in queries], catalog)
    if not forced.passed:
        return forced
    proven = {id(offense.query) for offense in forced.proof}
    lost = tuple(
        o
        for o in verdict.offenses
        if id(o.query) in with_values and id(with_values[id(o.query)]) in proven
    )
    return replace(
        verdict,
        kind=Kind.INDEX_LOST_WHEN_PREPARED,
        offenses=lost or verdict.offenses,
        proof=forced.proof,
        services=(),
        suggestions=(),
    )


@dataclass(frozen=True)
class Blocker:
    """A condition of the generic plan that needs a value the plan was made without.

    ``kind``: ``predicate`` (a partial index's predicate column bound as a parameter: the
    planner cannot prove the predicate) or ``pattern`` (a LIKE or regular expression on a
    key column, whose index range comes from the pattern's constant prefix).
    """

    kind: str
    condition: str
    column: str
    parameters: tuple[int, ...]
    #: predicate: the predicate's part on that column, e.g. ``(status)::text = 'open'::text``.
    predicate_part: str = ""
    #: predicate: the constant the predicate compares the column with, as SQL (``'open'``).
    constant: str | None = None


def blockers(info: IndexInfo, plans: Iterable[Plan]) -> list[Blocker]:
    """The conditions of ``plans`` on the index's table that the missing values leave
    unusable by the index: the predicate's, or else the key columns' pattern matches."""
    conditions = list(dict.fromkeys(c for plan in plans for c in _conditions(plan, info.table)))
    found = []
    parts = _parts(info.predicate) if info.predicate else []
    for condition in conditions:
        numbers = tuple(sorted({int(n) for n in _PARAMETER.findall(condition)}))
        tree = _tree(condition)
        if not numbers or tree is None:
            continue
        named = _columns(tree)
        for part, (column, constant) in parts:
            if column in named:
                found.append(Blocker("predicate", condition, column, numbers, part, constant))
                break
    if found:
        return found
    keys = {name for key in info.columns for name in _columns(_tree(key))}
    for condition in conditions:
        numbers = tuple(sorted({int(n) for n in _PARAMETER.findall(condition)}))
        tree = _tree(condition)
        if numbers and tree is not None and tree.kind == "op" and tree.text in _PATTERN_OPERATORS:
            column = next((name for name in _columns(tree) if name in keys), None)
            if column is not None:
                found.append(Blocker("pattern", condition, column, numbers))
    return found


def _conditions(plan: Plan, table: str) -> list[str]:
    found = []
    for node in plan.nodes():
        on_table = node.relation_name == table or (
            node.parent is not None and node.parent.relation_name == table
        )
        if on_table:
            for text in (node.index_cond, node.recheck_cond, node.filter):
                found += conjuncts(text) if text else []
    return found


def _tree(text: str | None) -> Expr | None:
    if not text:
        return None
    try:
        return parse(text).unqualified()
    except ParseError:
        return None


def _columns(tree: Expr | None) -> set[str]:
    return {to_sql(c, always_quote=False) for c in tree.columns()} if tree else set()


def _parts(predicate: str) -> list[tuple[str, tuple[str, str | None]]]:
    """Each AND-ed part of a predicate with the column it constrains and, for a comparison
    with a constant, that constant as SQL."""
    parts = []
    for part in conjuncts(predicate):
        tree = _tree(part)
        names = sorted(_columns(tree))
        if tree is None or len(names) != 1:
            continue
        literals = [n for n in tree.walk() if n.kind in ("literal", "number")]
        constant = None
        if tree.kind == "op" and tree.text == "=" and len(literals) == 1:
            value = literals[0]
            constant = value.text
            if value.kind == "literal":
                constant = "'" + value.text.replace("'", "''") + "'"
        parts.append((part, (names[0], constant)))
    return parts
