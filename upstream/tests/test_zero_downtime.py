"""Proof, not assumption, that the phase 6 migration keeps both tables writable.

Each concurrent build is held open by a writer transaction on its table (connection B):
CREATE INDEX CONCURRENTLY must wait for in-flight writers before it builds. While the
server shows the build waiting on B, a third connection inserts into that table under a
short lock_timeout, and succeeds. The contrast: the same CREATE INDEX without CONCURRENTLY,
left open in a transaction, makes that insert fail on the lock timeout.

Synchronisation goes through PostgreSQL's own state (pg_stat_progress_create_index),
never through sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from upstream.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)

LOCK_TIMEOUT = "500ms"
POLL_DEADLINE_SECONDS = 10


def set_lock_timeout(conn: psycopg.Connection) -> None:
    """Make ``conn`` give up on any lock it cannot get within LOCK_TIMEOUT."""
    conn.execute("SELECT set_config('lock_timeout', %s, false)", [LOCK_TIMEOUT])


def insert_profile(conn: psycopg.Connection, customer: Customer, username: str) -> None:
    user_id = conn.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
        " email, is_staff, is_active, date_joined)"
        " VALUES ('', false, %s, '', '', '', false, true, now()) RETURNING id",
        [username],
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO upstream_userprofile (user_id, customer_id, role) VALUES (%s, %s, 'viewer')",
        [user_id, customer.pk],
    )


def insert_rule(conn: psycopg.Connection, customer: Customer, name: str) -> None:
    conn.execute(
        "INSERT INTO upstream_alertrule (customer_id, name, enabled, routing_priority, metric,"
        " min_severity, channel, destination)"
        " VALUES (%s, %s, true, 5, '', 0, 'email', 'ops@example.com')",
        [customer.pk, name],
    )


# (table, the insert that must get through while that table's index builds)
TABLE_WRITES: list[tuple[str, Callable[[psycopg.Connection, Customer, str], None]]] = [
    ("upstream_userprofile", insert_profile),
    ("upstream_alertrule", insert_rule),
]


def wait_for_build_blocked_by(monitor: psycopg.Connection, table: str, blocker_pid: int) -> str:
    """Poll the server until a concurrent build on ``table`` waits on ``blocker_pid``.

    Returns the build's phase. Fails after POLL_DEADLINE_SECONDS rather than hanging.
    """
    deadline = time.monotonic() + POLL_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        row = monitor.execute(
            "SELECT phase FROM pg_stat_progress_create_index"
            " WHERE datname = current_database() AND relid = %s::regclass"
            " AND command = 'CREATE INDEX CONCURRENTLY' AND current_locker_pid = %s",
            [table, blocker_pid],
        ).fetchone()
        if row:
            return row[0]
        # A plain CREATE INDEX queues for a SHARE lock on the table instead, and every
        # write arriving after it would queue behind it.
        queued = monitor.execute(
            "SELECT mode FROM pg_locks"
            " WHERE locktype = 'relation' AND relation = %s::regclass AND NOT granted",
            [table],
        ).fetchone()
        if queued:
            pytest.fail(f"the migration waits for a {queued[0]} on {table}: writes are blocked")
    pytest.fail(f"no CREATE INDEX CONCURRENTLY on {table} waited for pid {blocker_pid}")


def build_in_progress(monitor: psycopg.Connection, table: str) -> bool:
    return bool(
        monitor.execute(
            "SELECT 1 FROM pg_stat_progress_create_index"
            " WHERE datname = current_database() AND relid = %s::regclass",
            [table],
        ).fetchone()
    )


def index_valid(monitor: psycopg.Connection, name: str) -> bool:
    row = monitor.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [name]
    ).fetchone()
    return bool(row and row[0])


def test_writes_go_through_while_the_migration_builds_its_indexes(
    upstream_at_0001, pg_connect, make_customer
):
    customer = make_customer()
    failures: list[BaseException] = []

    def apply_phase6() -> None:
        try:
            call_command("migrate", "upstream", "0002", verbosity=0)
        except BaseException as exc:  # noqa: B036 - re-raised in the test thread
            failures.append(exc)
        finally:
            connection.close()  # this thread's own Django connection

    # One in-flight writer per table, opened before the migration starts: each build
    # must wait for it. LOCK ... ROW EXCLUSIVE is exactly the lock an INSERT holds.
    blockers = {table: pg_connect() for table, _ in TABLE_WRITES}
    migration = threading.Thread(target=apply_phase6, name="migrate-0002")
    try:
        with pg_connect() as monitor, pg_connect() as writer:
            set_lock_timeout(writer)
            for table, blocker in blockers.items():
                blocker.execute("BEGIN")
                lock = sql.SQL("LOCK TABLE {} IN ROW EXCLUSIVE MODE")
                blocker.execute(lock.format(sql.Identifier(table)))
            migration.start()

            # The migration builds userprofile's index first, then alertrule's.
            for table, insert in TABLE_WRITES:
                blocker = blockers[table]
                phase = wait_for_build_blocked_by(monitor, table, blocker.info.backend_pid)
                assert phase == "waiting for writers before build"

                insert(writer, customer, f"written during {table} build")

                assert build_in_progress(monitor, table)  # the write happened mid-build
                blocker.execute("COMMIT")
    finally:
        for blocker in blockers.values():
            blocker.close()
        if migration.ident is not None:  # started
            migration.join(timeout=POLL_DEADLINE_SECONDS)

    assert not migration.is_alive(), "migration 0002 did not finish"
    if failures:
        raise failures[0]
    with pg_connect() as monitor:
        assert index_valid(monitor, "userprofile_customer_role_idx")
        assert index_valid(monitor, "alertrule_eval_priority_idx")
    assert customer.profiles.filter(user__username__startswith="written during").count() == 1
    assert customer.alert_rules.filter(name__startswith="written during").count() == 1


@pytest.mark.parametrize(("table", "insert"), TABLE_WRITES, ids=[t for t, _ in TABLE_WRITES])
def test_plain_create_index_blocks_writes(
    upstream_at_0001, pg_connect, make_customer, table, insert
):
    customer = make_customer()
    statements = call_command("sqlmigrate", "upstream", "0002").splitlines()
    concurrent = next(s for s in statements if s.startswith("CREATE INDEX") and table in s)
    plain = concurrent.replace("CREATE INDEX CONCURRENTLY", "CREATE INDEX")

    with pg_connect() as builder, pg_connect() as writer:
        set_lock_timeout(writer)
        builder.execute("BEGIN")
        builder.execute(plain)  # holds SHARE on the table until the transaction ends
        with pytest.raises(psycopg.errors.LockNotAvailable):
            insert(writer, customer, "blocked")
        builder.execute("ROLLBACK")

        insert(writer, customer, "after the build")  # the lock, nothing else, was in the way
