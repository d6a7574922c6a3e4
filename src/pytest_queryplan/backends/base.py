"""The small interface every database adapter implements: EXPLAIN, and the catalog."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pytest_queryplan.core.catalog import IndexInfo


class ExplainError(Exception):
    """The database refused to EXPLAIN a statement; the session was restored first."""


class Backend(Protocol):
    alias: str

    def explain(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None,
        *,
        forced: bool,
        analyze: bool = False,
        analyze_tables: Iterable[str] = (),
        hide: Sequence[str] = (),
        create: Sequence[str] = (),
    ) -> Any:
        """Run EXPLAIN (FORMAT JSON) and return its raw output, leaving no trace.

        ``hide`` indexes are out of the planner's sight and ``create`` statements (CREATE
        INDEX) run first, for this EXPLAIN only; both wait a bounded time for locks."""

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        """Catalog entries of the named indexes that exist."""

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        """Every index on the named tables."""

    def attached_indexes(self, name: str) -> frozenset[str]:
        """The named index plus every partition index attached to it, at any depth."""

    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> its type as ``format_type`` prints it."""
