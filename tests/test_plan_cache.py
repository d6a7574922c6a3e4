"""The guard's plan cache never hands one test the plan of another test's schema.

A test that drops (or adds) an index inside its transaction plans its queries on that
schema; the next test, after the rollback, has the index again. The same SQL with the same
values must be explained anew for it. A real inner run on the shop app.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_ini

SUITE = """
import pytest
from django.db import connection
from tests.shop.models import Book

pytestmark = pytest.mark.django_db


def test_a_drops_the_index():
    with connection.schema_editor() as editor:
        editor.execute('DROP INDEX "book_isbn_idx"')
    assert not Book.objects.filter(isbn="isbn 00042").exists()


def test_b_has_the_index_again():
    assert not Book.objects.filter(isbn="isbn 00042").exists()
"""


def test_a_test_that_changes_the_schema_empties_the_plan_cache(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(test_cache=SUITE)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=warn", "--queryplan-report=r.json"
    )
    result.assert_outcomes(passed=2)
    report = json.loads((django_pytester.path / "r.json").read_text())
    flagged = {test for finding in report["findings"] for test in finding["tests"]}
    assert flagged == {"test_cache.py::test_a_drops_the_index"}
    assert report["plans"]["explains_run"] == 2  # the same query, explained once per schema
