"""The suite-wide guard in real pytest runs, serially and under ``-n 2``.

One inner suite holds a query deliberately rewritten so that it loses its index
(``test_by_name``: the same lookup as ``test_by_slug``, by a column without an index),
and the guard must catch exactly that test and the UPDATE whose read side has the same
problem, nothing else.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO_ROOT, write_ini

RUNS = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist")]

GUARDED = """
import pytest
from upstream.alerts.models import AlertRule
from upstream.models import Customer

pytestmark = pytest.mark.django_db


def test_by_slug():
    assert not Customer.objects.filter(slug="acme").exists()


def test_by_slug_again():  # same SQL, same parameters: explained once per process
    assert not Customer.objects.filter(slug="acme").exists()


def test_by_name():  # the rewritten lookup: no index on name
    assert not Customer.objects.filter(name="Acme").exists()


def test_full_read_is_no_finding():
    assert list(Customer.objects.all()) == []


def test_update_by_name():  # the read side of an UPDATE
    assert Customer.objects.filter(name="Acme").update(slug="x") == 0


@pytest.mark.queryplan(allow_seq_scan=["upstream_customer"])
def test_marker_allows():
    assert not Customer.objects.filter(name="Acme").exists()


def test_ini_allows():
    assert not AlertRule.objects.filter(destination="nobody@example.com").exists()


@pytest.mark.xfail(raises=ValueError, strict=True)
def test_body_raises_gets_no_verdict():
    Customer.objects.filter(name="Acme").exists()
    raise ValueError("the test's own failure")


def test_no_query_is_not_reported():
    assert 1 + 1 == 2
"""


@pytest.fixture
def guarded(django_pytester: pytest.Pytester) -> pytest.Pytester:
    django_pytester.makepyfile(test_guarded=GUARDED)
    write_ini(django_pytester, extra=["queryplan_allow_seq_scan = upstream_alertrule"])
    return django_pytester


@pytest.mark.parametrize("xdist", RUNS)
def test_fail_catches_exactly_the_query_that_lost_its_index(
    guarded: pytest.Pytester, xdist: list[str]
) -> None:
    result = guarded.runpytest_subprocess(
        "--queryplan-guard=fail", "--queryplan-report=report.json", "--junitxml=junit.xml", *xdist
    )
    result.assert_outcomes(passed=6, failed=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ test_by_name _*",
            "*queryplan guard (--queryplan-guard=fail): Tables read whole with a Filter in 1 *",
            "*Seq Scan on upstream_customer  <-- sequential scan with a Filter*",
            '*models.Index(fields=?"name"?, name="customer_name_idx")*',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*= queryplan =*",
            "checks: 8 run, 6 passed, 2 failed",
            "guard: fail (mode forced, scope all), 2 findings in 2 tests",
            "  FAIL filtered-full-read upstream_customer: ((name)::text = ?::text) at "
            "test_guarded.py:* in test_*  ?1 test: test_guarded.py::test_*?",
            "  FAIL filtered-full-read upstream_customer: ((name)::text = ?::text) at "
            "test_guarded.py:* in test_*  ?1 test: test_guarded.py::test_*?",
            "failed by a plan check: 2 tests",
        ]
    )
    report = json.loads((guarded.path / "report.json").read_text())
    # A finding is a shape: the SELECT and the UPDATE are two, each at the line that ran it.
    assert sorted((f["tests"], f["sites"][0]["function"]) for f in report["findings"]) == [
        (["test_guarded.py::test_by_name"], "test_by_name"),
        (["test_guarded.py::test_update_by_name"], "test_update_by_name"),
    ]
    assert {f["level"] for f in report["findings"]} == {"fail"}
    assert report["failed_tests"] == [
        "test_guarded.py::test_by_name",
        "test_guarded.py::test_update_by_name",
    ]
    assert report["tests"] == 7  # neither the test without a query nor the xfail
    # 7 queries; serially the repeated slug lookup and the allowed name lookup hit the
    # cache, while two workers may each explain a query once.
    assert report["plans"]["queries_seen"] == 7
    explains = report["plans"]["explains_run"]
    assert explains == 5 if not xdist else 5 <= explains <= 7
    failures = {
        case.get("name"): case.find("failure")
        for case in ET.parse(guarded.path / "junit.xml").getroot().iter("testcase")
    }
    assert {name for name, failure in failures.items() if failure is not None} == {
        "test_by_name",
        "test_update_by_name",
    }
    assert "queryplan guard (--queryplan-guard=fail)" in failures["test_by_name"].text


@pytest.mark.parametrize("xdist", RUNS)
def test_warn_from_the_ini_reports_without_failing(
    guarded: pytest.Pytester, xdist: list[str]
) -> None:
    write_ini(
        guarded, extra=["queryplan_allow_seq_scan = upstream_alertrule", "queryplan_guard = warn"]
    )
    result = guarded.runpytest_subprocess(*xdist)
    result.assert_outcomes(passed=8, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*= queryplan =*",
            "checks: 8 run, 6 passed, 0 failed, 2 warned",
            "guard: warn (mode forced, scope all), 2 findings in 2 tests",
            "  WARN filtered-full-read upstream_customer: ((name)::text = ?::text) at *",
        ]
    )


def test_a_bad_guard_level_is_a_usage_error(django_pytester: pytest.Pytester) -> None:
    result = django_pytester.runpytest_subprocess("--queryplan-guard=strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--queryplan-guard: invalid choice: 'strict' (choose from 'off', 'warn', 'fail')*"]
    )


def test_a_bad_guard_level_in_the_ini_is_a_usage_error(django_pytester: pytest.Pytester) -> None:
    write_ini(django_pytester, extra=["queryplan_guard = strict"])
    result = django_pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ini queryplan_guard: 'strict' is not a valid queryplan guard level; use one of*"]
    )


NO_DATABASE = """
def test_arithmetic():
    assert 2 * 21 == 42


def test_text():
    assert "plan".upper() == "PLAN"
"""

# Written by every process of the inner run: did the per-test machinery ever load?
LOADED_PROBE = """
import os
import sys


def pytest_sessionfinish(session):
    with open(f"loaded-{os.getpid()}.txt", "w") as out:
        out.write(str("pytest_queryplan.watch" in sys.modules))
"""


@pytest.mark.parametrize("xdist", RUNS)
def test_a_suite_without_database_use_sees_nothing_of_the_plugin(
    django_pytester: pytest.Pytester, xdist: list[str]
) -> None:
    django_pytester.makepyfile(test_plain=NO_DATABASE)
    django_pytester.makeconftest(LOADED_PROBE)
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=fail",
        "--queryplan-index-report",
        "--queryplan-snapshot",
        "--queryplan-report=report.json",
        *xdist,
    )
    result.assert_outcomes(passed=2)
    output = [line for line in result.outlines if not line.startswith("plugins:")]
    assert "queryplan" not in "\n".join(output).lower()
    probes = sorted(django_pytester.path.glob("loaded-*.txt"))
    assert len(probes) == (3 if xdist else 1)  # the controller and two workers
    assert {probe.read_text() for probe in probes} == {"False"}  # no capture, no EXPLAIN
    report = json.loads((django_pytester.path / "report.json").read_text())
    assert report["tests"] == 0 and report["checks"]["run"] == 0
    assert report["plans"] == {
        "queries_seen": 0,
        "explains_run": 0,
        "unexplained": 0,
        "left_out": 0,
    }


@pytest.mark.parametrize("xdist", RUNS)
def test_upstream_passes_under_the_guard(
    django_pytester: pytest.Pytester, xdist: list[str]
) -> None:
    """Upstream's own suite, guarded; only Django's migration bookkeeping is allowed."""
    pytest.importorskip("psycopg", reason="upstream's own tests talk psycopg 3 directly")
    write_ini(django_pytester, extra=["queryplan_allow_seq_scan = django_migrations"])
    result = django_pytester.runpytest_subprocess(
        str(REPO_ROOT / "upstream"), "--queryplan-guard=fail", *xdist
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(
        [
            "*= queryplan =*",
            "checks: * run, * passed, 0 failed",
            "indexes proven: alertrule_eval_priority_idx, userprofile_customer_role_idx",
            # upstream's own pyproject.toml is the inner run's ini: the default scope, app
            "guard: fail (mode forced, scope app), 0 findings in 0 tests",
        ]
    )


SAID_ONCE = """
import pytest
from upstream.models import Customer

pytestmark = pytest.mark.django_db


@pytest.mark.queryplan
def test_marker_and_guard_ask_the_same():
    assert not Customer.objects.filter(name="Acme").exists()


def test_a_loop_of_the_same_lookup():
    for _ in range(3):
        assert not Customer.objects.filter(name="Acme").exists()
"""


def test_a_finding_is_said_once_and_a_repeat_once_with_its_count(
    django_pytester: pytest.Pytester,
) -> None:
    """A bare marker and the guard ask one question of one query: the test fails with one
    text, not the marker's and then the guard's again. A query the body ran three times
    with the same finding is shown once, with its count."""
    django_pytester.makepyfile(test_said=SAID_ONCE)
    result = django_pytester.runpytest_subprocess("--queryplan-guard=fail")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    marker_failure = text.split("_ test_marker_and_guard_ask_the_same _")[1].split("_ test_a_")[0]
    assert marker_failure.count("Seq Scan on upstream_customer  <-- sequential scan") == 1
    assert "queryplan guard (--queryplan-guard=fail)" not in marker_failure
    # Up to the next section: under CI=true pytest repeats whole messages in its summary.
    loop_failure = text.split("_ test_a_loop_of_the_same_lookup _")[1].split("\n====")[0]
    assert "queryplan guard (--queryplan-guard=fail)" in loop_failure
    assert loop_failure.count("Seq Scan on upstream_customer  <-- sequential scan") == 1
    assert "The query (run 3 times):" in loop_failure
