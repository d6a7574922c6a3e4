"""The :class:`~pytest_queryplan.core.catalog.Catalog` the checks ask, for a Django alias.

It joins what the backend knows (indexes, column types, a fresh EXPLAIN) with what Django
knows (model field names), so the pure checks need neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pytest_queryplan.backends import get_backend
from pytest_queryplan.db.explain import explain_sql

if TYPE_CHECKING:
    from pytest_queryplan.backends.base import Backend
    from pytest_queryplan.core.catalog import IndexInfo
    from pytest_queryplan.core.plan import Plan
    from pytest_queryplan.core.query import ExplainedQuery
    from pytest_queryplan.core.suggest import NameRegistry


class DjangoCatalog:
    def __init__(self, backend: Backend, index_names: NameRegistry) -> None:
        self.backend = backend
        self.index_names = index_names

    @classmethod
    def for_alias(cls, using: str, index_names: NameRegistry) -> DjangoCatalog:
        return cls(get_backend(using), index_names)

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        return self.backend.index_info(names)

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        return self.backend.indexes_on(tables)

    def attached_indexes(self, name: str) -> frozenset[str]:
        return self.backend.attached_indexes(name)

    def column_types(self, table: str) -> dict[str, str]:
        return self.backend.column_types(table)

    def field_names(self, table: str) -> dict[str, str]:
        from django.apps import apps

        for model in apps.get_models(include_auto_created=True):
            if model._meta.db_table == table:
                return {field.column: field.name for field in model._meta.concrete_fields}
        return {}

    def replan(
        self, query: ExplainedQuery, *, hide: Sequence[str] = (), create: Sequence[str] = ()
    ) -> Plan:
        """Raises ``QueryPlanUsageError`` when the server refuses (a lock not granted)."""
        return explain_sql(
            self.backend, query.sql, query.params, mode=query.mode, hide=hide, create=create
        )
