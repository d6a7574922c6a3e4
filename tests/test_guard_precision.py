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
