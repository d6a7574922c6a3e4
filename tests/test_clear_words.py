"""Clear words where the plugin cannot do its job: a database it does not explain on, an
unknown alias, a bad marker argument. Never silence, never a traceback from its insides.

Inner runs use real settings (SQLite, or upstream's PostgreSQL plus a SQLite alias);
serially and under ``-n 2`` where "once per run" is the point.
"""

from __future__ import annotations

import pytest

from pytest_queryplan import QueryPlanUsageError
from tests.conftest import write_ini

RUNS = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist")]

SQLITE_SETTINGS = """
from upstream.settings import *  # noqa: F403

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""

MIXED_SETTINGS = """
from upstream.settings import *  # noqa: F403

DATABASES = {
    **DATABASES,  # noqa: F405
    "other": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "TEST": {"MIGRATE": False},
    },
}
"""

SQLITE_TESTS = """
import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


def test_lookup():
    assert not User.objects.filter(first_name="x").exists()


def test_another_lookup():
    assert not User.objects.filter(last_name="x").exists()


@pytest.mark.queryplan(uses_index="auth_user_first_name_idx")
def test_marked():
    assert not User.objects.filter(first_name="x").exists()
"""

SQLITE_WARNING = (
    "queryplan: database 'default' is sqlite (django.db.backends.sqlite3); pytest-queryplan "
    "explains PostgreSQL only, so --queryplan-guard checks no query run there."
)


@pytest.fixture
def sqlite_suite(django_pytester: pytest.Pytester) -> pytest.Pytester:
    django_pytester.makepyfile(sqlite_settings=SQLITE_SETTINGS, test_sqlite=SQLITE_TESTS)
    write_ini(django_pytester, settings="sqlite_settings")
    return django_pytester


@pytest.mark.parametrize("xdist", RUNS)
def test_guard_fail_on_sqlite_is_one_clear_error(sqlite_suite: pytest.Pytester, xdist) -> None:
    result = sqlite_suite.runpytest_subprocess("--queryplan-guard=fail", *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: --queryplan-guard=fail cannot check anything: database 'default' is sqlite "
        "(django.db.backends.sqlite3), and pytest-queryplan explains PostgreSQL only. Run the "
        "guard against a PostgreSQL DATABASES setting, or leave --queryplan-guard off for "
        "this suite."
    ]
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


@pytest.mark.parametrize("xdist", RUNS)
def test_guard_warn_on_sqlite_is_one_warning(sqlite_suite: pytest.Pytester, xdist) -> None:
    result = sqlite_suite.runpytest_subprocess("--queryplan-guard=warn", *xdist)
    result.assert_outcomes(passed=3, warnings=2)  # the guard's, and the marker's
    text = result.stdout.str()
    assert text.count(SQLITE_WARNING) == 1
    assert text.count("so @pytest.mark.queryplan(using=...) checks nothing there.") == 1


def test_marker_on_sqlite_warns_and_checks_nothing(sqlite_suite: pytest.Pytester) -> None:
    result = sqlite_suite.runpytest_subprocess()
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*UnsupportedDatabaseWarning: queryplan: database 'default' is sqlite "
            "(django.db.backends.sqlite3); pytest-queryplan explains PostgreSQL only, so "
            "@pytest.mark.queryplan(using=...) checks nothing there."
        ]
    )


def test_a_postgresql_suite_with_a_sqlite_alias_is_guarded_and_told(
    django_pytester: pytest.Pytester,
) -> None:
    """The guard still does its job on PostgreSQL; the other alias is named, not an error."""
    django_pytester.makepyfile(
        mixed_settings=MIXED_SETTINGS,
        test_mixed="""
        import pytest
        from upstream.models import Customer

        @pytest.mark.django_db
        def test_lost_index():
            Customer.objects.filter(name="Acme").exists()
        """,
    )
    write_ini(django_pytester, settings="mixed_settings")
    result = django_pytester.runpytest_subprocess("--queryplan-guard=fail")
    result.assert_outcomes(failed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*queryplan: database 'other' is sqlite (django.db.backends.sqlite3); "
            "pytest-queryplan explains PostgreSQL only, so --queryplan-guard checks no query "
            "run there.",
        ]
    )
    result.stdout.fnmatch_lines(["guard: fail (mode forced, scope all), 1 finding in 1 test"])


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            'using="replica"',
            "Unknown database alias 'replica': settings.DATABASES defines 'default'. "
            "Pass one of those as using=...",
        ),
        (
            'mode="bogus"',
            "queryplan(mode=...): 'bogus' is not a valid queryplan mode; use one of "
            "'forced', 'natural', 'generic'.",
        ),
        (
            "ordered=True",
            "queryplan(ordered=..., keys=...) say how the index in uses_index serves the "
            "query: name exactly one index in uses_index (got 0).",
        ),
        (
            'uses_index="x", keys=3',
            "queryplan(keys=...) takes a list of the index's key columns (or field names), "
            'or "all", not 3.',
        ),
    ],
)
def test_bad_marker_arguments_stop_the_run_at_collection(
    django_pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    django_pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.django_db
        @pytest.mark.queryplan({arguments})
        def test_marked():
            open("body-ran", "w").close()
        """
    )
    result = django_pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    nodeid = "test_bad_marker_arguments_stop_the_run_at_collection.py::test_marked"
    assert errors == [f"ERROR: {nodeid}: @pytest.mark.queryplan: {message}"]
    assert not (django_pytester.path / "body-ran").exists()


@pytest.mark.django_db
def test_capture_with_an_unknown_alias_is_one_clear_line(queryplan) -> None:
    with pytest.raises(QueryPlanUsageError) as error:
        queryplan.capture(using="replica")
    assert str(error.value) == (
        "Unknown database alias 'replica': settings.DATABASES defines 'default'. "
        "Pass one of those as using=..."
    )
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_usage_errors_show_the_tests_line_not_the_plugins_frames(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(
        """
        import pytest
        from upstream.models import Customer, UserProfile

        @pytest.mark.django_db
        def test_capture_alias(queryplan):
            with queryplan.capture(using="replica"):
                pass

        @pytest.mark.django_db
        def test_explain_bad_sql(queryplan):
            queryplan.explain("SELEC broken")

        @pytest.mark.django_db
        def test_without_the_index_name(assert_uses_index):
            assert_uses_index(Customer.objects.all())

        def test_no_database_access(assert_uses_index):
            assert_uses_index(UserProfile.objects.all(), "userprofile_customer_role_idx")
        """
    )
    result = django_pytester.runpytest_subprocess()
    result.assert_outcomes(failed=4)
    text = result.stdout.str()
    assert "src/pytest_queryplan/" not in text
    assert "ConnectionDoesNotExist" not in text and "Database access not allowed" not in text
    expected = {
        "test_capture_alias": [
            '*with queryplan.capture(using="replica"):',
            "E   *QueryPlanUsageError: Unknown database alias 'replica'*",
        ],
        "test_explain_bad_sql": [
            '*queryplan.explain("SELEC broken")',
            "E   *QueryPlanUsageError: PostgreSQL could not EXPLAIN the query: syntax error*",
        ],
        "test_without_the_index_name": [
            "*assert_uses_index(Customer.objects.all())",
            "E   *QueryPlanUsageError: assert_uses_index(QuerySet) is missing the index name*",
        ],
        "test_no_database_access": [
            "*assert_uses_index(UserProfile.objects.all(), *",
            "E   *QueryPlanUsageError: assert_uses_index needs the database, and this test may "
            "not use it: mark the test with @pytest.mark.django_db (or request the db fixture).",
        ],
    }
    for test, lines in expected.items():
        result.stdout.fnmatch_lines([f"*_ {test} _*", *lines])
