"""The :class:`~pytest_queryplan.core.catalog.Catalog` the checks ask, for a Django alias.

It joins what the backend knows (indexes, column types, a fresh EXPLAIN) with what Django
knows (model field names), so the pure checks need neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pytest_queryplan.db.explain import explain_sql
from pytest_queryplan.dialects import get_backend

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.defaults import Defaults
    from pytest_queryplan.core.checks.dialect import Dialect
    from pytest_queryplan.core.checks.names import NameRegistry
    from pytest_queryplan.core.checks.query import ExplainedQuery
    from pytest_queryplan.core.plan.tree import Plan
    from pytest_queryplan.dialects.base import Backend

T = TypeVar("T")


class DjangoCatalog:
    """One per check call (or per watched test): a table's indexes, column types and field
    names are read once for it, however many findings name the table."""

    def __init__(self, backend: Backend, defaults: Defaults) -> None:
        self.backend = backend
        self.defaults = defaults
        self._memo: dict[tuple[str, object], object] = {}

    @property
    def dialect(self) -> Dialect:
        return self.backend.dialect

    @property
    def index_names(self) -> NameRegistry:
        return self.defaults.index_names.get()

    def _once(self, kind: str, key: object, load: Callable[[], T]) -> T:
        if (kind, key) not in self._memo:
            self._memo[(kind, key)] = load()
        return self._memo[(kind, key)]  # type: ignore[return-value]

    @classmethod
    def for_alias(cls, using: str, defaults: Defaults) -> DjangoCatalog:
        return cls(get_backend(using), defaults)

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        """From the per-test cache when every name is there (the passing strict check's
        case); otherwise from the catalog, and remembered."""
        cache, alias = self.defaults.index_cache, self.backend.alias
        wanted = sorted(set(names))
        if len(wanted) == 1 and (alias, wanted[0]) in cache:  # the passing check's case
            known = cache[(alias, wanted[0])]
            return [known] if known is not None else []
        if all((alias, name) in cache for name in wanted):
            return [cache[(alias, name)] for name in wanted if cache[(alias, name)]]
        found = self.backend.index_info(wanted)
        for name in wanted:
            cache[(alias, name)] = None  # known not to exist, until the cache is emptied
        for info in found:
            cache[(alias, info.name)] = info
        return found

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        names = tuple(sorted(set(tables)))
        return self._once("indexes", names, lambda: self.backend.indexes_on(names))

    def attached_indexes(self, name: str) -> frozenset[str]:
        return self._layout(name)[0]

    def partitions(self, name: str) -> frozenset[str]:
        return self._layout(name)[1]

    def _layout(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        return self._once("layout", name, lambda: self.backend.partition_layout(name))

    def partition_roots(self, names: Iterable[str]) -> dict[str, str]:
        wanted = tuple(sorted(set(names)))
        if not wanted:
            return {}
        return self._once("roots", wanted, lambda: self.backend.partition_roots(wanted))

    def column_types(self, table: str) -> dict[str, str]:
        return self._once("types", table, lambda: self.backend.column_types(table))

    def table_rows(self, table: str) -> float | None:
        """The planner's row count of ``table`` (None where the backend cannot say)."""
        rows = getattr(self.backend, "table_rows", None)
        return self._once("rows", table, lambda: rows(table)) if rows is not None else None

    def field_names(self, table: str) -> dict[str, str]:
        return self._once("fields", table, lambda: _field_names(table))

    def replan(
        self,
        query: ExplainedQuery,
        *,
        hide: Sequence[str] = (),
        create: Sequence[str] = (),
        settings: Sequence[str] = (),
    ) -> Plan:
        """Raises ``QueryPlanUsageError`` when the server refuses (a lock not granted)."""
        return explain_sql(
            self.backend,
            query.sql,
            query.params,
            mode=query.mode,
            hide=hide,
            create=create,
            settings=settings,
        )


def _field_names(table: str) -> dict[str, str]:
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return {field.column: field.name for field in model._meta.concrete_fields}
    return {}
