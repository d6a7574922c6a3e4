"""Fixtures for the plugin's own tests: inner pytest runs against the upstream project.

Also owns the inner runs' test databases: made on demand by the inner runs, reused across
them, dropped when the outer session ends, so none stays behind on a shared server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Bounds on the cleanup: a server that does not answer, or a database some stray session
# still holds, fails the teardown after seconds instead of hanging the run.
_CLEANUP_OPTIONS = "-c lock_timeout=10s -c statement_timeout=60s"


def _asyncio_ini() -> list[str]:
    """pytest-asyncio 0.24+ warns when its loop scope is unset; 0.23 warns when it is set."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(part) for part in version("pytest-asyncio").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return []
    return ["asyncio_default_fixture_loop_scope = function"] if (major, minor) >= (0, 24) else []


_ASYNCIO_INI = _asyncio_ini()


def write_ini(
    pytester: pytest.Pytester, settings: str = "upstream.settings", extra: Sequence[str] = ()
) -> None:
    """The inner run's ini: upstream on the path, its own reused test database.

    The inner suites run their queries straight from test functions, so the guard judges
    every query (scope ``all``); the tests of scope ``app`` pass the flag to say otherwise.
    """
    lines = [
        "[pytest]",
        f"DJANGO_SETTINGS_MODULE = {settings}",
        f"pythonpath = . {REPO_ROOT}",
        "addopts = --reuse-db -p no:cacheprovider",
        *_ASYNCIO_INI,
        "queryplan_guard_scope = all",
        *extra,
    ]
    (pytester.path / "tox.ini").write_text("\n".join(lines) + "\n")


def inner_database_names(base: str, existing: Sequence[str]) -> list[str]:
    """The databases inner runs made from ``base``: pytest-django suffixes the name with
    the tox env under ``tox p`` (``TOX_PARALLEL_ENV``) and with the xdist worker under -n."""
    tox = os.environ.get("TOX_PARALLEL_ENV")
    tox_part = f"(_{re.escape(tox)})?" if tox else ""
    pattern = re.compile(rf"{re.escape(base)}{tox_part}(_gw\d+)?")
    return sorted(name for name in existing if pattern.fullmatch(name))


def drop_inner_databases(base: str) -> list[str]:
    """Drop every database an inner run made from ``base``; returns the names dropped."""
    from django.conf import settings

    from upstream.database import connect

    try:
        from psycopg import sql
    except ImportError:  # the psycopg2 run
        from psycopg2 import sql

    connection = connect(
        settings.DATABASES["default"],
        autocommit=True,
        connect_timeout=10,
        options=_CLEANUP_OPTIONS,
    )
    try:  # (no `with`: psycopg2's opens a transaction, where DROP DATABASE cannot run)
        cursor = connection.cursor()
        cursor.execute("SELECT datname FROM pg_database")
        names = inner_database_names(base, [row[0] for row in cursor.fetchall()])
        for name in names:
            # FORCE (PostgreSQL 13+) ends a leftover session instead of waiting on it.
            statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            cursor.execute(statement.format(sql.Identifier(name)))
    finally:
        connection.close()
    return names


@pytest.fixture(scope="session")
def inner_database() -> Iterator[str]:
    """This process's name for the inner runs' test database, dropped at session end.

    One per xdist worker (each worker drops its own), derived from the outer run's
    ``QUERYPLAN_TEST_DB_NAME`` so that two outer runs sharing a server never collide.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    outer = os.environ.get("QUERYPLAN_TEST_DB_NAME", "test_queryplan")
    base = f"{outer}_inner_{worker}"
    yield base
    drop_inner_databases(base)


@pytest.fixture
def django_pytester(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, inner_database: str
) -> pytest.Pytester:
    """A pytester whose inner runs use upstream's settings and a test database of their own.

    The inner database is named per xdist worker and reused across inner runs (--reuse-db),
    so inner runs never touch the outer run's data and pay for migrations once.
    """
    monkeypatch.setenv("QUERYPLAN_TEST_DB_NAME", inner_database)
    # The ini names the settings; an inherited variable would take precedence over it.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    write_ini(pytester)
    return pytester
