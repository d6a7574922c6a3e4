"""Capture the statements a block of code runs, through ``connection.execute_wrapper``.

Only what EXPLAIN can describe without running it is kept: SELECT (and WITH, VALUES,
TABLE), UPDATE and DELETE. Transaction control, DDL and SET are passed through unrecorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_queryplan.core.plan import Plan

_EXPLAINABLE = frozenset({"select", "with", "values", "table", "update", "delete"})
_LEADING = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(*\s*([A-Za-z]+)", re.DOTALL)


def is_explainable(sql: str) -> bool:
    match = _LEADING.match(sql)
    return bool(match) and match.group(1).lower() in _EXPLAINABLE


@dataclass
class CapturedQuery:
    """A statement the block ran; ``plan`` is filled in after the block, when explained."""

    sql: str
    params: Any
    using: str
    plan: Plan | None = None
    error: str | None = None


@contextmanager
def capture_queries(using: str) -> Iterator[list[CapturedQuery]]:
    """Record explainable statements run on connection ``using`` inside the block."""
    from django.db import connections

    captured: list[CapturedQuery] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if isinstance(sql, str) and is_explainable(sql):
            first = params
            if many:
                # executemany: the first parameter set stands for all of them.
                first = next(iter(params), None) if params is not None else None
            captured.append(CapturedQuery(sql, first, using))
        return execute(sql, params, many, context)

    with connections[using].execute_wrapper(record):
        yield captured
