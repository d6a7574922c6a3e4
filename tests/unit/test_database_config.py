"""Where the database comes from, and one clear line when it cannot be had."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from upstream.database import DatabaseConfigError, settings_from_url


def test_url_becomes_django_settings():
    assert settings_from_url("postgresql://alice:s%40cret@db.example:6543/shop") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "alice",
        "PASSWORD": "s@cret",
        "HOST": "db.example",
        "PORT": "6543",
    }
    assert settings_from_url("postgres://postgres@127.0.0.1/postgres")["PORT"] == ""


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://root@localhost/db", "is not a PostgreSQL URL"),
        ("postgresql://postgres@127.0.0.1:5432", "names no database"),
        ("postgresql://postgres@127.0.0.1:99999/db", "has an invalid port"),
        ("postgresql://bob:hunter2@h:5432", "bob:***@h"),  # the password is never echoed
    ],
)
def test_malformed_urls(url, message):
    with pytest.raises(DatabaseConfigError) as error:
        settings_from_url(url)
    assert message in str(error.value)
    assert "hunter2" not in str(error.value)


def run_manage(env_changes: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_changes}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_server_is_one_clear_line():
    result = run_manage({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres"}, "migrate")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: Cannot connect to PostgreSQL at postgres@127.0.0.1:1/postgres (DATABASE_URL): "
    )
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_embedded_server_that_cannot_start_names_its_folder(tmp_path):
    blocked = tmp_path / "missing-parent" / "pgdata"
    env = {"QUERYPLAN_PGDATA": str(blocked)}
    result = run_manage({**env, "DATABASE_URL": ""}, "check")
    assert result.returncode == 2
    assert "Could not start the embedded PostgreSQL in " + str(blocked) in result.stderr
    assert "Its log is " + str(blocked / "log") in result.stderr
    assert "Traceback" not in result.stderr
