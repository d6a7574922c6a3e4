"""Which tests the suite-wide features watch, on which connections, and what a run is told
about connections the plugin cannot explain on.

Deciding whether a test uses the database looks only at its markers, fixtures and class,
so a test that never touches the database costs nothing and Django is never imported for
it. What the guard finds is a check like any other
(:class:`~pytest_queryplan.core.checks.NoFilteredFullScan`), judged in ``watch.py``.

A connection of a vendor no dialect handles (Oracle, say) is never silently skipped:
the guard says so once per run (``check_vendors``), a marker pointing at one once per
process (``warn_unsupported``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pytest

from pytest_queryplan.core.checks.modes import GuardLevel
from pytest_queryplan.dialects import supported
from pytest_queryplan.lazy_django import connections as _connections

if TYPE_CHECKING:
    from pytest_queryplan.options import RunOptions

# Every fixture through which pytest-django hands out database access.
DB_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
        "_django_db_helper",
    }
)


class UnsupportedDatabaseWarning(pytest.PytestWarning):
    """A guard or marker is on, but a connection's database is not one the plugin explains."""


#: Aliases this process already warned about (a marker's warning comes once per process).
_WARNED_KEY = pytest.StashKey[set[str]]()


def uses_database(item: pytest.Item) -> bool:
    """Whether ``item`` may touch the database: a django_db marker, a database fixture, or
    a Django test case class with ``databases`` (the only tests pytest-django lets in)."""
    if item.get_closest_marker("django_db") is not None:
        return True
    if DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    return bool(getattr(getattr(item, "cls", None), "databases", None))


def explained_aliases() -> set[str]:
    """Every configured connection a dialect can explain on."""
    from pytest_queryplan.dialects import is_supported

    connections = _connections()
    if connections is None:
        return set()
    return {alias for alias in connections if is_supported(connections[alias].vendor)}


def unsupported_aliases() -> dict[str, str]:
    """alias -> "vendor (ENGINE)" of every configured connection no adapter handles."""
    from pytest_queryplan.dialects import is_supported

    connections = _connections()
    if connections is None:
        return {}
    found = {}
    for alias in connections:
        connection = connections[alias]
        if not is_supported(connection.vendor):
            found[alias] = f"{connection.vendor} ({connection.settings_dict['ENGINE']})"
    return found


def check_vendors(config: pytest.Config, run: RunOptions) -> None:
    """Once per run (the controller): what the guard or index report cannot explain on.

    A warning names each such connection; with ``--queryplan-guard=fail`` and no
    connection any dialect explains, the guard would check nothing: a usage error.
    """
    if not run.explains_every_test:
        return
    found = unsupported_aliases()
    if not found:
        return
    listed = ", ".join(f"{alias!r} is {what}" for alias, what in sorted(found.items()))
    feature = "--queryplan-guard" if run.guard != GuardLevel.OFF else "--queryplan-index-report"
    if run.guard == GuardLevel.FAIL and not explained_aliases():
        raise pytest.UsageError(
            f"--queryplan-guard=fail cannot check anything: database {listed}, and "
            f"pytest-queryplan explains {supported()} only. Run the guard against one of "
            "those, or leave --queryplan-guard off for this suite."
        )
    config.issue_config_time_warning(
        UnsupportedDatabaseWarning(
            f"queryplan: database {listed}; pytest-queryplan explains {supported()} only, so "
            f"{feature} checks no query run there."
        ),
        stacklevel=2,
    )


def warn_unsupported(config: pytest.Config, alias: str) -> bool:
    """Whether ``alias`` is a connection no adapter handles; warns once per process if so."""
    found = unsupported_aliases().get(alias)
    if found is None:
        return False
    warned = config.stash.setdefault(_WARNED_KEY, set())
    if alias not in warned:
        warned.add(alias)
        warnings.warn(
            UnsupportedDatabaseWarning(
                f"queryplan: database {alias!r} is {found}; pytest-queryplan explains "
                f"{supported()} only, so @pytest.mark.queryplan(using=...) checks nothing there."
            ),
            stacklevel=2,
        )
    return True
