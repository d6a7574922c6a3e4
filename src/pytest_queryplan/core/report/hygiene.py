"""Index hygiene: the indexes no explained plan used, and redundant btree indexes.

Pure: it works on catalog entries (what ``Catalog.indexes_on`` found) and the index names
the plans used, so a merged report of many shards gives the same answer as one run.
A finding here is a lead to check against production, never a reason to drop an index
on the strength of a test suite alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pytest_queryplan.core.checks.catalog import IndexInfo


@dataclass(frozen=True)
class Redundant:
    index: IndexInfo
    covered_by: tuple[str, ...]


def unused(
    indexes: Iterable[IndexInfo], used: Collection[str], tables: Collection[str]
) -> list[IndexInfo]:
    """Non-unique indexes on ``tables`` that no plan scanned.

    Unique indexes are left out: they enforce a constraint whether or not a query reads them.
    """
    return sorted(
        (i for i in indexes if i.table in tables and not i.unique and i.name not in used),
        key=lambda i: (i.table, i.name),
    )


def _covers(wider: IndexInfo, narrower: IndexInfo) -> bool:
    keys, other = narrower.keys, wider.keys
    if wider.method != "btree" or wider.predicate != narrower.predicate:
        return False
    if len(keys) == len(other) and keys == other:
        # Twins: keep the unique one, else the first by name; the other is redundant.
        return wider.unique or wider.name < narrower.name
    return len(keys) < len(other) and other[: len(keys)] == keys


def redundant(indexes: Iterable[IndexInfo], tables: Collection[str]) -> list[Redundant]:
    """Non-unique btree indexes on ``tables`` whose keys lead another index with the same
    predicate: every lookup they serve, the other index serves too."""
    by_table: dict[str, list[IndexInfo]] = {}
    for index in indexes:
        if index.table in tables:
            by_table.setdefault(index.table, []).append(index)
    found = []
    for table in sorted(by_table):
        entries = sorted(by_table[table], key=lambda i: i.name)
        for index in entries:
            if index.unique or index.method != "btree" or not index.keys:
                continue
            wider = tuple(o.name for o in entries if o is not index and _covers(o, index))
            if wider:
                found.append(Redundant(index, wider))
    return found
