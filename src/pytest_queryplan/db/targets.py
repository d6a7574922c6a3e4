"""Turn what a user hands us (a QuerySet, SQL, or ``(sql, params)``) into SQL plus parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_queryplan.errors import QueryPlanUsageError

Params = Sequence[Any] | Mapping[str, Any] | None


def alias_of(target: Any, using: str | None) -> str:
    """The connection a target is explained on. A QuerySet carries its own: the one
    ``.using()`` gave it (or the router's choice for reads), which is where it runs, so it
    is where it is compiled and explained. A ``using=`` that names another is a usage
    error; for SQL, ``using=`` (default ``"default"``) decides."""
    if not _is_queryset(target):
        return using or "default"
    # Django keeps the alias .using() set in QuerySet._db (no public accessor says whether
    # one was set); QuerySet.db adds the router's choice when none was.
    own = getattr(target, "_db", None)
    runs = own or target.db
    if using is None or using == runs:
        return runs
    if own is None:  # no .using() to contradict: a misspelled alias is named as that first
        from pytest_queryplan.dialects import connection_for

        connection_for(using)
    how = f".using({own!r})" if own is not None else "the database router's choice"
    raise QueryPlanUsageError(
        f"The {target.model.__name__} queryset runs on database {runs!r} ({how}), but"
        f" using={using!r} was given: it would be explained where it never runs. Drop"
        f" using=, or build the queryset with .using({using!r})."
    )


def _is_queryset(target: Any) -> bool:
    query = getattr(target, "query", None)
    return query is not None and hasattr(query, "get_compiler") and hasattr(target, "model")


def to_sql(target: Any, using: str) -> tuple[str, Params]:
    """The SQL and parameters ``target`` runs on connection ``using``."""
    if isinstance(target, str):
        return _checked_sql(target), None
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], str):
        sql, params = target
        if params is not None and not isinstance(params, Sequence | Mapping):
            raise QueryPlanUsageError(
                f"The parameters of an (sql, params) target must be a list, tuple or dict, "
                f"not {type(params).__name__}."
            )
        if isinstance(params, str):
            raise QueryPlanUsageError(
                "The parameters of an (sql, params) target must be a list, tuple or dict, "
                "not a string: write (sql, [value]) for a single value."
            )
        return _checked_sql(sql), params
    if _is_queryset(target):
        return _queryset_sql(target, using)
    raise QueryPlanUsageError(
        f"Cannot explain a {type(target).__name__}: pass a Django QuerySet, an SQL string, "
        "or an (sql, params) pair. (Querysets that run on evaluation, like .count() or "
        ".exists(), are checked with `with assert_uses_index(name):` around the code instead.)"
    )


def _checked_sql(sql: str) -> str:
    if not sql.strip():
        raise QueryPlanUsageError("The SQL to explain is empty.")
    return sql.strip().rstrip(";")


def _queryset_sql(queryset: Any, using: str) -> tuple[str, Params]:
    from django.core.exceptions import EmptyResultSet, FullResultSet

    try:
        sql, params = queryset.query.get_compiler(using=using).as_sql()
    except EmptyResultSet:
        raise QueryPlanUsageError(
            f"The {queryset.model.__name__} queryset can never match a row (for example "
            ".none() or filter(id__in=[])), so Django sends no SQL and there is no plan to "
            "check. Check a queryset that reaches the database."
        ) from None
    except FullResultSet:  # pragma: no cover - Django raises it only for sub-expressions
        raise QueryPlanUsageError("The queryset compiles to no SQL.") from None
    return sql, tuple(params)
