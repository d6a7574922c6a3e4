"""Django TestCase classes: the mixin under pytest and under Django's own runner, and the
guard and marker judging a test method inside its transaction, setUp left out.

Every case is a real inner run on the suite's PostgreSQL: pytest (serially and under
``-n 2``) through pytester, Django's runner (``python -m django test``, which is what
``manage.py test`` runs) as a subprocess on the same test database (``--keepdb``).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

import pytest_queryplan
from tests.conftest import REPO_ROOT

RUNS = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist")]

MIXIN_CASES = """
from django.db import connection
from django.test import TestCase, TransactionTestCase

from pytest_queryplan.testcase import QueryPlanMixin
from upstream.alerts.models import AlertRule
from upstream.models import Customer, UserProfile

OWNER = "userprofile_customer_role_idx"
RULE = "alertrule_eval_priority_idx"


class Passing(QueryPlanMixin, TestCase):
    def test_queryset(self):
        plan = self.assertUsesIndex(UserProfile.objects.filter(customer_id=1, role="owner"), OWNER)
        self.assertIn(OWNER, plan.index_names)

    def test_block(self):
        with self.assertUsesIndex(OWNER):
            UserProfile.objects.filter(customer_id=1, role="owner").count()

    def test_explain_query(self):
        plan = self.explainQuery(("SELECT * FROM upstream_customer WHERE slug = %s", ["acme"]))
        self.assertEqual(plan.tables, {"upstream_customer"})

    def test_temporary_table(self):
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE temp_stuff (id int, name text)")
            cursor.execute("CREATE INDEX temp_stuff_name ON temp_stuff (name)")
        with self.assertUsesIndex("temp_stuff_name"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT id FROM temp_stuff WHERE name = %s", ["x"])


class Autocommit(QueryPlanMixin, TransactionTestCase):
    def test_block_in_autocommit(self):
        with self.assertUsesIndex(OWNER):
            UserProfile.objects.filter(customer_id=1, role="owner").exists()


class Failing(QueryPlanMixin, TestCase):
    def test_index_not_used(self):
        self.assertUsesIndex(
            AlertRule.objects.filter(customer_id=1).order_by("-routing_priority"), RULE
        )

    def test_missing_index_name(self):
        self.assertUsesIndex(Customer.objects.all())
"""


def django_runner(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, label: str, *args: str
):
    """Django's own test runner on ``label``, with upstream's settings, in a subprocess,
    on the plugin this run imports (a source tree on PYTHONPATH, not only the installed)."""

    plugin = str(Path(pytest_queryplan.__file__).parents[1])
    paths = [str(pytester.path), str(REPO_ROOT), plugin]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    return pytester.run(
        sys.executable,
        "-m",
        "django",
        "test",
        label,
        "--settings=upstream.settings",
        "--keepdb",  # the inner pytest runs' database, made once and dropped by conftest
        "--noinput",
        *args,
        timeout=300,
    )


def failure_text(output: str, test: str) -> str:
    """The QueryPlanAssertionError text of ``test`` in unittest's report."""
    block = output.split(f"FAIL: {test} ", 1)[1]
    message = block.split("QueryPlanAssertionError: ", 1)[1]
    return re.split(r"\n\n(?:=|-){20,}", message, maxsplit=1)[0].strip()


def test_mixin_fails_the_same_under_pytest_and_djangos_runner(
    django_pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    django_pytester.makepyfile(test_mixin_cases=MIXIN_CASES)
    pytest_run = django_pytester.runpytest_subprocess()
    pytest_run.assert_outcomes(passed=5, failed=2)
    django_run = django_runner(django_pytester, monkeypatch, "test_mixin_cases")
    output = django_run.stderr.str()
    assert django_run.ret == 1, output
    assert "Ran 7 tests" in output
    assert "FAILED (failures=1, errors=1)" in output
    text = failure_text(output, "test_index_not_used")
    assert text.startswith('Expected the query to use index "alertrule_eval_priority_idx"')
    # Line for line the text pytest shows: one pipeline, one renderer; only the last line
    # says how to see more in each runner's own words.
    exception = "pytest_queryplan.errors.QueryPlanAssertionError: "
    shown = [
        line[1:].strip().removeprefix(exception)
        for line in pytest_run.outlines
        if line.startswith("E ")
    ]
    *body, last = text.splitlines()
    for line in body:
        assert line.strip() in shown, line
    assert (
        last
        == "(run manage.py test with --verbosity 2 for costs, row estimates and all conditions)"
    )
    assert "(run pytest with -v for costs, row estimates and all conditions)" in shown
    assert "pytest" not in text
    usage = (
        "QueryPlanUsageError: self.assertUsesIndex(QuerySet) is missing the index name: "
        "call self.assertUsesIndex(queryset, 'index_name')."
    )
    assert usage in output
    assert usage in pytest_run.stdout.str()
    # pytest shows the test's own line, not the plugin's frames.
    assert "src/pytest_queryplan/" not in pytest_run.stdout.str()
    # The runner's own verbosity shows what pytest's -v shows.
    verbose = django_runner(
        django_pytester, monkeypatch, "test_mixin_cases.Failing.test_index_not_used", "-v", "2"
    ).stderr.str()
    text = failure_text(verbose, "test_index_not_used")
    assert "cost=" in text and "for costs, row estimates" not in text


LIFECYCLE = """
import pytest
from django.db import connection
from django.test import TestCase

from upstream.models import Customer, UserProfile


class Lifecycle(TestCase):
    def setUp(self):
        # setUp is not the test: the guard must not judge this filtered full read.
        Customer.objects.filter(name="in setUp").exists()

    def test_setup_is_not_judged(self):
        Customer.objects.filter(slug="acme").exists()

    @pytest.mark.queryplan(uses_index="temp_stuff_name")
    def test_temporary_table_is_explained_before_the_rollback(self):
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE temp_stuff (id int, name text)")
            cursor.execute("CREATE INDEX temp_stuff_name ON temp_stuff (name)")
            cursor.execute("SELECT id FROM temp_stuff WHERE name = %s", ["x"])

    @pytest.mark.queryplan(uses_index="userprofile_customer_role_idx")
    def test_rows_the_test_created(self):
        customer = Customer.objects.create(name="Acme", slug="acme")
        UserProfile.objects.filter(customer=customer, role="owner").count()

    def test_the_methods_own_scan_fails(self):
        Customer.objects.filter(name="in the test").exists()
"""


@pytest.mark.parametrize("xdist", RUNS)
def test_guard_and_marker_watch_the_method_inside_its_transaction(
    django_pytester: pytest.Pytester, xdist: list[str]
) -> None:
    django_pytester.makepyfile(test_lifecycle=LIFECYCLE)
    result = django_pytester.runpytest_subprocess("--queryplan-guard=fail", *xdist)
    result.assert_outcomes(passed=3, failed=1)
    text = result.stdout.str()
    # One finding, the method's: setUp ran the same lookup in every test.
    result.stdout.fnmatch_lines(["guard: fail (mode forced, scope all), 1 finding in 1 test"])
    assert "1 test: test_lifecycle.py::Lifecycle::test_the_methods_own_scan_fails]" in text
    assert "in setUp" not in text
    # The temporary table existed when its query was explained: nothing unexplained.
    result.stdout.fnmatch_lines(["plans: * run for 4 queries seen"])
    assert "could not be explained" not in text
    assert "temp_stuff_name" in text  # proven by the marker
