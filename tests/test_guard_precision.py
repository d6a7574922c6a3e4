"""Issue 21: every finding real. The guard and the N+1 check on the real server, on
queries real suites gave as false alarms, next to the finding that stays.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_ini

LOOPS = """
import pytest

from tests import row_writes

pytestmark = pytest.mark.django_db


def test_the_tests_own_loop():
    for n in range(6):  # six calls, one INSERT each: the test's repetition, not the app's
        row_writes.insert_broken(1)


def test_the_applications_loop():
    row_writes.insert_broken(6)  # one call, six INSERTs: the application's N+1


def test_a_loop_of_calls_that_each_loop():
    for n in range(2):  # each call runs it six times: still the application's N+1
        row_writes.insert_broken(6)
"""


def test_a_repetition_that_is_the_tests_loop_is_not_an_application_n_plus_one(
    django_pytester: pytest.Pytester,
) -> None:
    """A test calling application code once per row repeats that code's query; each run
    is its own call by the test, so no one call runs it the threshold times: left out
    under scope ``app`` (counted and said), still reported under ``all``."""
    django_pytester.makepyfile(test_inner=LOOPS)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-nplusone=fail", "--queryplan-guard-scope=app", "--queryplan-report=r.json"
    )
    result.assert_outcomes(passed=1, failed=2)
    report = json.loads((django_pytester.path / "r.json").read_text())
    failed = {t.split("::")[1] for t in report["failed_tests"]}
    assert failed == {"test_the_applications_loop", "test_a_loop_of_calls_that_each_loop"}
    assert report["left_out_findings"] == {"row-by-row-write (the test's loop)": 1}
    result.stdout.fnmatch_lines(
        ["*1 finding in queries run by test code left out (scope app: 1 row-by-row-write "
         "(the test's loop))*"]
    )  # fmt: skip
    everything = django_pytester.runpytest_subprocess(
        "--queryplan-nplusone=fail", "--queryplan-guard-scope=all"
    )
    everything.assert_outcomes(failed=3)


ADVICE = """
import pytest

from tests import advice

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    advice.make_articles()


@pytest.mark.parametrize("twin", ["broken", "fixed"])
@pytest.mark.parametrize("case", ["live", "either_subquery", "either_title"])
def test_case(articles, case, twin):
    getattr(advice, f"{case}_{twin}")()
"""


def test_the_advice_fits_the_filter(django_pytester: pytest.Pytester) -> None:
    """Issue 21: a boolean flag alone gets no plain btree (a partial index, or nothing
    when the statistics say most rows pass); an OR of sub-queries gets the UNION rewrite,
    whose twin passes; an OR one index serves gets that one index, tried. Each fixed twin
    passes; the advice is in the failure and in the JSON report."""
    django_pytester.makepyfile(test_inner=ADVICE)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=fail", "--queryplan-guard-scope=app", "--queryplan-report=r.json"
    )
    result.assert_outcomes(passed=3, failed=3)
    report = json.loads((django_pytester.path / "r.json").read_text())
    assert {t.split("[")[1] for t in report["failed_tests"]} == {
        "live-broken]",
        "either_subquery-broken]",
        "either_title-broken]",
    }
    advice = {f["tests"][0].split("[")[1].split("-")[0]: f["advice"] for f in report["findings"]}
    assert "is_removed" not in advice["live"].split("No index suggested")[0]
    assert "a plain btree on a two-valued column serves almost nothing" in advice["live"]
    assert (
        "the planner expects 63 of 70 rows (90%) to pass it: no index would help"
        in (advice["live"])
    )
    assert 'fields=["is_removed"]' not in advice["live"]
    assert "Rewrite it as a UNION, one query per branch" in advice["either_subquery"]
    assert "each branch needs an index of its own" not in advice["either_subquery"]
    assert advice["either_title"].startswith("Suggestion (tried: PostgreSQL searched it")
    assert 'models.Index(fields=["title"]' in advice["either_title"]
    result.stdout.fnmatch_lines(["*No index suggested for shop_article: it filters on a boolean*"])


ORIGIN = """
import pytest

from tests import advice
from tests.shop.models import Article

pytestmark = pytest.mark.django_db


def test_a_queryset_the_test_built():
    advice.evaluate(Article.objects.filter(title="title 1"))


def test_a_queryset_the_test_built_in_a_local():
    articles = Article.objects.filter(title="title 1")
    advice.evaluate(articles)


def test_the_applications_own_filter():
    advice.titled("title 1")


def test_the_application_narrows_the_tests_queryset():
    advice.narrowed(Article.objects.all(), "title 1")
"""


def test_a_queryset_the_test_built_is_the_tests(django_pytester: pytest.Pytester) -> None:
    """A QuerySet built in test code and run by application code carries the test's
    conditions: left out under scope ``app`` (counted, by that name), judged under
    ``all``. A filter the application wrote, or added to the test's QuerySet, stays."""
    django_pytester.makepyfile(test_inner=ORIGIN)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=fail", "--queryplan-guard-scope=app", "--queryplan-report=r.json"
    )
    result.assert_outcomes(passed=2, failed=2)
    report = json.loads((django_pytester.path / "r.json").read_text())
    assert {t.split("::")[1] for t in report["failed_tests"]} == {
        "test_the_applications_own_filter",
        "test_the_application_narrows_the_tests_queryset",
    }
    assert report["left_out_findings"] == {"filtered-full-read (a QuerySet the test built)": 2}
    assert report["plans"]["left_out"] == 2
    everything = django_pytester.runpytest_subprocess(
        "--queryplan-guard=fail", "--queryplan-guard-scope=all"
    )
    everything.assert_outcomes(failed=4)


SKIPPED_LEADING_KEY = """
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def pairs():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE qp_pair (id int, a int, b int)")
        cursor.execute("CREATE INDEX qp_pair_a_b ON qp_pair (a, b)")
        cursor.execute(
            "INSERT INTO qp_pair SELECT g, g % 10, g % 500 FROM generate_series(1, 5000) g"
        )
        cursor.execute("ANALYZE qp_pair")


def run(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.fetchall()


def test_b_alone(pairs):
    run("SELECT id FROM qp_pair WHERE b = 42")


def test_b_in_the_order_of_a_to_a_limit(pairs):
    run("SELECT id FROM qp_pair WHERE b = 42 ORDER BY a LIMIT 1")
"""


def test_an_index_searched_without_its_leading_key_is_said_as_such(
    django_pytester: pytest.Pytester,
) -> None:
    """Issue 16's family 9 seen again: ``b = 42`` on ``(a, b)`` reads the whole index, and
    the failure says that rather than "read whole with a Filter" (there is none). Walked in
    ``a``'s order up to the statement's LIMIT it stops at the first match, as a Filter's
    ordered walk does: a warning, not a failure (it failed before)."""
    django_pytester.makepyfile(test_inner=SKIPPED_LEADING_KEY)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=fail", "--queryplan-guard-scope=all"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Indexes read whole for a condition on a later key in 1 query plan(s)*",
            "*Hint: an index that leads with the searched column serves the condition*",
        ]
    )
    assert "Tables read whole with a Filter" not in result.stdout.str()
    assert "FAILED test_inner.py::test_b_alone" in result.stdout.str()


TEST_CODE_AND_APPLICATION = """
import pytest

from tests import advice
from tests.shop.models import Article

pytestmark = pytest.mark.django_db


def test_mixed():
    assert not Article.objects.filter(title="title 1").exists()  # the test's own lookup
    advice.titled("title 2")  # the application's
"""


@pytest.mark.parametrize(
    ("flags", "explained", "left_out_findings"),
    [
        # The guard alone, scope app: the test's own lookup is left out unexplained.
        (["--queryplan-guard-scope=app"], 1, {}),
        # Scope all judges it; the index report reads every plan, so it is explained
        # (and, still out of scope, its finding counted).
        (["--queryplan-guard-scope=all"], 2, {}),
        (["--queryplan-guard-scope=app", "--queryplan-index-report"], 2,
         {"filtered-full-read": 1}),
    ],
)  # fmt: skip
def test_what_the_guard_explains(
    django_pytester: pytest.Pytester, flags: list[str], explained: int, left_out_findings: dict
) -> None:
    """Issue 20: the guard alone explains only what its scope judges; a test's own queries
    under scope app cost no EXPLAIN, and the summary still counts them."""
    django_pytester.makepyfile(test_inner=TEST_CODE_AND_APPLICATION)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=warn", "--queryplan-report=r.json", *flags
    )
    result.assert_outcomes(passed=1)
    report = json.loads((django_pytester.path / "r.json").read_text())
    assert report["plans"]["explains_run"] == explained
    assert report["left_out_findings"] == left_out_findings
    if "--queryplan-guard-scope=app" in flags:
        result.stdout.fnmatch_lines(["*1 query run by test code left out (scope app)*"])
    findings = {(f["kind"], f["table"]) for f in report["findings"]}
    expected = 2 if "--queryplan-guard-scope=all" in flags else 1
    assert len([f for f in report["findings"] if f["kind"] == "filtered-full-read"]) == expected
    assert findings == {("filtered-full-read", "shop_article")}
