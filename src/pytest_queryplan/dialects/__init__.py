"""One dialect per database vendor, chosen by the Django connection's ``vendor``.

A dialect is two halves: the pure one the checks ask (``core.checks.dialect.Dialect``: the
plan format, the node vocabulary, the serve rules, the modes, suggestions) and the backend
that talks to a connection (``dialects.base.Backend``: EXPLAIN statements run so that they
leave no trace, catalog look-ups). Adding a database is a package here and one line in
``_DIALECTS``; nothing else names a vendor.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

from pytest_queryplan.errors import QueryPlanUsageError
from pytest_queryplan.lazy_django import connections as _connections
from pytest_queryplan.lazy_django import django_configured

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.dialect import Dialect
    from pytest_queryplan.dialects.base import Backend

#: vendor -> (how messages name it, the dialect object, the backend class); the last two
#: are imported on first use.
_DIALECTS = {
    "postgresql": (
        "PostgreSQL",
        "pytest_queryplan.dialects.postgresql:POSTGRESQL",
        "pytest_queryplan.dialects.postgresql.backend:PostgreSQLBackend",
    ),
    # Django's mysql backend; MySQL itself is refused when the backend connects.
    "mysql": (
        "MariaDB",
        "pytest_queryplan.dialects.mariadb:MARIADB",
        "pytest_queryplan.dialects.mariadb.backend:MariaDBBackend",
    ),
    "sqlite": (
        "SQLite",
        "pytest_queryplan.dialects.sqlite:SQLITE",
        "pytest_queryplan.dialects.sqlite.backend:SQLiteBackend",
    ),
}


@functools.cache
def _load(spec: str) -> Any:
    """The object ``"module:name"`` names, imported on first use (a vendor's driver is
    never imported where its database is not used), then remembered: this runs for every
    check and every captured query's backend."""
    module_name, name = spec.split(":")
    return getattr(importlib.import_module(module_name), name)


def is_supported(vendor: str) -> bool:
    return vendor in _DIALECTS


def supported() -> str:
    """The databases the plugin explains on, for messages ("PostgreSQL and SQLite")."""
    titles = sorted(title for title, _, _ in _DIALECTS.values())
    return " and ".join([", ".join(titles[:-1]), titles[-1]] if len(titles) > 1 else titles)


def dialect_named(vendor: str) -> Dialect:
    """The dialect of ``vendor`` (Django's ``connection.vendor``)."""
    if vendor not in _DIALECTS:
        raise QueryPlanUsageError(
            f"pytest-queryplan has no dialect for {vendor}; it supports {supported()}."
        )
    return _load(_DIALECTS[vendor][1])  # type: ignore[no-any-return]


def connection_for(using: str) -> Any:
    """Django's connection named ``using`` (this thread's), or a one-line usage error."""
    from django.db import connections

    if not isinstance(using, str) or using not in connections:
        known = ", ".join(repr(alias) for alias in connections) or "none"
        raise QueryPlanUsageError(
            f"Unknown database alias {using!r}: settings.DATABASES defines {known}. "
            "Pass one of those as using=..."
        )
    return connections[using]


def check_alias(using: str) -> Dialect | None:
    """The dialect of the connection ``using``, found without connecting, or a usage error
    for an alias ``settings.DATABASES`` does not define. None without Django or its
    settings (nothing to check against), and for a database no dialect explains (the
    caller says so: ``databases.warn_unsupported``)."""
    if not django_configured():
        return None
    connection = connection_for(using)
    return dialect_named(connection.vendor) if is_supported(connection.vendor) else None


def server_binding_aliases() -> list[str]:
    """The PostgreSQL aliases whose connections bind parameters on the server (Django 4.2+
    with psycopg 3 and ``OPTIONS={"server_side_binding": True}``): their statements reach
    PostgreSQL as prepared statements, whose plans turn generic. Nothing connects; without
    Django or its settings there are none."""
    connections = _connections()
    if connections is None:
        return []
    return [
        alias
        for alias in connections
        if connections[alias].vendor == "postgresql"
        and getattr(connections[alias].features, "uses_server_side_binding", False)
    ]


def unsupported(connection: Any) -> str:
    """What to tell a user whose check points at a database no dialect handles."""
    return (
        f"Database alias {connection.alias!r} is {connection.vendor} "
        f"({connection.settings_dict['ENGINE']}); pytest-queryplan supports {supported()} only."
    )


def get_backend(using: str) -> Backend:
    """The backend for the Django connection named ``using``."""
    connection = connection_for(using)
    if connection.vendor not in _DIALECTS:
        raise QueryPlanUsageError(
            f"{unsupported(connection)} Point the check at a supported connection with using=..."
        )
    return _load(_DIALECTS[connection.vendor][2])(connection)  # type: ignore[no-any-return]
