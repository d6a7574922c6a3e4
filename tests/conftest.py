"""Fixtures for the plugin's own tests: inner pytest runs against the upstream project."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def write_ini(
    pytester: pytest.Pytester, settings: str = "upstream.settings", extra: Sequence[str] = ()
) -> None:
    """The inner run's ini: upstream on the path, its own reused test database."""
    lines = [
        "[pytest]",
        f"DJANGO_SETTINGS_MODULE = {settings}",
        f"pythonpath = . {REPO_ROOT}",
        "addopts = --reuse-db -p no:cacheprovider",
        *extra,
    ]
    (pytester.path / "tox.ini").write_text("\n".join(lines) + "\n")


@pytest.fixture
def django_pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose inner runs use upstream's settings and a test database of their own.

    The inner database is named per xdist worker and reused across inner runs (--reuse-db),
    so inner runs never touch the outer run's data and pay for migrations once.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    outer = os.environ.get("QUERYPLAN_TEST_DB_NAME", "test_queryplan")
    monkeypatch.setenv("QUERYPLAN_TEST_DB_NAME", f"{outer}_inner_{worker}")
    # The ini names the settings; an inherited variable would take precedence over it.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    write_ini(pytester)
    return pytester
