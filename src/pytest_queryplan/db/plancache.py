"""The session's plan cache: one EXPLAIN per (connection, mode, SQL, parameters).

It owns the cache key and two counts: queries looked up and EXPLAINs actually run. Each
process has its own cache, so under pytest-xdist the EXPLAINs add up to more than in a
serial run while the queries seen stay the same. Failed EXPLAINs are not cached.

Plans are cached across tests, but a test body that runs DDL (CREATE, ALTER, DROP: a
migration, an index added or dropped) empties the cache before its queries are explained
and again afterwards, since its transaction's schema is not the next test's. DDL run
outside a watched body (a fixture's) is not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.plan.tree import Plan

Key = tuple[str, str, bool, str, str]


def params_key(params: Any) -> str | None:
    """A text that tells parameter values apart, or None when there is none to trust.

    ``repr`` is exact for the values drivers take (numbers, text, dates, lists); an object
    whose repr is only its address could match a different object later, so it is not cached.
    """
    text = repr(params)
    return None if " at 0x" in text else text


@dataclass
class PlanCache:
    plans: dict[Key, Plan] = field(default_factory=dict)
    seen: int = 0
    explained: int = 0

    def clear(self) -> None:
        self.plans.clear()

    def _key(self, query: ExplainedQuery, mode: str, analyze_tables: bool) -> Key | None:
        values = params_key(query.params)
        return None if values is None else (query.using, mode, analyze_tables, query.sql, values)

    def lookup(self, query: ExplainedQuery, mode: str, analyze_tables: bool) -> Plan | None:
        """The cached plan, counted as seen; None (counted as explained) when there is none:
        the caller explains it and calls :meth:`store`."""
        self.seen += 1
        key = self._key(query, mode, analyze_tables)
        found = self.plans.get(key) if key is not None else None
        if found is None:
            self.explained += 1
        return found

    def store(self, query: ExplainedQuery, mode: str, analyze_tables: bool, plan: Plan) -> None:
        key = self._key(query, mode, analyze_tables)
        if key is not None:
            self.plans[key] = plan

    def plan(
        self, query: ExplainedQuery, mode: str, analyze_tables: bool, explain: Callable[[], Plan]
    ) -> Plan:
        """The cached plan of ``query``, or ``explain()`` run once and remembered."""
        self.seen += 1
        values = params_key(query.params)
        key = None if values is None else (query.using, mode, analyze_tables, query.sql, values)
        if key is not None and key in self.plans:
            return self.plans[key]
        self.explained += 1
        plan = explain()
        if key is not None:
            self.plans[key] = plan
        return plan
