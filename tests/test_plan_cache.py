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


REDEFINED = """
import pytest
from django.db import connection
from tests.shop.models import Book

pytestmark = pytest.mark.django_db


@pytest.mark.queryplan(uses_index="book_isbn_idx", keys=["isbn"])
def test_a_isbn():
    assert not Book.objects.filter(isbn="isbn 00042").exists()


@pytest.mark.queryplan(uses_index="book_isbn_idx", keys=["title"])
def test_b_the_same_name_on_title():
    with connection.schema_editor() as editor:
        editor.execute('DROP INDEX "book_title_idx"')
        editor.execute('DROP INDEX "book_isbn_idx"')
        editor.execute('CREATE INDEX "book_isbn_idx" ON "shop_book" ("title")')
    assert not Book.objects.filter(title="title 00042").exists()


@pytest.mark.queryplan(uses_index="book_isbn_idx", keys=["isbn"])
def test_c_isbn_again():
    assert not Book.objects.filter(isbn="isbn 00043").exists()
"""


def test_what_the_catalog_said_lasts_as_long_as_the_plans(
    django_pytester: pytest.Pytester,
) -> None:
    """The marker's (and the guard's) answers from the catalog about a plan's indexes are
    kept from test to test, with the plan cache: a body that redefines an index under
    the same name judges against the new definition, and the next test, after the
    rollback, against the old one again."""
    django_pytester.makepyfile(test_redefined=REDEFINED)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess("--queryplan-guard=warn", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
