"""The relation a repeated read follows, named from its SQL and Django's model meta.

A related-object read is ``WHERE "table"."column" = %s`` on one table (or on a
many-to-many's through table); which model owns that table and which field owns that
column says which relation it is: ``Order.customer`` read in a loop over orders, or
``Customer.orders`` over customers. Nothing in Django is patched: the models' ``_meta``
is read, the statements were captured with ``connection.execute_wrapper``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_queryplan.core.report.callsite import CallSite
from pytest_queryplan.core.report.nplusone import Key, Relation, from_table, lookup_key


def _models() -> list[Any]:
    from django.apps import apps

    return list(apps.get_models(include_auto_created=True))


def _candidates(key: Key, read: str) -> list[tuple[Any, str, str, str]]:
    """(owner model, accessor name, via, method) of every relation that reads by ``key``
    (``read``: the rows, or a count or exists() of them)."""
    found: list[tuple[Any, str, str, str]] = []
    models = _models()
    if key.where_table != key.table:  # a many-to-many through its through table
        for model in models:
            for field in model._meta.local_many_to_many:
                through = field.remote_field.through
                if through is None or through._meta.db_table != key.where_table:
                    continue
                if key.column == field.m2m_column_name():  # rows of the field's own model
                    found.append((model, field.name, "many-to-many", "prefetch_related"))
                elif key.column == field.m2m_reverse_name():
                    accessor = field.remote_field.get_accessor_name()
                    if accessor:
                        owner = field.related_model
                        found.append((owner, accessor, "many-to-many", "prefetch_related"))
        return found
    for model in models:
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model is None:
                continue
            target = field.related_model
            if isinstance(target, str):
                continue
            # Forward: the owner holds the key; the target's row is read by its own key.
            if (
                key.limited
                and target._meta.db_table == key.table
                and field.target_field.column == key.column
            ):
                via = "one-to-one" if field.one_to_one else "foreign key"
                found.append((model, field.name, via, "select_related"))
            # Reverse: the rows of this model are read by their key to the owner.
            if model._meta.db_table == key.table and field.column == key.column:
                accessor = field.remote_field.get_accessor_name()
                if not accessor:  # related_name="+": no way back to name
                    continue
                if field.one_to_one:
                    found.append((target, accessor, "reverse one-to-one", "select_related"))
                elif not key.limited or read != "rows":
                    found.append((target, accessor, "reverse foreign key", "prefetch_related"))
    return found


def relation_of(
    sql: str, earlier: Sequence[tuple[str, CallSite | None]], read: str = "rows"
) -> Relation | None:
    """The relation the repeated ``sql`` follows, or None when the meta names none or more
    than one that ``earlier`` (the body's statements before its first run, in order) cannot
    tell apart (the owners read last win); ``parents_at`` is the last read of their table."""
    key = lookup_key(sql)
    if key is None:
        return None
    try:
        found = _candidates(key, read)
    except Exception:  # noqa: BLE001 - an app registry not ready names nothing
        return None
    loaded: dict[str, CallSite | None] = {}
    last: dict[str, int] = {}
    for n, (statement, site) in enumerate(earlier):
        table = from_table(statement)
        if table is not None:
            loaded[table], last[table] = site, n  # the last read of each table wins
    if len(found) > 1:  # several relations fit: the one whose owners the body loaded last
        seen = [f for f in found if f[0]._meta.db_table in last]
        latest = max((last[f[0]._meta.db_table] for f in seen), default=None)
        found = [f for f in seen if last[f[0]._meta.db_table] == latest] or found
    if len(found) != 1:
        return None
    owner, name, via, method = found[0]
    return Relation(
        owner.__name__,
        name,
        via,
        method,
        parents_at=loaded.get(owner._meta.db_table),
        read=read,
    )
