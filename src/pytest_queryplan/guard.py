"""The suite-wide guard (``--queryplan-guard``): which tests it watches, and what in their
plans is a finding.

Deciding whether a test uses the database looks only at its markers, fixtures and class,
so a test that never touches the database costs nothing and Django is never imported
for it. A finding is a filtered sequential scan (``checks.filtered_seq_scans``) on a table
that is neither allowed nor one of PostgreSQL's own catalogs (``pg_*``): Django's
migrations and introspection read those, and no index of the project's could serve them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_queryplan.core.defaults import Settings
    from pytest_queryplan.core.record import Finding
    from pytest_queryplan.db.capture import CapturedQuery

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
SYSTEM_CATALOG_PREFIX = "pg_"


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


def is_catalog(table: str) -> bool:
    return table.startswith(SYSTEM_CATALOG_PREFIX)


def user_tables(names: Iterable[str]) -> set[str]:
    """``names`` (of tables, or of indexes) without PostgreSQL's own catalogs."""
    return {name for name in names if not is_catalog(name)}


def seq_scan_findings(
    queries: Sequence[CapturedQuery], allow: Collection[str], level: str
) -> list[Finding]:
    """One finding per (table, query) whose plan reads the table in a filtered seq scan."""
    # Imported here: the marker imports this module at pytest start-up for uses_database.
    from pytest_queryplan.core.checks import filtered_seq_scans
    from pytest_queryplan.core.record import Finding
    from pytest_queryplan.core.sqltext import short_sql

    found: dict[tuple[str, str], Finding] = {}
    for query in queries:
        if query.plan is None:
            continue
        for node in filtered_seq_scans(query.plan, allow):
            table = node.relation_name or "?"
            if is_catalog(table):
                continue
            sql = short_sql(query.sql)
            found.setdefault((table, sql), Finding(table, sql, node.filter or "", level))
    return list(found.values())


def failure_text(
    queries: Sequence[CapturedQuery], allow: Collection[str], settings: Settings, mode: str
) -> str:
    """The failing test's message: the offending plans marked, and an index suggestion."""
    from pytest_queryplan.core.messages import findings
    from pytest_queryplan.db.assertions import seq_scan_suggestion

    catalogs = {t for q in queries if q.plan for t in q.plan.tables if is_catalog(t)}
    text = findings(
        queries,
        forbid=(),
        tables=None,
        allow=set(allow) | catalogs,
        mode=mode,
        verbose=settings.verbose,
        suggest=seq_scan_suggestion if mode == "forced" else None,
    )
    return f"queryplan guard (--queryplan-guard=fail): {text}"
