"""A check leaves data and session exactly as they were, and binds values through the driver.

Every test here runs real EXPLAINs on the suite's PostgreSQL, inside pytest-django's
per-test transaction (``db``) or in autocommit (``transactional_db``).
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from pytest_queryplan import QueryPlanUsageError
from upstream.models import Customer

OWNER_INDEX = "userprofile_customer_role_idx"


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def transaction_status() -> str:
    # psycopg 3 reports an enum, psycopg2 an int: libpq's numbers either way.
    status = int(connection.connection.info.transaction_status)
    return ("IDLE", "ACTIVE", "INTRANS", "INERROR", "UNKNOWN")[status]


@pytest.fixture
def customers(db):
    Customer.objects.bulk_create(Customer(name=f"c{i}", slug=f"c{i}") for i in range(5))


@pytest.mark.parametrize("mode", ["forced", "natural"])
def test_enable_seqscan_restored_in_transaction(queryplan, customers, mode):
    before = scalar("SHOW enable_seqscan")
    plan = queryplan.explain(Customer.objects.filter(slug="c1"), mode=mode)
    assert plan.tables == {"upstream_customer"}
    assert scalar("SHOW enable_seqscan") == before == "on"


def test_users_own_setting_survives_a_check(queryplan, customers):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        queryplan.explain(Customer.objects.filter(slug="c1"), mode="natural")
        assert scalar("SHOW enable_seqscan") == "off"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")


@pytest.mark.django_db(transaction=True)
def test_autocommit_session_left_idle_and_unchanged(queryplan, assert_uses_index):
    assert connection.get_autocommit()
    Customer.objects.create(name="a", slug="a")
    queryplan.explain(("DELETE FROM upstream_customer WHERE slug = %s", ["a"]), analyze=True)
    assert_uses_index(
        (
            "SELECT count(*) FROM upstream_userprofile WHERE customer_id = %s AND role = %s",
            [1, "owner"],
        ),
        OWNER_INDEX,
    )
    assert transaction_status() == "IDLE"
    assert connection.get_autocommit()
    assert scalar("SHOW enable_seqscan") == "on"
    assert Customer.objects.filter(slug="a").exists()


@pytest.mark.parametrize(
    "sql, params",
    [
        ("INSERT INTO upstream_customer (name, slug) VALUES (%s, %s)", ["new", "new"]),
        ("UPDATE upstream_customer SET name = %s WHERE slug = %s", ["renamed", "c1"]),
        ("DELETE FROM upstream_customer WHERE slug = %s", ["c2"]),
    ],
)
def test_explain_analyze_of_writes_is_rolled_back(queryplan, customers, sql, params):
    before = sorted(Customer.objects.values_list("slug", "name"))
    plan = queryplan.explain((sql, params), analyze=True)
    assert plan.execution_time is not None  # it really ran
    assert sorted(Customer.objects.values_list("slug", "name")) == before
    assert transaction_status() == "INTRANS"


def test_analyze_is_off_by_default(queryplan, customers):
    plan = queryplan.explain(("DELETE FROM upstream_customer WHERE slug = %s", ["c1"]))
    assert plan.execution_time is None
    assert "Actual Rows" not in plan.root.raw


def test_failing_explain_does_not_poison_the_transaction(queryplan, assert_uses_index, customers):
    Customer.objects.create(name="kept", slug="kept")
    with pytest.raises(QueryPlanUsageError, match='relation "no_such_table" does not exist'):
        queryplan.explain("SELECT * FROM no_such_table")
    with pytest.raises(QueryPlanUsageError, match="could not EXPLAIN"):
        assert_uses_index("SELEC broken", OWNER_INDEX)
    # The surrounding transaction is intact: earlier work is there, new work succeeds.
    assert Customer.objects.filter(slug="kept").exists()
    Customer.objects.create(name="after", slug="after")
    assert Customer.objects.count() == 7


@pytest.mark.django_db(transaction=True)
def test_failing_explain_in_autocommit(queryplan):
    with pytest.raises(QueryPlanUsageError):
        queryplan.explain("SELECT * FROM no_such_table")
    assert transaction_status() == "IDLE"
    assert scalar("SELECT 1") == 1


def test_aborted_transaction_is_a_clear_usage_error(queryplan, customers):
    with transaction.atomic():
        with pytest.raises(Exception):  # noqa: B017 - any database error aborts the block
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")
        with pytest.raises(QueryPlanUsageError, match="already aborted"):
            queryplan.explain(Customer.objects.all())
        transaction.set_rollback(True)


def test_values_are_bound_by_the_driver_not_pasted(queryplan, customers):
    hostile = "x'; DROP TABLE upstream_customer; --"
    plan = queryplan.explain(Customer.objects.filter(slug=hostile), analyze=True)
    assert plan.tables == {"upstream_customer"} and plan.execution_time is not None
    assert Customer.objects.count() == 5
    # A literal % in SQL without parameters is not taken for a placeholder.
    queryplan.explain("SELECT * FROM upstream_customer WHERE slug LIKE 'c%'")
    queryplan.explain(("SELECT * FROM upstream_customer WHERE slug LIKE %s", ["c%"]))


def test_natural_mode_analyze_tables_sees_test_rows_and_rolls_back_statistics(queryplan, db):
    statistics = "SELECT count(*) FROM pg_statistic WHERE starelid = 'upstream_customer'::regclass"
    before = scalar(statistics)
    Customer.objects.bulk_create(Customer(name=f"n{i}", slug=f"n{i}") for i in range(700))
    fresh = queryplan.explain(Customer.objects.all(), mode="natural", analyze_tables=True)
    assert fresh.root.plan_rows == 700  # statistics include the rows this test inserted
    assert scalar(statistics) == before  # the pg_statistic rows went with the savepoint


@pytest.mark.django_db(transaction=True)
def test_setting_a_competitor_aside_never_waits_for_a_lock(assert_uses_index):
    """Forced mode drops a competing index inside its savepoint; another session's lock on
    the table (an idle transaction that read it is enough) makes DROP INDEX wait. The wait
    is bounded: the first plan stands, and the failure says which index stayed and why."""
    import uuid

    from upstream.database import connect

    table = f"qp_lock_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (a int, c int)")
        cursor.execute(f"INSERT INTO {table} SELECT g % 10, g FROM generate_series(1, 5000) g")
        cursor.execute(f"CREATE INDEX {table}_a ON {table} (a)")
        cursor.execute(f"CREATE INDEX {table}_c ON {table} (c)")
        cursor.execute(f"ANALYZE {table}")
        # Should the bound ever go, this test fails (statement timeout) instead of hanging.
        cursor.execute("SET statement_timeout = '20s'")
    other = connect(connection.settings_dict, options="-c statement_timeout=30000")
    try:
        target = (f"SELECT * FROM {table} WHERE a = %s AND c = %s", [7, 17])
        # The planner prefers the selective index on c; set aside, the one on a proves
        # that it *can* serve the query.
        assert_uses_index(target, f"{table}_a")
        other.cursor().execute(f"SELECT 1 FROM {table} LIMIT 1")  # holds ACCESS SHARE, idle
        with pytest.raises(AssertionError) as failure:
            assert_uses_index(target, f"{table}_a")
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
            cursor.execute(f"DROP TABLE {table}")
    text = str(failure.value)
    assert f"(Forced mode could not set the competing index {table}_c aside: " in text
    assert "lock timeout" in text
    assert transaction_status() == "IDLE"
