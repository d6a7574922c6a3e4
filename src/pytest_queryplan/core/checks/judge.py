"""The one runner every source of checks goes through: each check judged once per set of
queries, the verdict told which dialect's database explained them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.index import IndexUsed
from pytest_queryplan.core.checks.nodes import Forbidden, NoFilteredFullScan

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.dialect import Catalog
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.checks.verdict import Verdict

Check = IndexUsed | Forbidden | NoFilteredFullScan


def judge(check: Check, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
    """``check`` over ``queries``, with the catalog's dialect on the verdict (the passing
    index check builds it so: copying a verdict costs more than judging one)."""
    verdict = check.judge(queries, catalog)
    if verdict.dialect is catalog.dialect:
        return verdict
    return replace(verdict, dialect=catalog.dialect)


def judge_all(
    checks: Iterable[Check], queries: Sequence[ExplainedQuery], catalog: Catalog
) -> list[Verdict]:
    """Every check over the same explained queries, each judged once, in order."""
    return [judge(check, queries, catalog) for check in dict.fromkeys(checks)]
