"""Names for suggested indexes: one per index asked for, never two alike in a run.

Vendor-neutral: a dialect says what the index is (its signature) and how its keys read
(labels); the name is made here, within Django's 30-character limit for index names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

_NAME_LIMIT = 30  # Django's Index.max_name_length


@dataclass
class NameRegistry:
    """Index names handed out in one run: one per (table, keys, method), never two alike."""

    _given: dict[tuple[object, ...], str] = field(default_factory=dict, init=False, repr=False)
    _taken: set[str] = field(default_factory=set, init=False, repr=False)

    def name_for(
        self,
        signature: Hashable,
        table: str,
        labels: Sequence[str],
        suffix: str,
        reserved: Iterable[str] = (),
    ) -> str:
        """The name for the index ``signature`` stands for (the same one every time it is
        asked again): the table's name without its app prefix, the keys' ``labels`` and
        ``suffix``, shortened with a hash of the signature past the limit or on a clash."""
        if signature in self._given:
            return self._given[signature]
        taken = self._taken | set(reserved)
        parts = [slug(table.split("_", 1)[-1]), *labels]
        name, salt = f"{'_'.join(parts)}_{suffix}", 0
        while len(name) > _NAME_LIMIT or name in taken:
            # Too long or already used: shorter parts (with several keys, without the table's),
            # and a short hash of the whole signature, so different key sets never share one.
            digest = hashlib.sha1(repr((signature, salt)).encode()).hexdigest()[:6]
            budget = _NAME_LIMIT - len(suffix) - len(digest) - 2
            name = f"{_shorten(parts[1:] if len(parts) > 2 else parts, budget)}_{digest}_{suffix}"
            salt += 1
        self._given[signature] = name
        self._taken.add(name)
        return name


def slug(text: str) -> str:
    # Django rejects index names that start with a digit or an underscore.
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug if slug[:1].isalpha() else f"x{slug}"


def _shorten(parts: Sequence[str], budget: int) -> str:
    """``parts`` joined by underscores in ``budget`` characters: the longest part shrinks first."""
    kept = list(parts)
    while len("_".join(kept)) > budget:
        longest = max(range(len(kept)), key=lambda i: len(kept[i]))
        if len(kept[longest]) > 1:
            kept[longest] = kept[longest][:-1].rstrip("_")
        else:
            kept.pop()
    return "_".join(kept)
