"""Which tests the suite-wide features watch, and on which connections.

Deciding whether a test uses the database looks only at its markers, fixtures and class,
so a test that never touches the database costs nothing and Django is never imported for
it. What the guard finds is a check like any other
(:class:`~pytest_queryplan.core.checks.NoFilteredFullScan`), judged in ``watch.py``.
"""

from __future__ import annotations

import pytest

# Every fixture through which pytest-django hands out database access.
DB_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
        "_django_db_helper",
    }
)


def uses_database(item: pytest.Item) -> bool:
    """Whether ``item`` may touch the database: a django_db marker, a database fixture, or
    a Django test case class with ``databases`` (the only tests pytest-django lets in)."""
    if item.get_closest_marker("django_db") is not None:
        return True
    if DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    return bool(getattr(getattr(item, "cls", None), "databases", None))


def postgres_aliases() -> set[str]:
    """Every PostgreSQL connection Django is configured with; none without Django (a
    project may well have a fixture called ``db`` of its own)."""
    try:
        from django.conf import settings
        from django.db import connections
    except ImportError:
        return set()
    if not settings.configured:
        return set()
    return {alias for alias in connections if connections[alias].vendor == "postgresql"}
