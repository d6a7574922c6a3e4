"""Query budgets: ``@pytest.mark.queryplan(max_queries=N)`` and the TestCase mixin's
``assertMaxQueries``, on the real server, with the guard off: the failure counts the
body's queries per connection and lists them by shape with their call sites.
"""

from __future__ import annotations

import json

import pytest

APP = """
from upstream.alerts.models import AlertRule
from upstream.models import Customer


def make_customers(n):
    return Customer.objects.bulk_create(
        Customer(name=f"c{i}", slug=f"c{i}") for i in range(n)
    )


def rules_per_customer(customers):
    return [AlertRule.objects.filter(customer_id=c.pk).count() for c in customers]
"""

TESTS = """
import pytest
from django.test import TestCase

from app_queries import make_customers, rules_per_customer
from pytest_queryplan.testcase import QueryPlanMixin


@pytest.mark.django_db
@pytest.mark.queryplan(max_queries=3)
def test_over_budget():
    customers = make_customers(6)
    assert rules_per_customer(customers) == [0] * 6


@pytest.mark.django_db
@pytest.mark.queryplan(max_queries=7)
def test_within_budget():
    customers = make_customers(6)
    assert rules_per_customer(customers) == [0] * 6


class Budget(QueryPlanMixin, TestCase):
    def test_block_over_budget(self):
        customers = make_customers(4)
        with self.assertMaxQueries(2):
            rules_per_customer(customers)

    def test_block_within_budget(self):
        customers = make_customers(4)
        with self.assertMaxQueries(4):
            rules_per_customer(customers)
"""


def test_a_query_budget_fails_with_the_queries_by_shape(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(app_queries=APP, test_budget=TESTS)
    result = django_pytester.runpytest_subprocess("--queryplan-report=report.json")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_over_budget _*",
            "*Query budget exceeded: the test body ran 7 queries on 'default', over its budget "
            "of 3 (max_queries=3; savepoints and other transaction control not counted).",
            "*The queries, by statement shape (values taken out), most run first:",
            '*  6 x SELECT COUNT(*) AS "__count" FROM "upstream_alertrule" WHERE '
            '"upstream_alertrule"."customer_id" = ?',
            "*        6 from app_queries.py:12 in rules_per_customer*",
            '*  1 x INSERT INTO "upstream_customer"*',
            "*        1 from app_queries.py:6 in make_customers",
            "*Hint: a statement run once per row wants one query for all rows*raise the budget.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ Budget.test_block_over_budget _*",
            "*Query budget exceeded: the block ran 4 queries on 'default', over its budget of "
            "2 (self.assertMaxQueries(2); *",
            "*        4 from app_queries.py:12 in rules_per_customer*",
        ]
    )
    report = json.loads((django_pytester.path / "report.json").read_text())
    # A budget alone needs no EXPLAIN; with the guard off nothing else was explained.
    assert report["plans"]["explains_run"] == 0
    (failure,) = [f for f in report["failed_checks"] if f["test"].endswith("test_over_budget")]
    assert failure["kind"] == "query-budget"
    assert failure["site"]["path"] == "app_queries.py"


BAD = """
import pytest

@pytest.mark.queryplan(max_queries="five")
def test_bad():
    pass
"""


def test_a_bad_budget_is_a_usage_error_at_collection(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(test_bad=BAD)
    result = django_pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: test_bad.py::test_bad: @pytest.mark.queryplan: queryplan(max_queries=...) "
        "takes a whole number of queries (0 or more), not 'five'."
    ]
