"""Index hygiene: the indexes no explained plan used, and redundant btree indexes.

Pure: it works on catalog entries (what ``Backend.indexes_on`` found) and the index names
the plans used, so a merged report of many shards gives the same answer as one run.
A finding here is a lead to check against production, never a reason to drop an index
on the strength of a test suite alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class IndexEntry:
    """One index as the catalog describes it; ``definition`` is ``pg_get_indexdef``."""

    name: str
    table: str
    definition: str
    predicate: str | None = None
    method: str = "btree"
    unique: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexEntry:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def keys(self) -> tuple[str, ...]:
        """Key items as written, opclass and order included: ``slug varchar_pattern_ops``."""
        return key_items(self.definition)

    @property
    def shown(self) -> str:
        return f"{self.name} ({', '.join(self.keys)})"


@dataclass(frozen=True)
class Redundant:
    index: IndexEntry
    covered_by: tuple[str, ...]


def key_items(definition: str) -> tuple[str, ...]:
    """The key list of ``CREATE INDEX ... USING method (a, b DESC) INCLUDE (c) WHERE ...``."""
    _, _, rest = definition.partition(" USING ")
    start = rest.find("(")
    if start < 0:
        return ()
    items: list[str] = []
    depth, quoted, current = 0, False, ""
    for char in rest[start + 1 :]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            if depth == 0:
                break
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += char
    items.append(current.strip())
    return tuple(item for item in items if item)


def unused(
    indexes: Iterable[IndexEntry], used: Collection[str], tables: Collection[str]
) -> list[IndexEntry]:
    """Non-unique indexes on ``tables`` that no plan scanned.

    Unique indexes are left out: they enforce a constraint whether or not a query reads them.
    """
    return sorted(
        (i for i in indexes if i.table in tables and not i.unique and i.name not in used),
        key=lambda i: (i.table, i.name),
    )


def _covers(wider: IndexEntry, narrower: IndexEntry) -> bool:
    keys, other = narrower.keys, wider.keys
    if wider.method != "btree" or wider.predicate != narrower.predicate:
        return False
    if len(keys) == len(other) and keys == other:
        # Twins: keep the unique one, else the first by name; the other is redundant.
        return wider.unique or wider.name < narrower.name
    return len(keys) < len(other) and other[: len(keys)] == keys


def redundant(indexes: Iterable[IndexEntry], tables: Collection[str]) -> list[Redundant]:
    """Non-unique btree indexes on ``tables`` whose keys lead another index with the same
    predicate: every lookup they serve, the other index serves too."""
    by_table: dict[str, list[IndexEntry]] = {}
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
