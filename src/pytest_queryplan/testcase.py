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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.defaults import DEFAULTS, Defaults

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.tree import Plan


class QueryPlanMixin:
    """Adds ``assertUsesIndex`` and ``explainQuery`` to a Django test case class."""

    #: What a check falls back to when a call does not say (mode, strict, ...). Under
    #: pytest the plugin sets the run's (ini keys and flags) on each test; under Django's
    #: runner these built-in defaults apply.
    queryplan_defaults: Defaults = DEFAULTS

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
