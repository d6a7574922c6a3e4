"""What the database catalog says about indexes, and the interface checks ask it through.

Pure: :class:`IndexInfo` is plain data (the backends fill it in, the JSON report stores
it), and :class:`Catalog` is the small interface a check may call while it judges. The
PostgreSQL adapter implements it; tests of the checks can implement it with stored data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pytest_queryplan.core.plan import Plan
    from pytest_queryplan.core.query import ExplainedQuery
    from pytest_queryplan.core.suggest import NameRegistry


@dataclass(frozen=True)
class IndexInfo:
    """One index as the catalog describes it.

    ``definition`` is ``pg_get_indexdef``; ``columns`` are its key columns or expressions
    one by one (``pg_get_indexdef(oid, k, true)``: no opclass, no order); ``constraint``
    says it backs a primary key, unique or exclusion constraint.
    """

    name: str
    table: str
    definition: str
    columns: tuple[str, ...] = ()
    predicate: str | None = None
    method: str = "btree"
    unique: bool = False
    constraint: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexInfo:
        values = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        if "columns" in values:
            values["columns"] = tuple(values["columns"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["columns"] = list(self.columns)
        return data

    @property
    def is_partial(self) -> bool:
        return self.predicate is not None

    @property
    def keys(self) -> tuple[str, ...]:
        """Key items as written, opclass and order included: ``slug varchar_pattern_ops``."""
        return key_items(self.definition)

    @property
    def shown(self) -> str:
        return f"{self.name} ({', '.join(self.keys)})"


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


class Catalog(Protocol):
    """What a check may ask the database while it judges (one adapter per vendor).

    ``replan`` explains a query again, in the same mode and as safely as the first time,
    with ``hide`` indexes out of the planner's sight and ``create`` statements (``CREATE
    INDEX``) run first, all inside a savepoint that is rolled back. It returns the new plan,
    or raises ``ExplainError`` (for one, when a lock is not granted in time).
    """

    #: Names for suggested indexes, unique within the run.
    index_names: NameRegistry

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]: ...

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]: ...

    def attached_indexes(self, name: str) -> frozenset[str]: ...

    def column_types(self, table: str) -> dict[str, str]: ...

    def field_names(self, table: str) -> dict[str, str]:
        """Column -> the model field's name, so a suggestion reads like the project's code."""
        ...

    def replan(
        self, query: ExplainedQuery, *, hide: Sequence[str] = (), create: Sequence[str] = ()
    ) -> Plan: ...
