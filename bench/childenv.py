"""Environments for the pytest processes B3 and B4 time.

Bytecode goes to a cache of the benchmark's own (``PYTHONPYCACHEPREFIX``), filled by the
warm-up runs: an installed plugin is imported from compiled bytecode, so it is timed that
way even where ``PYTHONDONTWRITEBYTECODE`` is set, and no ``__pycache__`` folder is
written into the source tree.
"""

from __future__ import annotations

import os
from pathlib import Path

_ALWAYS_DROPPED = {
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    "PYTHONDONTWRITEBYTECODE",
    "PYTEST_XDIST_WORKER",
}


def child_env(pycache: Path, *, django: bool, **extra: str) -> dict[str, str]:
    """The caller's environment for a timed pytest run; without Django unless ``django``."""
    drop = set(_ALWAYS_DROPPED)
    if not django:
        drop |= {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "QUERYPLAN_TEST_DB_NAME"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.update(extra)
    return env
