"""Fixtures for the upstream tests: row factories, raw PostgreSQL connections, migrations."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from upstream.alerts.models import AlertRule, Channel, DriftEvent
from upstream.database import connect
from upstream.models import Customer, Role, UserProfile

PHASE6 = ("upstream", "0002_add_missing_indexes_phase6")
PHASE6_INDEXES = ("userprofile_customer_role_idx", "alertrule_eval_priority_idx")


@pytest.fixture
def make_customer() -> Callable[..., Customer]:
    """Create a customer; names and slugs are unique within the test."""
    numbers = itertools.count(1)

    def make(name: str | None = None) -> Customer:
        n = next(numbers)
        return Customer.objects.create(name=name or f"Customer {n}", slug=f"customer-{n}")

    return make


@pytest.fixture
def make_profile(django_user_model: Any) -> Callable[..., UserProfile]:
    """Create a user and their profile with ``role`` in ``customer``."""
    numbers = itertools.count(1)

    def make(customer: Customer, role: str = Role.VIEWER) -> UserProfile:
        user = django_user_model.objects.create(username=f"{role}-{next(numbers)}")
        return UserProfile.objects.create(user=user, customer=customer, role=role)

    return make


@pytest.fixture
def make_rule() -> Callable[..., AlertRule]:
    """Create an alert rule; by default enabled, any metric, any severity, priority 0."""
    numbers = itertools.count(1)

    def make(customer: Customer, **fields: Any) -> AlertRule:
        n = next(numbers)
        values: dict[str, Any] = {
            "name": f"rule {n}",
            "channel": Channel.EMAIL,
            "destination": f"team-{n}@example.com",
            **fields,
        }
        return AlertRule.objects.create(customer=customer, **values)

    return make


@pytest.fixture
def make_event() -> Callable[..., DriftEvent]:
    """Create a drift event for ``customer``."""

    def make(
        customer: Customer, metric: str = "claims_denial_rate", severity: int = 50
    ) -> DriftEvent:
        return DriftEvent.objects.create(customer=customer, metric=metric, severity=severity)

    return make


@pytest.fixture
def pg_connect() -> Callable[..., psycopg.Connection]:
    """Open an extra autocommit psycopg connection to the test database (close it yourself).

    Built from Django's settings, so it reaches the embedded server's Unix socket or the
    DATABASE_URL server alike, and the per-worker test database under xdist.
    """

    def connect_to_test_database() -> psycopg.Connection:
        return connect(connection.settings_dict, autocommit=True)

    return connect_to_test_database


@pytest.fixture
def index_state() -> Callable[[], dict[str, tuple[str, bool]]]:
    """Read the upstream tables' indexes: ``{name: (pg_indexes.indexdef, indisvalid)}``."""

    def read() -> dict[str, tuple[str, bool]]:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT ix.indexname, ix.indexdef, i.indisvalid
                FROM pg_indexes ix
                JOIN pg_index i
                  ON i.indexrelid = format('%I.%I', ix.schemaname, ix.indexname)::regclass
                WHERE ix.schemaname = current_schema() AND ix.tablename LIKE 'upstream%'
                """
            )
            return {name: (indexdef, valid) for name, indexdef, valid in cursor.fetchall()}

    return read


@pytest.fixture
def upstream_at_0001(transactional_db: None) -> Iterator[None]:
    """Migrate upstream back to 0001 (no phase 6 indexes); always migrate forward after.

    Other tests expect the latest schema, so the teardown restores it even when the test
    failed halfway: a concurrent build that died leaves an INVALID index behind and an
    unrecorded migration, and that index is dropped before migrating forward again.
    """
    try:
        call_command("migrate", "upstream", "0001", verbosity=0)
        yield
    finally:
        if PHASE6 not in MigrationRecorder(connection).applied_migrations():
            with connection.cursor() as cursor:
                for name in PHASE6_INDEXES:
                    cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
        call_command("migrate", "upstream", verbosity=0)
