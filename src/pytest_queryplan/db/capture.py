"""Capture the statements a block of code runs, through ``connection.execute_wrapper``.

Only what EXPLAIN can describe without running it is kept: SELECT (and WITH, VALUES,
TABLE), UPDATE and DELETE. Transaction control, DDL and SET are passed through unrecorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pytest_queryplan.core.query import ExplainedQuery

_EXPLAINABLE = frozenset({"select", "with", "values", "table", "update", "delete"})
_LEADING = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(*\s*([A-Za-z]+)", re.DOTALL)


def is_explainable(sql: str) -> bool:
    match = _LEADING.match(sql)
    return bool(match) and match.group(1).lower() in _EXPLAINABLE


@contextmanager
def capture_queries(using: str) -> Iterator[list[ExplainedQuery]]:
    """Record explainable statements run on connection ``using`` inside the block."""
    from django.db import connections

    captured: list[ExplainedQuery] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if isinstance(sql, str) and is_explainable(sql):
            first = params
            if many:
                # executemany: the first parameter set stands for all of them.
                first = next(iter(params), None) if params is not None else None
            captured.append(ExplainedQuery(sql, first, using))
        return execute(sql, params, many, context)

    with connections[using].execute_wrapper(record):
        yield captured
