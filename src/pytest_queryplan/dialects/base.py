"""The small interfaces behind every dialect's connection side: what a backend answers
(EXPLAIN and the catalog), and what a driver runner does for it (run statements so that
they leave no trace), with the few statements and texts every runner shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.dialect import Dialect
    from pytest_queryplan.core.checks.modes import Mode

Params = Sequence[Any] | dict[str, Any] | None
Rows = list[tuple[Any, ...]]

SAVEPOINT = "pytest_queryplan"
OPEN_SAVEPOINT = f"SAVEPOINT {SAVEPOINT}"
CLOSE_SAVEPOINT = (f"ROLLBACK TO SAVEPOINT {SAVEPOINT}", f"RELEASE SAVEPOINT {SAVEPOINT}")


class ExplainError(Exception):
    """The database refused to EXPLAIN a statement; the session was restored first."""


class Backend(Protocol):
    """One Django connection's side of a dialect."""

    alias: str
    #: The pure half of the same vendor: parses what :meth:`explain` returns.
    dialect: Dialect

    def explain(
        self,
        sql: str,
        params: Params,
        *,
        mode: Mode,
        analyze: bool = False,
        analyze_tables: Iterable[str] = (),
        hide: Sequence[str] = (),
        create: Sequence[str] = (),
        settings: Sequence[str] = (),
    ) -> Any:
        """Run the dialect's EXPLAIN in ``mode`` and return its raw output, leaving no trace.

        ``hide`` indexes are out of the planner's sight and ``create`` statements (CREATE
        INDEX) run first, for this EXPLAIN only; both wait a bounded time for locks.
        ``settings`` (the dialect's own, such as a planner cost) apply to it alone."""

    def explain_many(self, items: Sequence[tuple[str, Params]], *, mode: Mode) -> Any:
        """Plain EXPLAINs of several statements at once, or None: explain them one by one."""

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        """Catalog entries of the named indexes that exist."""

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        """Every index on the named tables."""

    def attached_indexes(self, name: str) -> frozenset[str]:
        """The named index plus every partition index attached to it, at any depth."""

    def partition_layout(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        """``attached_indexes(name)``, and the leaf partitions of the index's table (empty
        for a plain table), in one look-up."""

    def partition_roots(self, names: Iterable[str]) -> dict[str, str]:
        """Each named table or index that is a partition -> the top of its tree."""

    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> its type as ``format_type`` prints it."""


class Runner(Protocol):
    """One database driver's way to run the statements a backend built, on the Django
    connection's own driver connection, out of sight of Django's execute wrappers."""

    def isolated(
        self, statements: Sequence[str], params: Params, *, read_only: bool = False
    ) -> Rows | None:
        """Run ``statements`` in a throw-away (sub)transaction that is always rolled back.

        Only the last statement takes ``params`` (bound by the driver); its rows are
        returned. A failure raises :class:`ExplainError` after the session was restored,
        so the surrounding transaction stays usable. ``read_only``: the statements set
        nothing and run nothing (a plain EXPLAIN, a catalog read), so in autocommit with
        no transaction open they go bare: there is nothing to roll back, and a failure
        leaves the session idle. Inside a transaction the savepoint stays."""

    def read(self, sql: str, params: Params) -> Rows:
        """One read-only catalog query of the backend's own (never user SQL), as cheaply as
        the driver allows while a failure still cannot abort the surrounding transaction."""


def aborted(alias: str) -> QueryPlanUsageError:
    """The error for a transaction an earlier statement already aborted."""
    return QueryPlanUsageError(
        f"The transaction on {alias!r} is already aborted by an earlier error, "
        "so nothing can be explained in it. Fix or catch that error first (Django: "
        "wrap the failing statement in transaction.atomic())."
    )


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
