"""pytest entry point (``-p no:queryplan`` disables it).

Importing this module must stay cheap: it pulls in pytest-facing modules only; Django is
imported inside functions, when a check actually runs.
"""

from __future__ import annotations

from pytest_queryplan.fixtures import assert_uses_index, queryplan
from pytest_queryplan.marker import pytest_collection_modifyitems, pytest_runtest_call
from pytest_queryplan.options import pytest_addoption, pytest_configure

__all__ = [
    "assert_uses_index",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_runtest_call",
    "queryplan",
]
