"""One adapter per database vendor, chosen by the Django connection's ``vendor``.

Adding a database is a new module here and one line in ``_ADAPTERS``, not an ``if`` elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.backends.base import Backend

_ADAPTERS = {"postgresql": "pytest_queryplan.backends.postgresql:PostgreSQLBackend"}


def get_backend(using: str) -> Backend:
    """The adapter for the Django connection named ``using``."""
    import importlib

    from django.db import connections
    from django.utils.connection import ConnectionDoesNotExist

    try:
        connection = connections[using]
    except ConnectionDoesNotExist:
        known = ", ".join(repr(alias) for alias in connections) or "none"
        raise QueryPlanUsageError(
            f"Unknown database alias {using!r}: settings.DATABASES defines {known}. "
            "Pass one of those as using=..."
        ) from None
    spec = _ADAPTERS.get(connection.vendor)
    if spec is None:
        raise QueryPlanUsageError(
            f"Database alias {using!r} is {connection.vendor} "
            f"({connection.settings_dict['ENGINE']}); "
            f"pytest-queryplan supports {', '.join(sorted(_ADAPTERS))} only. "
            "Point the check at a PostgreSQL connection with using=..."
        )
    module_name, class_name = spec.split(":")
    return getattr(importlib.import_module(module_name), class_name)(connection)
