"""Which database server a run explained on, in words a report shows: "PostgreSQL 18.1
(default)". Asked of Django's connection (its ``display_name`` and
``get_database_version()``), so every dialect says it the same way."""

from __future__ import annotations

from collections.abc import Iterable


def describe(aliases: Iterable[str]) -> list[str]:
    """One line per connected alias; one never connected is not asked (asking would open it)."""
    from django.db import connections

    lines = []
    for alias in sorted(aliases):
        connection = connections[alias]
        if connection.connection is None:
            continue
        try:
            version = ".".join(str(part) for part in connection.get_database_version())
        except Exception:  # a backend without the method, or one that cannot say
            version = ""
        name = " ".join(part for part in (connection.display_name, version) if part)
        lines.append(f"{name} ({alias})")
    return lines
