"""Django settings for the upstream example project and the plugin's own tests."""

from __future__ import annotations

import os
import sys

from upstream.database import DatabaseConfigError, database_settings

SECRET_KEY = "pytest-queryplan-example-not-secret"
DEBUG = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.postgres",
    "upstream",
]

try:
    _default = database_settings()
except DatabaseConfigError as exc:
    # One readable line instead of a traceback from deep inside settings import.
    sys.stderr.write(f"error: {exc}\n")
    raise SystemExit(2) from None

# Nested pytest runs (the plugin's own pytester tests) pick their own test database name,
# so they never touch the outer run's data.
_test_name = os.environ.get("QUERYPLAN_TEST_DB_NAME")
if _test_name:
    _default["TEST"] = {"NAME": _test_name}

DATABASES = {"default": _default}
