"""``QueryPlanMixin``: the plan checks as assertion methods of Django's test case classes.

For ``django.test.SimpleTestCase`` subclasses (``TestCase``, ``TransactionTestCase``,
``LiveServerTestCase``), run by pytest or by ``python manage.py test`` alike::

    class OwnerTests(QueryPlanMixin, TestCase):
        def test_owner_count(self):
            plan = self.assertUsesIndex(owners_of(customer), "userprofile_customer_role_idx")
            with self.assertUsesIndex("userprofile_customer_role_idx"):
                ensure_not_last_owner(profile)

The methods are the fixtures' own calls (``db/assertions.py``): the same checks, the
same failure texts, one pipeline. Nothing here needs pytest; Django is imported only
when a check runs.
"""

from __future__ import annotations

import unittest
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.defaults import DEFAULTS, Defaults

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.tree import Plan


class QueryPlanMixin:
    """Adds ``assertUsesIndex`` and ``explainQuery`` to a Django test case class."""

    #: What a check falls back to when a call does not say (mode, strict, ...). Under
    #: pytest the plugin sets the run's (ini keys and flags) on each test; under Django's
    #: runner these built-in defaults apply, in its words for "more verbose".
    queryplan_defaults: Defaults = replace(
        DEFAULTS, verbose_how="run manage.py test with --verbosity 2"
    )

    def run(self, result: Any = None) -> Any:
        """Under unittest's text runner (``manage.py test``), its verbosity: at 2 or more
        a failure shows costs, row estimates and every condition, as pytest's ``-v`` does.
        (Under pytest the plugin sets ``queryplan_defaults`` on the test itself.)"""
        if isinstance(result, unittest.TextTestResult) and "queryplan_defaults" not in vars(self):
            verbose = bool(getattr(result, "showAll", False))
            self.queryplan_defaults = replace(self.queryplan_defaults, verbose=verbose)
        return super().run(result)  # type: ignore[misc]

    def assertUsesIndex(  # unittest's naming, as assertEqual
        self,
        target: Any,
        index_name: str | None = None,
        *,
        using: str | None = None,
        mode: str | None = None,
        strict: bool | None = None,
        every: bool | None = None,
        ordered: bool = False,
        keys: Sequence[str] | str | None = None,
        analyze_tables: bool | None = None,
    ) -> Any:
        """Fail unless the index serves the query; return the Plan that proved it.

        ``self.assertUsesIndex(queryset_or_sql, "index_name")`` checks one query now;
        ``with self.assertUsesIndex("index_name"):`` checks what the block runs (``every=True``:
        every query on the index's table must use it). ``ordered=True``: the index delivers
        the ORDER BY too; ``keys=[...]`` (or ``"all"``): its Index Cond searches these keys."""
        __tracebackhide__ = True
        from pytest_queryplan.db.assertions import user_call, uses_index

        return user_call(
            "self.assertUsesIndex",
            uses_index,
            target,
            index_name,
            using=using,
            mode=mode,
            every=every,
            strict=strict,
            ordered=ordered,
            keys=keys,
            analyze_tables=analyze_tables,
            defaults=self.queryplan_defaults,
            name="self.assertUsesIndex",
        )

    def assertMaxQueries(  # unittest's naming, as assertNumQueries
        self, max_queries: int, *, using: str = "default"
    ) -> Any:
        """``with self.assertMaxQueries(n):`` -- the marker's ``max_queries=n`` for a block:
        at most ``n`` queries on ``using`` (savepoints and transaction control not counted).
        The failure lists the queries by statement shape with their call sites."""
        from pytest_queryplan.db.assertions import QueryBudgetBlock, user_call

        return user_call(
            "self.assertMaxQueries",
            QueryBudgetBlock,
            max_queries,
            using=using,
            defaults=self.queryplan_defaults,
            name="self.assertMaxQueries",
        )

    def explainQuery(  # unittest's naming
        self,
        target: Any,
        *,
        using: str | None = None,
        mode: str | None = None,
        analyze: bool = False,
        analyze_tables: bool | None = None,
    ) -> Plan:
        """The parsed plan of a QuerySet, SQL or ``(sql, params)``. ``analyze=True`` runs it
        (EXPLAIN ANALYZE) inside a savepoint that is always rolled back."""
        __tracebackhide__ = True
        from pytest_queryplan.db.assertions import explain, user_call, with_analyze

        return user_call(
            "self.explainQuery",
            explain,
            target,
            using=using,
            mode=mode,
            analyze=analyze,
            defaults=with_analyze(self.queryplan_defaults, analyze_tables),
        )
