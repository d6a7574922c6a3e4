"""The one answer to "is Django set up?", asked without importing Django for a project that
does not use it (pytest-django's ``lazy_django`` is the model)."""

from __future__ import annotations

import sys
from typing import Any


def django_configured() -> bool:
    """Django is imported (by pytest-django or the project) and its settings are set.

    Never imports Django: a run that has not imported it has no connection to check."""
    if "django" not in sys.modules:
        return False
    from django.conf import settings

    return bool(settings.configured)


def connections() -> Any:
    """Django's ``connections`` handler, or None without Django or its settings (a project
    may well have a fixture called ``db`` of its own)."""
    if not django_configured():
        return None
    from django.db import connections as handler

    return handler
