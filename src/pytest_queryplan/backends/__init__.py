"""One adapter per database vendor, chosen by the Django connection's ``vendor``.

Adding a database is a new module here and one line in ``_ADAPTERS``, not an ``if`` elsewhere.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.backends.base import Backend

_ADAPTERS = {"postgresql": "pytest_queryplan.backends.postgresql:PostgreSQLBackend"}


def is_supported(vendor: str) -> bool:
    return vendor in _ADAPTERS


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


def check_alias(using: str) -> None:
    """A usage error for an alias ``settings.DATABASES`` does not define. Without Django,
    or before its settings exist, there is nothing to check against: Django is never
    imported for it."""
    if "django" not in sys.modules:
        return
    from django.conf import settings

    if settings.configured:
        connection_for(using)


def server_binding_aliases() -> list[str]:
    """The PostgreSQL aliases whose connections bind parameters on the server (Django 4.2+
    with psycopg 3 and ``OPTIONS={"server_side_binding": True}``): their statements reach
    PostgreSQL as prepared statements, whose plans turn generic. Nothing connects; without
    Django or its settings there are none."""
    if "django" not in sys.modules:
        return []
    from django.conf import settings

    if not settings.configured:
        return []
    from django.db import connections

    return [
        alias
        for alias in connections
        if connections[alias].vendor == "postgresql"
        and getattr(connections[alias].features, "uses_server_side_binding", False)
    ]


def unsupported(connection: Any) -> str:
    """What to tell a user whose check points at a database no adapter handles."""
    return (
        f"Database alias {connection.alias!r} is {connection.vendor} "
        f"({connection.settings_dict['ENGINE']}); "
        f"pytest-queryplan supports {', '.join(sorted(_ADAPTERS))} only."
    )


def get_backend(using: str) -> Backend:
    """The adapter for the Django connection named ``using``."""
    import importlib

    connection = connection_for(using)
    spec = _ADAPTERS.get(connection.vendor)
    if spec is None:
        raise QueryPlanUsageError(
            f"{unsupported(connection)} Point the check at a PostgreSQL connection with using=..."
        )
    module_name, class_name = spec.split(":")
    return getattr(importlib.import_module(module_name), class_name)(connection)
