"""What the database catalog says about one index, as plain data: the dialects' backends
fill it in, the JSON report stores it. (The interface a check asks the catalog through is
``dialect.Catalog``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class IndexInfo:
    """One index as the catalog describes it.

    ``definition`` is the database's own ``CREATE INDEX`` text; ``columns`` are its key
    columns or expressions one by one, without operator class or order; ``constraint``
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
        """Key items as written, opclass and order included: ``slug varchar_pattern_ops``;
        the key columns where the definition is not ``CREATE INDEX ... USING method (...)``."""
        return key_items(self.definition) or self.columns

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
