"""The benchmark's own database: created under a name of ours, migrated, always dropped.

Several people run suites on the same server, so nothing here touches another
database: ``bench_<pid>`` is created beside them and dropped by name in a ``finally``
(Ctrl-C and SIGTERM included), with ``WITH (FORCE)`` so a stray session cannot keep it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench import REPO_ROOT


def setup_django() -> None:
    """Configure Django with upstream's settings (embedded server, or ``DATABASE_URL``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "upstream.settings")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()


def server_settings() -> dict[str, Any]:
    """The ``default`` entry of ``DATABASES`` as the settings module built it."""
    from django.conf import settings

    return dict(settings.DATABASES["default"])


def admin_connection(entry: dict[str, Any]) -> Any:
    """An autocommit psycopg connection to ``entry``'s own database, for CREATE/DROP."""
    from upstream.database import connect

    return connect(entry, autocommit=True)


def _sql() -> Any:
    """The driver's ``sql`` module: psycopg 3's, or psycopg2's in a ``--b1-psycopg2`` run."""
    try:
        from psycopg import sql
    except ImportError:
        from psycopg2 import sql
    return sql


def admin_run(entry: dict[str, Any], statement: Any) -> Any:
    """Run one statement on an autocommit connection; its first row (or None). Through a
    cursor and without ``with``: both drivers alike (psycopg2's ``with`` opens a
    transaction, where CREATE and DROP DATABASE cannot run)."""
    admin = admin_connection(entry)
    try:
        cursor = admin.cursor()
        cursor.execute(statement)
        return cursor.fetchone() if cursor.description is not None else None
    finally:
        admin.close()


def drop_database(entry: dict[str, Any], name: str) -> None:
    """Drop ``name`` if it exists, whoever is still connected to it."""
    sql = _sql()
    admin_run(
        entry, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def server_version(entry: dict[str, Any]) -> str:
    row = admin_run(entry, "SHOW server_version")
    return str(row[0]) if row else "unknown"


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so ``finally`` blocks (the DROP) still run."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def bench_database(name: str) -> Iterator[str]:
    """Create ``name``, point Django's ``default`` connection at it, migrate; drop after."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    sql = _sql()
    entry = server_settings()
    original = entry["NAME"]
    admin_run(entry, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        connection.close()
        settings.DATABASES["default"]["NAME"] = name
        connection.settings_dict["NAME"] = name
        call_command("migrate", verbosity=0, interactive=False)
        yield name
    finally:
        connection.close()
        settings.DATABASES["default"]["NAME"] = original
        connection.settings_dict["NAME"] = original
        drop_database(entry, name)
