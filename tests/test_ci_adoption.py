"""Adopting the guard on a large suite: call sites, scope, grouping, baseline, N+1, SARIF
and GitHub annotations, end to end on a generated suite of a few hundred real tests.

The application module holds the seeded regressions (a lookup by a column without an
index, a query run once per row); the test module adds its own lookups, which scope
``app`` leaves out. Run 1 writes the baseline, run 2 passes against it, run 3 adds one
regression and fails with an annotation, a SARIF result and a JSON finding that all point
at the same application line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write_ini

APP = """
import os

from upstream.alerts.models import AlertRule
from upstream.models import Customer


def customer_named(name):
    found = Customer.objects.filter(name=name).exists()  # seeded: no index on name
    if os.environ.get("NEW_REGRESSION"):
        AlertRule.objects.filter(destination=name).exists()  # NEW REGRESSION LINE
    return found


def rules_per_customer(customers):
    return [AlertRule.objects.filter(customer_id=c.pk).count() for c in customers]  # N+1
"""

TESTS = """
import pytest
from app_queries import customer_named, rules_per_customer
from upstream.models import Customer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("n", range(80))
def test_lookup_in_the_application(n):
    assert not customer_named(f"customer {n}")


@pytest.mark.parametrize("n", range(80))
def test_lookup_in_the_test_itself(n):
    assert not Customer.objects.filter(name=f"customer {n}").exists()  # test code


@pytest.mark.parametrize("n", range(80))
def test_rules_of_each_customer(n):
    customers = [Customer.objects.create(name=f"c{n}-{i}", slug=f"c{n}-{i}") for i in range(6)]
    assert rules_per_customer(customers) == [0] * 6
"""

FLAGS = [
    "--queryplan-guard=fail",
    "--queryplan-guard-scope=app",
    "--queryplan-nplusone=fail",
    "--queryplan-baseline=baseline.json",
    "--queryplan-report=report.json",
    "--queryplan-sarif=results.sarif",
]


def line_of(path: Path, marker: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if marker in line)


def test_baseline_then_a_new_regression(
    django_pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    django_pytester.makepyfile(app_queries=APP, test_generated=TESTS)
    write_ini(django_pytester)  # (its scope "all" is overridden by the flag)
    root = django_pytester.path
    monkeypatch.delenv("NEW_REGRESSION", raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(root))

    first = django_pytester.runpytest_subprocess(*FLAGS, "--queryplan-baseline-update")
    first.assert_outcomes(passed=240)
    baseline = json.loads((root / "baseline.json").read_text())
    kinds = sorted({(e["kind"], e["table"]) for e in baseline["entries"]})
    assert kinds == [
        ("filtered-full-read", "upstream_customer"),
        ("repeated-query", "upstream_alertrule"),
    ]
    # Only the application's lookups: the 80 tests' own lookups were left out (scope app).
    assert {e["test"].split("[")[0] for e in baseline["entries"]} == {
        "test_generated.py::test_lookup_in_the_application",
        "test_generated.py::test_rules_of_each_customer",
    }
    report = json.loads((root / "report.json").read_text())
    assert report["plans"]["left_out"] >= 80
    # Left out, but not silently: how many queries test code ran, the N+1 findings among
    # them (counted without a plan), and how to see them. The guard alone does not explain
    # test code's queries under scope app: their filtered full reads go uncounted.
    assert report["left_out_findings"] == {"row-by-row-write": 80}
    first.stdout.fnmatch_lines(
        [
            "  80 findings in queries run by test code left out (scope app: "
            "80 row-by-row-write); --queryplan-guard-scope=all shows them",
            "  * queries run by test code left out (scope app); --queryplan-guard-scope=all "
            "judges them too",
        ]
    )
    # One line per shape, whatever the values: two findings for 160 tests.
    assert len(report["findings"]) == 2
    app_line = line_of(root / "app_queries.py", "seeded: no index on name")
    lookup = next(f for f in report["findings"] if f["kind"] == "filtered-full-read")
    assert lookup["sites"] == [
        {"path": "app_queries.py", "line": app_line, "function": "customer_named"}
    ]
    assert len(lookup["tests"]) == 80

    second = django_pytester.runpytest_subprocess(*FLAGS)
    second.assert_outcomes(passed=240)
    assert "::error" not in second.stdout.str()
    report = json.loads((root / "report.json").read_text())
    assert {f["level"] for f in report["findings"]} == {"accepted"}

    monkeypatch.setenv("NEW_REGRESSION", "1")
    third = django_pytester.runpytest_subprocess(*FLAGS)
    third.assert_outcomes(passed=160, failed=80)
    new_line = line_of(root / "app_queries.py", "NEW REGRESSION LINE")
    report = json.loads((root / "report.json").read_text())
    (new,) = [f for f in report["findings"] if f["level"] == "fail"]
    assert new["table"] == "upstream_alertrule" and new["kind"] == "filtered-full-read"
    assert new["sites"][0]["path"] == "app_queries.py" and new["sites"][0]["line"] == new_line
    sarif = json.loads((root / "results.sarif").read_text())
    (result,) = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app_queries.py"
    assert location["region"]["startLine"] == new_line
    assert result["ruleId"] == "queryplan/filtered-full-read"
    annotations = [line for line in third.outlines if line.startswith("::error")]
    assert len(annotations) == 1
    assert annotations[0].startswith(f"::error file=app_queries.py,line={new_line},")
    # The failure text points at the application line too.
    third.stdout.fnmatch_lines([f"*Run by: app_queries.py:{new_line} in customer_named*"])


REPEATS = """
import pytest
from upstream.alerts.models import AlertRule
from upstream.models import Customer

pytestmark = pytest.mark.django_db


def count_rules(customers):
    return [AlertRule.objects.filter(customer_id=c.pk).count() for c in customers]


@pytest.fixture
def customers():
    return [Customer.objects.create(name=f"c{i}", slug=f"c{i}") for i in range(6)]


def test_loop(customers):
    count_rules(customers)


@pytest.mark.queryplan(allow_repeats=6, allow_seq_scan=["upstream_customer"])
def test_loop_allowed(customers):
    count_rules(customers)


def test_below_the_threshold(customers):
    count_rules(customers[:4])
"""


def test_repeated_queries_fail_with_the_call_site_and_the_fix(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(test_repeats=REPEATS)
    result = django_pytester.runpytest_subprocess("--queryplan-nplusone=fail")
    result.assert_outcomes(passed=2, failed=1)
    line = line_of(django_pytester.path / "test_repeats.py", "AlertRule.objects.filter")
    result.stdout.fnmatch_lines(
        [
            "*_ test_loop _*",
            # (Python 3.12+ inlines the list comprehension: no <listcomp> frame.)
            f"*Repeated query (N+1): the same statement ran 6 times from "
            f"test_repeats.py:{line} in count_rules*",
            "*Fix*annotate*",
        ]
    )
    # A warning, not a failure; the unmarked tests' queries are not explained at all (the
    # capture is enough): only the marked test's six are.
    warned = django_pytester.runpytest_subprocess(
        "--queryplan-nplusone=warn", "--queryplan-report=r.json"
    )
    warned.assert_outcomes(passed=3)
    report = json.loads((django_pytester.path / "r.json").read_text())
    assert report["plans"]["queries_seen"] == 6
    (finding,) = report["findings"]
    assert finding["kind"] == "repeated-query" and finding["runs"] == 6
    assert finding["level"] == "warn" and finding["tests"] == ["test_repeats.py::test_loop"]


def test_merge_merges_sarif_shards(tmp_path: Path) -> None:
    from pytest_queryplan.__main__ import main
    from pytest_queryplan.core.report.callsite import CallSite
    from pytest_queryplan.core.report.sarif import SarifResult, merge_sarif, to_sarif

    def shard(name: str, test: str) -> Path:
        result = SarifResult(
            "filtered-full-read", "fail", "t read whole", CallSite("app.py", 3, "f"), "k1", (test,)
        )
        path = tmp_path / name
        path.write_text(json.dumps(to_sarif([result], tool_version="1", rootdir_uri="/r")))
        return path

    one, two = shard("a.sarif", "t.py::test_a"), shard("b.sarif", "t.py::test_b")
    assert main(["merge", str(one), str(two), "--sarif-output", str(tmp_path / "m.sarif")]) == 0
    merged = json.loads((tmp_path / "m.sarif").read_text())
    docs = [json.loads(one.read_text()), json.loads(two.read_text())]
    assert merged == merge_sarif(docs)
    (result,) = merged["runs"][0]["results"]
    assert result["properties"]["tests"] == ["t.py::test_a", "t.py::test_b"]
