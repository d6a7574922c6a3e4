"""The small interface every database adapter implements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class IndexInfo:
    """What the catalog says about one index."""

    name: str
    table: str
    definition: str
    columns: tuple[str, ...]
    predicate: str | None = None
    method: str = "btree"
    valid: bool = True
    unique: bool = False
    #: Backs a constraint (primary key, unique, exclusion): DROP INDEX cannot hide it.
    constraint: bool = False

    @property
    def is_partial(self) -> bool:
        return self.predicate is not None


class ExplainError(Exception):
    """The database refused to EXPLAIN a statement; the session was restored first."""


class Backend(Protocol):
    vendor: str
    alias: str

    def explain(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None,
        *,
        forced: bool,
        analyze: bool = False,
        analyze_tables: Iterable[str] = (),
        hide_indexes: Iterable[str] = (),
    ) -> Any:
        """Run EXPLAIN (FORMAT JSON) and return its raw output, leaving no trace.

        ``hide_indexes`` are out of the planner's sight for this EXPLAIN only."""

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        """Catalog entries of the named indexes that exist."""

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        """Every index on the named tables."""

    def attached_indexes(self, name: str) -> frozenset[str]:
        """The named index plus every partition index attached to it, at any depth."""
