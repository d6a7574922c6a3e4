"""Plan-shape snapshots: the shape itself (stored plans, no database), and the baseline
cycle in real runs, serially and under ``-n 2``: write, compare, a changed shape with its
diff, a test without baseline, and a baseline no test produces any more."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from pytest_queryplan.core.checks.query import ExplainedQuery
from pytest_queryplan.core.plan.tree import parse_plan
from pytest_queryplan.core.report.snapshot import compared, path_for, render, shape_lines, stale
from tests.conftest import write_ini

PLANS = Path(__file__).resolve().parent / "plans"
RUNS = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist")]


def explain(version: str, case: str) -> list:
    return json.loads((PLANS / version / f"{case}.json").read_text())["explain"]


def test_the_shape_is_types_relations_indexes_and_nesting() -> None:
    assert shape_lines(parse_plan(explain("pg18", "hash_join"))) == [
        "Hash Join",
        "  Seq Scan on orders o",
        "  Hash",
        "    Seq Scan on customer c",
    ]
    assert any("[SubPlan" in line for line in shape_lines(parse_plan(explain("pg18", "subplan"))))


def test_costs_and_row_estimates_do_not_move_the_shape() -> None:
    raw = explain("pg18", "index_scan")
    bigger = copy.deepcopy(raw)
    node = bigger[0]["Plan"]
    node.update({"Total Cost": node["Total Cost"] * 100, "Plan Rows": 123456})
    assert shape_lines(parse_plan(bigger)) == shape_lines(parse_plan(raw))
    node["Index Name"] = "another_idx"
    assert shape_lines(parse_plan(bigger)) != shape_lines(parse_plan(raw))


def test_sql_comments_are_for_readers_and_not_compared() -> None:
    query = ExplainedQuery("SELECT 1 FROM t WHERE x = %s", (1,), "default")
    query.plan = parse_plan(explain("pg18", "index_scan"))
    text = render("t.py::test_a", [query])
    assert text.startswith("# pytest-queryplan plan shapes")
    assert "# SELECT 1 FROM t WHERE x = %s" in text
    reworded = text.replace("SELECT 1", "SELECT 2")
    assert compared(reworded) == compared(text)
    assert compared(text)[0] == "query 1:"


def test_one_file_per_test_under_its_module(tmp_path: Path) -> None:
    assert path_for(tmp_path, "app/tests/test_x.py::TestA::test_b[1-x/y]") == (
        tmp_path / "app/tests/test_x" / "TestA.test_b[1-x_y].plan"
    )
    long = path_for(tmp_path, "t.py::test_" + "a" * 300)
    assert len(long.name) < 130 and long != path_for(tmp_path, "t.py::test_" + "a" * 299)


def test_stale_lists_only_files_of_collected_modules(tmp_path: Path) -> None:
    for nodeid in ("t.py::test_kept", "t.py::test_gone", "other.py::test_elsewhere"):
        path = path_for(tmp_path / "snaps", nodeid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = stale(tmp_path / "snaps", tmp_path, {"t.py::test_kept"}, {"t.py::test_kept"})
    assert found == ["snaps/t/test_gone.plan"]


def test_stale_in_a_module_narrowed_to_some_tests_judges_only_those(tmp_path: Path) -> None:
    for nodeid in ("t.py::test_kept", "t.py::test_other", "t.py::test_unmarked"):
        path = path_for(tmp_path / "snaps", nodeid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    known = {"t.py::test_kept", "t.py::test_unmarked"}  # `pytest t.py::test_kept t.py::...`
    found = stale(tmp_path / "snaps", tmp_path, {"t.py::test_kept"}, known, {"t.py"})
    assert found == ["snaps/t/test_unmarked.plan"]  # test_other was not collected


FIRST = """
import pytest
from upstream.alerts.models import AlertRule
from upstream.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.queryplan]


def test_rules():
    list(AlertRule.objects.filter(customer_id=1, enabled=True).order_by("-routing_priority")[:10])


def test_customer():
    assert Customer.objects.filter(pk=1).first() is None


def test_removed_later():
    assert not Customer.objects.filter(pk=2).exists()
"""

# The rules query now ordered by name (another index serves it), test_removed_later gone,
# test_new added.
SECOND = """
import pytest
from upstream.alerts.models import AlertRule
from upstream.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.queryplan]


def test_rules():
    list(AlertRule.objects.filter(customer_id=1, enabled=True).order_by("name")[:10])


def test_customer():
    assert Customer.objects.filter(pk=1).first() is None


def test_new():
    assert not Customer.objects.filter(slug="new").exists()
"""


@pytest.mark.parametrize("xdist", RUNS)
def test_baselines_written_compared_and_stale(
    django_pytester: pytest.Pytester, xdist: list[str]
) -> None:
    write_ini(django_pytester, extra=["queryplan_snapshot_dir = plan_baselines"])
    django_pytester.makepyfile(test_shapes=FIRST)
    written = django_pytester.runpytest_subprocess("--queryplan-snapshot-update", *xdist)
    written.assert_outcomes(passed=3)
    written.stdout.fnmatch_lines(["snapshots: 3 compared, 0 changed, 0 missing, 3 written"])
    baseline = django_pytester.path / "plan_baselines" / "test_shapes" / "test_rules.plan"
    text = baseline.read_text()
    assert "Index Scan using alertrule_eval_priority_idx on upstream_alertrule" in text
    assert "cost=" not in text and "rows=" not in text

    django_pytester.makepyfile(test_shapes=SECOND)
    checked = django_pytester.runpytest_subprocess("--queryplan-snapshot", *xdist)
    checked.assert_outcomes(passed=1, failed=2)
    checked.stdout.fnmatch_lines(
        [
            "*The plan shape changed from the baseline plan_baselines/test_shapes/test_rules.plan:",
            "*-    Index Scan using alertrule_eval_priority_idx on upstream_alertrule",
            "*+    Index Scan using upstream_alertrule_customer_id_name_*_uniq on *",
            "*Hint: if the new plans are intended, run with --queryplan-snapshot-update.",
        ]
    )
    checked.stdout.fnmatch_lines(
        ["*No plan-shape baseline plan_baselines/test_shapes/test_new.plan for this test.*"]
    )
    checked.stdout.fnmatch_lines(
        [
            "snapshots: 3 compared, 1 changed, 1 missing, 0 written",
            "  changed: test_shapes.py::test_rules",
            "  no baseline: test_shapes.py::test_new",
            "  no test produces it any more: plan_baselines/test_shapes/test_removed_later.plan",
        ]
    )
    assert baseline.read_text() == text  # a plain comparison never rewrites a baseline

    # One test by node id: the other tests' baselines were not collected, not gone.
    one = django_pytester.runpytest_subprocess(
        "--queryplan-snapshot", "test_shapes.py::test_customer", *xdist
    )
    one.assert_outcomes(passed=1)
    one.stdout.fnmatch_lines(["snapshots: 1 compared, 0 changed, 0 missing, 0 written"])
    assert "no test produces it any more" not in one.stdout.str()
