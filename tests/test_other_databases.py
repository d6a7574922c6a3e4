"""One small Django project, its tests run once per database the plugin explains besides
PostgreSQL: SQLite (in process) and MariaDB (the server at ``QUERYPLAN_MARIADB_URL``,
127.0.0.1:3306 as root by default, each run in a database of its own, dropped after).

The same tests, the same verdicts: the served lookup passes; an unserved lookup and a
function on the key column fail naming the index, the database and a suggestion; the
marker fails on an unserved body; ``--queryplan-guard=fail`` fails the application's full
read and nothing else.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.conftest import write_ini

MODELS = """
from django.db import models


class Member(models.Model):
    customer_id = models.IntegerField()
    role = models.CharField(max_length=16)
    email = models.CharField(max_length=100)

    class Meta:
        app_label = "memberapp"
        indexes = [models.Index(fields=["customer_id", "role"], name="member_cust_role_idx")]
"""

SERVICES = """
from memberapp.models import Member


def owners(customer_id):
    return list(Member.objects.filter(customer_id=customer_id, role="owner"))


def by_email(email):
    return list(Member.objects.filter(email=email))
"""

CHECKS = """
import pytest
from django.db.models.functions import Upper
from django.test import TestCase

from memberapp.models import Member
from pytest_queryplan.testcase import QueryPlanMixin

pytestmark = pytest.mark.django_db


def test_served(assert_uses_index):
    assert_uses_index(Member.objects.filter(customer_id=3, role="owner"), "member_cust_role_idx")


def test_unserved(assert_uses_index):
    assert_uses_index(Member.objects.filter(role="owner"), "member_cust_role_idx")


def test_function_on_key(assert_uses_index):
    query = Member.objects.annotate(r=Upper("role")).filter(customer_id=3, r="OWNER")
    assert_uses_index(query, "member_cust_role_idx")


def test_block_served(assert_uses_index):
    Member.objects.create(customer_id=3, role="owner", email="a@example.com")
    with assert_uses_index("member_cust_role_idx"):
        assert len(Member.objects.filter(customer_id=3, role="owner")) == 1


def test_explain_and_capture(queryplan):
    plan = queryplan.explain(Member.objects.filter(customer_id=3, role="owner"))
    assert plan.uses_index("member_cust_role_idx")
    with queryplan.capture() as captured:
        list(Member.objects.filter(email="z@example.com"))
    assert [query.plan.root.node_type for query in captured] == ["Seq Scan"]


class MemberTests(QueryPlanMixin, TestCase):
    def test_served(self):
        owners = Member.objects.filter(customer_id=3, role="owner")
        self.assertUsesIndex(owners, "member_cust_role_idx")
        with self.assertUsesIndex("member_cust_role_idx"):
            list(owners)


@pytest.mark.queryplan(uses_index="member_cust_role_idx")
def test_marker_served():
    list(Member.objects.filter(customer_id=3, role="owner"))


@pytest.mark.queryplan(uses_index="member_cust_role_idx")
def test_marker_unserved():
    list(Member.objects.filter(role="owner"))
"""

APP = """
import pytest

from memberapp import services
from memberapp.models import Member

pytestmark = pytest.mark.django_db


def test_app_full_read():
    services.by_email("x@example.com")


def test_app_served():
    services.owners(3)


def test_full_read_in_test_code():
    list(Member.objects.filter(email="y@example.com"))
"""

SAFETY = """
import pytest
from django.db import connection

from memberapp.models import Member
from pytest_queryplan import QueryPlanUsageError

pytestmark = pytest.mark.django_db


def indexes():
    return {info.name for info in __import__(
        "pytest_queryplan.dialects", fromlist=["get_backend"]
    ).get_backend("default").indexes_on(["memberapp_member"])}


def in_transaction():
    if connection.vendor == "sqlite":
        return connection.connection.in_transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@in_transaction")
        return bool(cursor.fetchone()[0])


def test_checks_leave_the_tests_transaction_as_it_was(assert_uses_index, queryplan):
    Member.objects.create(customer_id=3, role="owner", email="a@example.com")
    before = indexes()
    with pytest.raises(AssertionError, match="Suggestion"):  # tried on SQLite, not on MariaDB
        assert_uses_index(Member.objects.filter(role="owner"), "member_cust_role_idx")
    queryplan.explain("UPDATE memberapp_member SET role = 'x' WHERE customer_id = 3")
    queryplan.explain("DELETE FROM memberapp_member")
    with pytest.raises(QueryPlanUsageError, match="could not EXPLAIN the query"):
        queryplan.explain("SELEC broken")
    assert indexes() == before and "member_role_idx" not in before
    assert in_transaction() and connection.in_atomic_block
    assert list(Member.objects.values_list("role", flat=True)) == ["owner"]


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_no_transaction_is_left_open(assert_uses_index):
    with pytest.raises(AssertionError):
        assert_uses_index(Member.objects.filter(role="owner"), "member_cust_role_idx")
    assert connection.get_autocommit() and not in_transaction()
    assert "member_role_idx" not in indexes()


def test_analyze_is_refused_with_the_reason(queryplan):
    with pytest.raises(QueryPlanUsageError, match="PostgreSQL"):
        queryplan.explain(Member.objects.all(), analyze=True)
"""

SQLITE_SETTINGS = """
SECRET_KEY = "queryplan"
INSTALLED_APPS = ["memberapp"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

MARIADB_SETTINGS = """
{driver}
SECRET_KEY = "queryplan"
INSTALLED_APPS = ["memberapp"]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.mysql",
        "NAME": {name!r},
        "HOST": {host!r},
        "PORT": {port!r},
        "USER": {user!r},
        "PASSWORD": {password!r},
        "TEST": {{"NAME": {name!r}}},
    }}
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

PYMYSQL = "import pymysql\n\npymysql.install_as_MySQLdb()\n"

#: What each database's failure texts say, by vendor.
SAYS = {
    "sqlite": {
        "title": "SQLite",
        "scan": "Seq Scan on memberapp_member  ?SCAN memberapp_member?",
        "create": 'CREATE INDEX "member_role_idx" ON "memberapp_member" ("role");',
        "suggestion": "*Suggestion (tried: SQLite searched it when it was created inside the "
        "rolled-back savepoint*",
    },
    "mariadb": {
        "title": "MariaDB",
        "scan": "Seq Scan on memberapp_member  ?ALL?",
        "create": "CREATE INDEX `member_role_idx` ON `memberapp_member` (`role`) "
        "ALGORITHM=INPLACE LOCK=NONE;",
        "suggestion": "*Suggestion (unverified: MariaDB commits the transaction on any DDL, so "
        "it was not created and tried here*",
    },
}


def mariadb_server() -> dict[str, object]:
    url = urlparse(os.environ.get("QUERYPLAN_MARIADB_URL", "mysql://root@127.0.0.1:3306"))
    return {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 3306,
        "user": url.username or "root",
        "password": url.password or "",
    }


def _project(pytester: pytest.Pytester, settings: str) -> pytest.Pytester:
    pytester.mkpydir("memberapp")
    pytester.makepyfile(
        **{
            "memberapp/models": MODELS,
            "memberapp/services": SERVICES,
            "db_settings": settings,
            "test_checks": CHECKS,
            "test_app": APP,
            "test_safety": SAFETY,
        }
    )
    write_ini(pytester, settings="db_settings")
    return pytester


def _connect_mariadb(database: str | None = None) -> object:
    """A PyMySQL connection to the MariaDB server the tests use, or a skip saying why not."""
    pymysql = pytest.importorskip("pymysql", reason="PyMySQL (the suite extra) is not installed")
    server = mariadb_server()
    try:
        return pymysql.connect(
            host=server["host"],
            port=server["port"],
            user=server["user"],
            password=server["password"],
            database=database,
            autocommit=True,
            connect_timeout=5,
        )
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB at {server['host']}:{server['port']} is unreachable: {exc}")


def drop_database(name: str) -> None:
    connection = _connect_mariadb()
    try:
        with connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        connection.close()  # type: ignore[attr-defined]


def mariadb_settings(name: str, driver: str) -> str:
    server = mariadb_server()
    return MARIADB_SETTINGS.format(
        driver=PYMYSQL if driver == "pymysql" else "", name=name, **server
    )


@pytest.fixture(params=["sqlite", "mariadb-mysqlclient", "mariadb-pymysql"])
def project(
    request: pytest.FixtureRequest, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, pytest.Pytester]]:
    """(vendor, the project set up for it): SQLite in memory, or MariaDB through each
    driver Django's mysql backend takes, on a database of its own, dropped afterwards."""
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    vendor, _, driver = request.param.partition("-")
    if vendor == "sqlite":
        yield vendor, _project(pytester, SQLITE_SETTINGS)
        return
    if driver == "mysqlclient":
        pytest.importorskip("MySQLdb", reason="mysqlclient is not installed (it needs a C build)")
    _connect_mariadb().close()  # type: ignore[attr-defined]
    name = unique_name()
    try:
        yield vendor, _project(pytester, mariadb_settings(name, driver))
    finally:
        drop_database(name)


def test_the_same_checks_pass_and_fail_alike(project: tuple[str, pytest.Pytester]) -> None:
    vendor, pytester = project
    says = SAYS[vendor]
    result = pytester.runpytest_subprocess("test_checks.py")
    result.assert_outcomes(passed=5, failed=3)
    text = result.stdout.str()
    for test in ("test_unserved", "test_function_on_key", "test_marker_unserved"):
        assert f"FAILED test_checks.py::{test}" in text
    title = says["title"]
    result.stdout.fnmatch_lines(
        [
            "*_ test_unserved _*",
            '*Expected the query to use index "member_cust_role_idx", but the planner did not.',
            f"*(mode: forced, on {title}: *",
            f"*Even in forced mode {title} read memberapp_member whole: no index can serve "
            "this query's conditions, member_cust_role_idx included.",
            "*role: the index starts with customer_id, which the query does not constrain*",
            says["suggestion"],
            '*models.Index(fields=?"role"?, name="member_role_idx")',
            f"*{says['create']}",
            f"*{says['scan']}  <-- sequential scan, not member_cust_role_idx",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_function_on_key _*",
            '*Expected the query to be served by index "member_cust_role_idx", but the planner '
            "only scanned it*",
            f"*(mode: forced, on {title}: *",
            "*the Index Cond searched customer_id; left to the Filter: role.",
            "*Hint: role: upper() on the column*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_marker_unserved _*",
            '*Expected a query in the test body to use index "member_cust_role_idx"; none of its 1 '
            "query on memberapp_member did (1 in all).",
            f"*Even in forced mode {title} read memberapp_member whole*",
            f"*{says['create']}",
        ]
    )
    assert "PostgreSQL" not in text


def test_the_guard_fails_the_applications_full_read_and_nothing_else(
    project: tuple[str, pytest.Pytester],
) -> None:
    vendor, pytester = project
    result = pytester.runpytest_subprocess(
        "test_app.py", "--queryplan-guard=fail", "-o", "queryplan_guard_scope=app"
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_app_full_read _*",
            "*queryplan guard (--queryplan-guard=fail): Tables read whole with a Filter*",
            f"*(mode: forced, on {SAYS[vendor]['title']}: *",
            "*Run by: memberapp/services.py:9 in by_email (test: test_app.py:10 in "
            "test_app_full_read)",
            "*<-- sequential scan with a Filter",
            '*models.Index(fields=?"email"?, name="member_email_idx")',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "guard: fail (mode forced, scope app), 1 finding in 1 test",
            "  FAIL filtered-full-read memberapp_member: * at memberapp/services.py:9 in "
            "by_email  ?1 test: test_app.py::test_app_full_read?",
        ]
    )
    assert "PostgreSQL" not in result.stdout.str()


def test_checks_leave_no_trace(project: tuple[str, pytest.Pytester]) -> None:
    """Nothing a check runs stays: no index, no row change, the transaction as it was."""
    _, pytester = project
    result = pytester.runpytest_subprocess("test_safety.py")
    result.assert_outcomes(passed=3)


def test_a_mode_the_database_lacks_is_a_usage_error_naming_it(
    project: tuple[str, pytest.Pytester],
) -> None:
    vendor, pytester = project
    title = SAYS[vendor]["title"]
    pytester.makepyfile(
        test_generic=textwrap.dedent(
            """
            import pytest

            @pytest.mark.django_db
            @pytest.mark.queryplan(mode="generic")
            def test_generic():
                pass
            """
        )
    )
    result = pytester.runpytest_subprocess("test_generic.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert errors == [
        f"ERROR: test_generic.py::test_generic: @pytest.mark.queryplan: mode 'generic' does not "
        f"exist on {title}: it has 'forced', 'natural'. ('generic' is PostgreSQL's: the plan of "
        "a prepared statement.)"
    ]
    pytester.makepyfile(
        test_natural=textwrap.dedent(
            """
            import pytest
            from memberapp.models import Member

            @pytest.mark.django_db
            def test_natural(assert_uses_index):
                query = Member.objects.filter(role="owner")
                assert_uses_index(query, "member_cust_role_idx", mode="natural")
            """
        )
    )
    result = pytester.runpytest_subprocess("test_natural.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*(mode: natural, on {title}: *",
            f"*{title} read memberapp_member whole. On a small test table that may be the right "
            "choice*",
        ]
    )
    assert "Suggestion" not in result.stdout.str()  # natural mode suggests nothing


def test_forbid_takes_the_databases_own_words(project: tuple[str, pytest.Pytester]) -> None:
    vendor, pytester = project
    word, wrong = {"sqlite": ("SCAN", "Seq Scan"), "mariadb": ("ALL", "SCAN")}[vendor]
    pytester.makepyfile(
        test_forbid=textwrap.dedent(
            f"""
            import pytest
            from memberapp.models import Member

            @pytest.mark.django_db
            @pytest.mark.queryplan(forbid=[{word!r}])
            def test_forbidden():
                list(Member.objects.filter(email="x"))
            """
        )
    )
    result = pytester.runpytest_subprocess("test_forbid.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*Forbidden plan nodes ({word})*", f"*<-- forbidden: {word}"])
    (pytester.path / "test_forbid.py").write_text(
        (pytester.path / "test_forbid.py").read_text().replace(repr(word), repr(wrong))
    )
    result = pytester.runpytest_subprocess("test_forbid.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*forbid: {wrong!r} is not a word {SAYS[vendor]['title']}*"])


def unique_name() -> str:
    return f"qp_test_{uuid.uuid4().hex[:12]}"
