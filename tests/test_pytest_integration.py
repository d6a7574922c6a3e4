"""The plugin inside real pytest runs (pytester, one subprocess per run, upstream's app)."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import write_ini

INNER_TESTS = """
import pytest
from pytest_queryplan import QueryPlanAssertionError, QueryPlanUsageError
from upstream.alerts.models import AlertRule
from upstream.models import UserProfile

pytestmark = pytest.mark.django_db(databases=["default", "other"])


def test_fixture_pass(assert_uses_index):
    assert_uses_index(
        UserProfile.objects.filter(customer_id=1, role="owner"), "userprofile_customer_role_idx"
    )


def test_fixture_fail(assert_uses_index):
    assert_uses_index(
        AlertRule.objects.filter(customer_id=1).order_by("-routing_priority"),
        "alertrule_eval_priority_idx",
    )


def test_another_database_is_explained_by_its_own_dialect(assert_uses_index):
    with pytest.raises(QueryPlanAssertionError) as error:
        assert_uses_index(UserProfile.objects.using("other"), "x")
    assert "Index \\"x\\" does not exist in this database (alias 'other')" in str(error.value)
    assert "(mode: forced, on SQLite: " in str(error.value)


def test_queryset_alias_wins(assert_uses_index, queryplan):
    # Explained where it runs: the QuerySet's own alias, "other" (SQLite here), not "default"
    # (PostgreSQL): the verdict is SQLite's, and so is the plan.
    with pytest.raises(QueryPlanAssertionError) as error:
        assert_uses_index(UserProfile.objects.using("other"), "x")
    assert "(mode: forced, on SQLite: " in str(error.value)
    plan = queryplan.explain(UserProfile.objects.using("other"))
    assert plan.root.raw.get("SQLite Detail", "").startswith("SCAN")
    with pytest.raises(QueryPlanUsageError) as error:
        assert_uses_index(UserProfile.objects.using("other"), "x", using="default")
    assert "runs on database 'other' (.using('other')), but using='default' was given" in str(
        error.value
    )
    assert_uses_index(
        UserProfile.objects.using("default").filter(customer_id=1, role="owner"),
        "userprofile_customer_role_idx",
        using="default",
    )


class ProfilesToOther:
    def db_for_read(self, model, **hints):
        return "other" if model is UserProfile else None


def test_router_alias_wins(assert_uses_index):
    # Where the router sends the read is where it runs: using= cannot move it (it was
    # explained on "default" and passed before).
    from django.test import override_settings

    with override_settings(DATABASE_ROUTERS=[ProfilesToOther()]):
        assert UserProfile.objects.all().db == "other"
        with pytest.raises(QueryPlanUsageError) as error:
            assert_uses_index(UserProfile.objects.all(), "x", using="default")
    assert (
        "runs on database 'other' (the database router's choice), but using='default' was"
        in str(error.value)
    )


@pytest.mark.queryplan(uses_index="alertrule_eval_priority_idx", forbid=["Sort"], ordered=True)
def test_marker_pass():
    list(AlertRule.objects.filter(customer_id=1, enabled=True).order_by("-routing_priority")[:10])


# A tie-breaker the index lacks: a Sort on PostgreSQL 15, an Incremental Sort on 18.
@pytest.mark.queryplan(uses_index="alertrule_eval_priority_idx", forbid=["Sort"])
def test_marker_fail_forbid_tiebreak():
    rules = AlertRule.objects.filter(customer_id=1, enabled=True)
    list(rules.order_by("-routing_priority", "pk")[:10])


@pytest.mark.queryplan(uses_index="alertrule_eval_priority_idx", ordered=True)
def test_marker_fail_ordered_tiebreak():
    rules = AlertRule.objects.filter(customer_id=1, enabled=True)
    list(rules.order_by("-routing_priority", "pk")[:10])


@pytest.mark.queryplan(uses_index=["alertrule_eval_priority_idx"])
def test_marker_fail_uses_index():
    list(AlertRule.objects.filter(customer_id=1).order_by("-routing_priority"))


@pytest.mark.queryplan(forbid=["Sort"], tables=["upstream_alertrule"])
def test_marker_fail_forbid():
    list(AlertRule.objects.filter(customer_id=1).order_by("min_severity"))


@pytest.mark.queryplan
def test_marker_default_fail():
    list(AlertRule.objects.filter(destination="nobody@example.com"))


@pytest.mark.queryplan(allow_seq_scan=["upstream_alertrule"])
def test_marker_allow_seq_scan():
    list(AlertRule.objects.filter(destination="nobody@example.com"))


@pytest.mark.queryplan
def test_marker_unfiltered_full_read_is_fine():
    list(AlertRule.objects.all())


@pytest.mark.queryplan(uses_index="userprofile_customer_role_idx")
def test_marker_body_raises():
    raise ValueError("the test's own failure")
"""

INNER_SETTINGS = """
from upstream.settings import *  # noqa: F403

DATABASES = {
    **DATABASES,  # noqa: F405
    # A second vendor, explained by its own dialect; no migrations there (they are
    # PostgreSQL's).
    "other": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "TEST": {"MIGRATE": False},
    },
}
"""


@pytest.fixture
def inner(django_pytester: pytest.Pytester) -> pytest.Pytester:
    django_pytester.makepyfile(inner_settings=INNER_SETTINGS, test_inner=INNER_TESTS)
    write_ini(django_pytester, settings="inner_settings")
    return django_pytester


def test_fixture_and_marker_outcomes(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess()
    result.assert_outcomes(passed=7, failed=7)  # errors=0: marker failures fail the test
    result.stdout.fnmatch_lines(
        [
            "*test_fixture_fail*",
            '*QueryPlanAssertionError: Expected the query to use index "alertrule_eval_priority*',
            '*"alertrule_eval_priority_idx" is a partial index*WHERE enabled*',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_fail_uses_index _*",
            '*Expected a query in the test body to use index "alertrule_eval_priority_idx"; '
            "none of "
            "its 1 query on upstream_alertrule did (1 in all).",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_fail_forbid _*",
            "*Forbidden plan nodes (Sort) on upstream_alertrule in 1 query plan(s).*",
            "*Sort  <-- forbidden: Sort*",
        ]
    )
    # forbid=["Sort"] is every sort: PostgreSQL 18's Incremental Sort as 15's Sort.
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_fail_forbid_tiebreak _*",
            "*Forbidden plan nodes (Sort) in 1 query plan(s).*",
            "*Sort  <-- forbidden: *Sort*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_fail_ordered_tiebreak _*",
            '*Expected index "alertrule_eval_priority_idx" to serve a query in the test body and'
            " deliver its ORDER BY (ordered=True)*",
            "*Sort by routing_priority DESC, id above alertrule_eval_priority_idx*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_default_fail _*",
            "*Tables read whole with a Filter in 1 query plan(s)*",
            "*Seq Scan on upstream_alertrule  <-- sequential scan with a Filter*",
        ]
    )
    # (fnmatch would read the brackets as a character class)
    assert 'models.Index(fields=["destination"], name="alertrule_destination_idx")' in (
        result.stdout.str()
    )
    result.stdout.fnmatch_lines(["*_ test_marker_body_raises _*", "*ValueError: the test's own*"])
    assert "ERROR" not in result.stdout.str()
    compact = result.stdout.str()
    assert "cost=" not in compact and "run pytest with -v" in compact


def test_verbose_adds_costs(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess("-v", "-k", "test_fixture_fail")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*(cost=*rows=*)*"])


def test_mode_option_and_ini(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(
        test_mode="""
        import pytest
        from django.contrib.auth.models import User
        from upstream.models import Customer, UserProfile

        @pytest.mark.django_db
        def test_owner_count(assert_uses_index):
            customer = Customer.objects.create(name="c", slug="c")
            for n in range(30):
                user = User.objects.create(username=f"u{n}")
                UserProfile.objects.create(user=user, customer=customer, role="viewer")
            assert_uses_index(
                UserProfile.objects.filter(customer=customer, role="owner"),
                "userprofile_customer_role_idx",
            )
        """
    )
    # natural + analyze: the statistics see 30 rows on one page, so a sequential read wins.
    write_ini(django_pytester, extra=["queryplan_mode = natural", "queryplan_analyze = true"])
    natural = django_pytester.runpytest_subprocess()
    natural.assert_outcomes(failed=1)
    natural.stdout.fnmatch_lines(["*mode: natural*", "*read upstream_userprofile sequentially*"])
    forced = django_pytester.runpytest_subprocess("--queryplan-mode=forced")
    forced.assert_outcomes(passed=1)
    bad = django_pytester.runpytest_subprocess("--queryplan-mode=fast")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--queryplan-mode: invalid choice: 'fast' (choose from*"])


def test_unknown_marker_argument_is_a_usage_error(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(
        """
        import pytest

        @pytest.mark.queryplan(use_index="typo_idx")
        def test_typo():
            pass
        """
    )
    result = django_pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*@pytest.mark.queryplan got an unexpected keyword argument 'use_index' (did you "
            "mean 'uses_index'?); it takes keyword arguments only: queryplan(uses_index*"
        ]
    )


def test_without_django_the_plugin_does_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:django")
    result.assert_outcomes(passed=1)
    # Beyond pytest's own "plugins: ..., queryplan-x.y" header, not a word from us.
    output = [line for line in result.outlines if not line.startswith("plugins:")]
    assert "queryplan" not in "\n".join(output).lower()
    # Loading the plugin imports neither Django nor the database driver.
    probe = pytester.run(
        sys.executable,
        "-c",
        "import sys, pytest_queryplan.plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'psycopg')))",
    )
    assert probe.ret == 0
    assert probe.outlines[-1] == "[]"
