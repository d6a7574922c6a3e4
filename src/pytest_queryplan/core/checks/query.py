"""One statement a test ran, and what explaining it gave: the unit every check judges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.tree import Plan
    from pytest_queryplan.core.report.callsite import CallSite


@dataclass(eq=False)
class ExplainedQuery:
    """A statement and its plan; ``plan`` is None and ``error`` says why when EXPLAIN failed.

    ``mode`` is the planner mode the plan was made in. ``site`` is the application line
    that ran the statement, ``test_site`` the test's line when that is another (both None
    where nobody asked). Compared by identity: two runs of the same SQL are two queries.
    """

    sql: str
    params: Any
    using: str = "default"
    plan: Plan | None = None
    error: str | None = None
    mode: str = "forced"
    site: CallSite | None = None
    test_site: CallSite | None = None
    #: Which call by the test ran it (``db.sites.SiteFinder.call``): the same for every
    #: statement of one call into the code under test; 0 when unknown.
    call: int = 0
    #: A QuerySet the test built, run by application code (its conditions are the test's).
    by_test: bool = False
