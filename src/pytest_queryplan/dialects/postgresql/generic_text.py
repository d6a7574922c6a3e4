"""Generic mode's texts: an index lost once the statement is prepared, and the summary's
line for a connection that binds on the server. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.text.blocks import indent, mark_text, mode_line, queries_text
from pytest_queryplan.dialects.postgresql.generic import Blocker, blockers
from pytest_queryplan.dialects.postgresql.placeholders import PlaceholderError, numbered

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.checks.verdict import Offense, Verdict

PREPARED_WHY = (
    "Once a statement is prepared (with Django's server_side_binding, when psycopg has run "
    "it more than prepare_threshold (5) times; pgbouncer 1.21+, asyncpg, JDBC), PostgreSQL "
    "plans its "
    "first five executions with the values and may then switch to a generic plan, made "
    "without them: when its estimated cost is not much above theirs (plan_cache_mode = "
    "auto), or always (force_generic_plan). That plan is the one below: production then "
    "reads the table without the index, while a test planned with the values passes."
)


def lost_when_prepared(verdict: Verdict, verbose: bool) -> list[str]:
    """Fine with its values, the index lost in the statement's generic plan: why, which
    parameter blocks it, and the fixes."""
    info = verdict.index
    assert info is not None
    who = "the query"
    if verdict.check.block:
        check = verdict.check
        who = "every query on its table" if check.every else f"a query in {check.ran}"
    lines = [
        f'Expected {who} to use index "{info.name}" once prepared, but its generic plan does '
        "not: with its values bound the planner uses the index (forced mode), without them it "
        "cannot.",
        mode_line(verdict),
        "",
        PREPARED_WHY,
        "",
    ]
    plans = [o.query.plan for o in verdict.offenses if o.query.plan is not None]
    found = _found(info, verdict.offenses)
    if found and found[0][0].kind == "predicate":
        lines += _predicate_lines(info, [f for f in found if f[0].kind == "predicate"])
    elif found:
        lines += _pattern_lines(info, found)
    else:
        used = sorted({n.index_name for plan in plans for n in plan.nodes() if n.index_name})
        lines.append(
            f"{info.name} is {_definition(info)}. No condition on it waits for a value: "
            "estimated without the values, the generic plan chose "
            f"{', '.join(used) or 'a sequential read'} instead."
        )
        lines.append(
            "Hint: a value kept a literal in the SQL is planned as forced mode planned it; "
            "a value bound as a parameter is not."
        )
    lines += ["", "With its values (forced mode) the planner used it:"]
    lines += _proof(verdict.proof)
    return lines + queries_text(verdict.offenses, verbose)


Found = tuple[Blocker, dict[int, Any]]


def _found(info: IndexInfo, offenses: Iterable[Offense]) -> list[Found]:
    """Each blocking condition of the offending generic plans once, with the values of the
    query it came from (``$n`` -> value)."""
    found: list[Found] = []
    seen: set[tuple[str, str]] = set()
    for offense in offenses:
        if offense.query.plan is None:
            continue
        values = _values(offense.query)
        for blocker in blockers(info, [offense.query.plan]):
            key = (blocker.condition, _given(blocker, values))
            if key not in seen:
                seen.add(key)
                found.append((blocker, values))
    return found


def _predicate_lines(info: IndexInfo, found: Sequence[Found]) -> list[str]:
    lines = [
        f"{info.name} is a partial index: {_definition(info)}.",
        "A generic plan may use a partial index only when the statement's text implies the "
        "predicate; here the predicate's column is bound as a parameter, and a parameter "
        "proves nothing:",
    ]
    for blocker, values in found:
        lines.append(
            f"    the predicate says {blocker.predicate_part}; the statement: "
            f"{blocker.condition}{_given(blocker, values)}"
        )
    first = found[0][0]
    literal = first.constant or "<the predicate's value>"
    others = [c for c in info.columns if c != first.column]
    lines += [
        "Fixes:",
        "    - keep the value a literal in the SQL, so the statement itself implies the "
        f'predicate: .filter({first.column}=RawSQL("{literal}", [])) writes '
        f"{first.column} = ({literal}), no parameter;",
        "    - drop the parameter from the predicate: a BooleanField the query filters "
        "with =True, which Django writes as the bare column, no parameter "
        "(condition=Q(is_open=True) and .filter(is_open=True));",
        "    - or an index without the predicate, which serves the statement with its "
        f"parameters: ({', '.join([*others, first.column])}).",
    ]
    return lines


def _pattern_lines(info: IndexInfo, found: Sequence[Found]) -> list[str]:
    lines = [f"{info.name} is {_definition(info)}."]
    for blocker, values in found:
        lines.append(
            f"    {blocker.condition}{_given(blocker, values)}: a pattern match searches an "
            "index only through the pattern's constant prefix, which the planner reads from "
            f"the value; a generic plan has no value, so {blocker.column} is checked row by row."
        )
    first, values = found[0]
    pattern = values.get(first.parameters[0]) if first.parameters else None
    prefix = "..."
    if isinstance(pattern, str) and pattern.endswith("%") and not set("%_") & set(pattern[:-1]):
        prefix = pattern[:-1].replace("'", "''")
    lines.append(
        "Fix: keep the pattern a literal in the SQL, so the planner folds it to a constant: "
        f".filter({first.column}__startswith=RawSQL(\"'{prefix}'\", [])) (Django's escaping "
        "of the literal is folded too)."
    )
    return lines


def _given(blocker: Blocker, values: dict[int, Any]) -> str:
    shown = [f"${n} is {_literal(values[n])}" for n in blocker.parameters if n in values]
    return f" ({', '.join(shown)})" if shown else ""


def _values(query: ExplainedQuery) -> dict[int, Any]:
    """``$n`` -> the value it stands for in ``query``."""
    try:
        prepared = numbered(query.sql, query.params)
    except PlaceholderError:
        return {}
    return dict(enumerate(prepared.values, 1))


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))  # psycopg's Int4(3) is 3
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return "'" + text.replace("'", "''") + "'"
    return repr(value)[:40]


def _definition(info: IndexInfo) -> str:
    return info.definition.split(" USING ", 1)[-1]


def _proof(proof: Sequence[Offense]) -> list[str]:
    lines = []
    for offense in proof[:1]:
        plan = offense.query.plan
        if plan is None:  # pragma: no cover - a proof always has its plan
            continue
        marks = {mark.node: mark_text(mark) for mark in offense.marks}
        lines.append(indent(plan.render(marks=marks)))
    return lines


def server_binding_line(aliases: Sequence[str], mode: str) -> str | None:
    """The summary's line for a run whose connections bind parameters on the server
    (Django's ``OPTIONS={"server_side_binding": True}``): their statements are prepared, so
    their plans become generic after five executions. None when no connection does, or the
    run already checks in generic mode."""
    if not aliases or mode == Mode.GENERIC:
        return None
    names = ", ".join(repr(alias) for alias in sorted(aliases))
    several = len(aliases) > 1
    return (
        f"server-side binding on {names}: {'their' if several else 'its'} statements are "
        "prepared, and PostgreSQL plans them without their values after five executions; "
        f"checks ran in {mode} mode, with the values. Run with --queryplan-mode=generic to "
        "check the plans production gets."
    )
