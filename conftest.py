"""Project-wide test setup: pytester for the plugin's own tests, and one clear database check."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]


def pytest_sessionstart(session: pytest.Session) -> None:
    # A wrong DATABASE_URL would otherwise surface as the same OperationalError on every test.
    # The unit tests (tests/unit, their own ini) configure no Django: nothing to reach.
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return
    from django.conf import settings

    from upstream.database import DatabaseConfigError, check_reachable

    try:
        check_reachable(settings.DATABASES["default"])
    except DatabaseConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
