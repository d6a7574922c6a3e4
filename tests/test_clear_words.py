"""Clear words where the plugin cannot do its job: a database it does not explain on, an
unknown alias, a bad marker argument. Never silence, never a traceback from its insides.

Inner runs use real settings (a database no dialect explains: SQLite's backend under
another vendor's name; or upstream's PostgreSQL plus a SQLite alias);
serially and under ``-n 2`` where "once per run" is the point.
"""

from __future__ import annotations

import pytest

from pytest_queryplan import QueryPlanUsageError
from tests.conftest import write_ini

RUNS = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist")]

#: A database no dialect explains: SQLite's backend under another vendor's name.
ACME_BACKEND = """
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper


class DatabaseWrapper(SQLiteDatabaseWrapper):
    vendor = "acmedb"
"""

ACME_SETTINGS = """
from upstream.settings import *  # noqa: F403

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "acmedb", "NAME": ":memory:"}}
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

ACME_TESTS = """
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

SUPPORTED = "MariaDB, PostgreSQL and SQLite"
ACME_WARNING = (
    "queryplan: database 'default' is acmedb (acmedb); pytest-queryplan "
    f"explains {SUPPORTED} only, so --queryplan-guard checks no query run there."
)


@pytest.fixture
def acme_suite(django_pytester: pytest.Pytester) -> pytest.Pytester:
    django_pytester.mkpydir("acmedb")
    django_pytester.makepyfile(
        **{"acmedb/base": ACME_BACKEND, "acme_settings": ACME_SETTINGS, "test_acme": ACME_TESTS}
    )
    write_ini(django_pytester, settings="acme_settings")
    return django_pytester


@pytest.mark.parametrize("xdist", RUNS)
def test_guard_fail_on_an_unexplained_database_is_one_clear_error(
    acme_suite: pytest.Pytester, xdist
) -> None:
    result = acme_suite.runpytest_subprocess("--queryplan-guard=fail", *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: --queryplan-guard=fail cannot check anything: database 'default' is acmedb "
        f"(acmedb), and pytest-queryplan explains {SUPPORTED} only. Run the guard against one "
        "of those, or leave --queryplan-guard off for this suite."
    ]
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


@pytest.mark.parametrize("xdist", RUNS)
def test_guard_warn_on_an_unexplained_database_is_one_warning(
    acme_suite: pytest.Pytester, xdist
) -> None:
    result = acme_suite.runpytest_subprocess("--queryplan-guard=warn", *xdist)
    result.assert_outcomes(passed=3, warnings=2)  # the guard's, and the marker's
    text = result.stdout.str()
    assert text.count(ACME_WARNING) == 1
    assert text.count("so @pytest.mark.queryplan(using=...) checks nothing there.") == 1


def test_marker_on_an_unexplained_database_warns_and_checks_nothing(
    acme_suite: pytest.Pytester,
) -> None:
    result = acme_suite.runpytest_subprocess()
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*UnsupportedDatabaseWarning: queryplan: database 'default' is acmedb "
            f"(acmedb); pytest-queryplan explains {SUPPORTED} only, so "
            "@pytest.mark.queryplan(using=...) checks nothing there."
        ]
    )


def test_a_postgresql_and_a_sqlite_alias_are_each_judged_by_their_own_dialect(
    django_pytester: pytest.Pytester,
) -> None:
    """The guard judges each alias with its own database's rules, and says which it was."""
    django_pytester.makepyfile(
        mixed_settings=MIXED_SETTINGS,
        test_mixed="""
        import pytest
        from django.db import connections
        from upstream.models import Customer

        @pytest.mark.django_db(databases=["default", "other"])
        def test_lost_index_on_both():
            Customer.objects.filter(name="Acme").exists()
            with connections["other"].cursor() as cursor:
                cursor.execute("CREATE TABLE ledger (id integer PRIMARY KEY, payee text)")
                cursor.execute("SELECT id FROM ledger WHERE payee = %s", ["Acme"])
        """,
    )
    write_ini(django_pytester, settings="mixed_settings")
    result = django_pytester.runpytest_subprocess("--queryplan-guard=fail")
    result.assert_outcomes(failed=1)
    assert "UnsupportedDatabaseWarning" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*(mode: forced, on PostgreSQL: sequential scans discouraged with enable_seqscan*",
            "*Seq Scan on upstream_customer*<-- sequential scan with a Filter",
            "*(mode: forced, on SQLite: *)",
            "*Seq Scan on ledger  ?SCAN ledger?  <-- sequential scan with a Filter",
            '*CREATE INDEX "ledger_payee_idx" ON "ledger" ("payee");',
        ]
    )
    result.stdout.fnmatch_lines(["guard: fail (mode forced, scope all), 2 findings in 1 test"])


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


NO_DATABASE_MARK = """
import pytest
from upstream.models import Customer


@pytest.mark.queryplan(uses_index="customer_slug_idx")
def test_marked_without_database():
    assert not Customer.objects.filter(slug="x").exists()
"""


def test_a_marker_without_database_access_is_one_clear_line(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(test_no_db=NO_DATABASE_MARK)
    result = django_pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*_ test_marked_without_database _*",
            "@pytest.mark.queryplan needs the database, and this test may not use it: mark "
            "the test with @pytest.mark.django_db (or request the db fixture).",
            "*= short test summary info =*",
        ]
    )
    assert "RuntimeError" not in text and "Traceback" not in text
    lines = result.stdout.lines
    start = next(n for n, line in enumerate(lines) if " test_marked_without_database " in line)
    assert lines[start + 2].startswith("=") and "short test summary" in lines[start + 2]
