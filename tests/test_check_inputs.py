"""A misspelled argument never turns a check off, and a huge query never breaks a message.

Real EXPLAINs on the suite's server: the fixture in-process, the marker and the guard in
pytester runs.
"""

from __future__ import annotations

import json

import pytest

from pytest_queryplan import QueryPlanAssertionError, QueryPlanUsageError
from pytest_queryplan.core.text.sql import REPORT_LIMIT, collapse, format_sql
from pytest_queryplan.dialects.postgresql import POSTGRESQL
from tests.conftest import write_ini


@pytest.mark.parametrize(
    ("name", "hint"),
    [("Seq Scna", "Did you mean 'Seq Scan'"), ("seq scan", "Did you mean 'Seq Scan'")],
)
def test_a_misspelled_node_type_is_a_usage_error(name: str, hint: str) -> None:
    with pytest.raises(QueryPlanUsageError) as error:
        POSTGRESQL.check_node_types((name,))
    assert f"forbid: {name!r} is not a PostgreSQL plan node type" in str(error.value)
    assert hint in str(error.value)


@pytest.mark.parametrize("name", ["Seq Scan", "Parallel Seq Scan", "HashAggregate", "Sort"])
def test_real_node_type_names_are_accepted(name: str) -> None:
    POSTGRESQL.check_node_types((name,))


def test_long_lists_are_collapsed_everywhere_text_is_shown() -> None:
    sql = "SELECT * FROM t WHERE id IN (" + ", ".join(["%s"] * 4000) + ")"
    assert collapse(sql) == "SELECT * FROM t WHERE id IN (%s, %s, %s /* ... 3,997 more */)"
    assert "3,997 more" in format_sql(sql)
    array = "(id = ANY ('{" + ",".join(str(i) for i in range(4000)) + "}'::integer[]))"
    assert collapse(array) == "(id = ANY ('{0,1,2,... 3,997 more}'::integer[]))"
    assert collapse("id IN (1, 2, 3)") == "id IN (1, 2, 3)"  # short lists stay whole


@pytest.mark.django_db
def test_a_4000_value_filter_fails_readably(assert_uses_index) -> None:
    from upstream.alerts.models import AlertRule

    target = AlertRule.objects.filter(destination__in=[f"d{i}" for i in range(4000)])
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(target, "alertrule_eval_priority_idx")
    text = str(failure.value)
    assert "%s /* ... 3,997 more */" in text
    assert "3,997 more}" in text  # the Filter in the plan, collapsed too
    assert len(text) < 5000


INNER = """
import pytest
from upstream.alerts.models import AlertRule

pytestmark = pytest.mark.django_db


@pytest.mark.queryplan(forbid=["Sort"], tables=["upstream_alertrul"])
def test_misspelled_table():
    list(AlertRule.objects.filter(customer_id=1).order_by("min_severity"))


def test_huge_in_list():
    list(AlertRule.objects.filter(destination__in=[f"d{i}" for i in range(4000)]))
"""


def test_marker_typos_and_huge_queries_in_real_runs(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(test_inner=INNER)
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=fail", "--queryplan-report=report.json"
    )
    result.assert_outcomes(failed=2)
    assert (
        "tables=[...] names upstream_alertrul, which none of the test's queries read. "
        "Did you mean upstream_alertrule?"
    ) in result.stdout.str()  # (fnmatch would read the brackets as a character class)
    result.stdout.fnmatch_lines(["*queryplan guard (--queryplan-guard=fail)*", "*3,997 more*"])
    result.stdout.fnmatch_lines(["checks: * run, * passed, 2 failed"])
    report = json.loads((django_pytester.path / "report.json").read_text())
    (finding,) = report["findings"]
    # A finding is a shape: the 4,000 values are one placeholder, whatever their count.
    assert finding["filter"] == "((destination)::text = ANY (?::text[]))"
    assert len(finding["sql"]) <= REPORT_LIMIT


def test_a_misspelled_forbid_fails_at_collection(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(
        """
        import pytest

        @pytest.mark.queryplan(forbid=["Seq Scna"])
        def test_typo():
            pass
        """
    )
    write_ini(django_pytester)
    result = django_pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'Seq Scna' is not a PostgreSQL plan node type*Seq Scan*"])
