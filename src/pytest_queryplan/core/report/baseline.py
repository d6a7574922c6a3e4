"""The findings baseline: today's accepted findings, so only new ones fail.

An entry is (test id, kind, table, SQL shape): no values, so a test that runs the same
statement with other values still matches its entry. The file is JSON with one entry per
line, sorted, so a change to it reads as a diff of whole lines::

    {
      "queryplan_baseline": 1,
      "entries": [
        {"test": "t.py::test_a", "kind": "filtered-full-read", "table": "t", "sql": "..."}
      ]
    }

Pure: stdlib only. Reading and writing the file is here; when to do either is the
caller's (``--queryplan-baseline``, ``--queryplan-baseline-update``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pytest_queryplan.core.report.shape import sql_shape
from pytest_queryplan.errors import QueryPlanUsageError

FORMAT = 1
UPDATE_FLAG = "--queryplan-baseline-update"
_FIELDS = ("test", "kind", "table", "sql")


class BaselineError(QueryPlanUsageError):
    """The baseline file cannot be read: the message names the file, the line and the fix."""


@dataclass(frozen=True, order=True)
class Entry:
    """One accepted finding; ``sql`` is a shape (``shape.sql_shape``)."""

    test: str
    kind: str
    table: str
    sql: str

    @classmethod
    def of(cls, test: str, kind: str, table: str, sql: str) -> Entry:
        """The entry for a finding, from its SQL as run or as a shape already."""
        return cls(test, kind, table, sql_shape(sql))


class Comparison(NamedTuple):
    """Findings against the baseline: ``new`` fail, ``accepted`` do not, ``gone`` are
    entries no finding matched any more (listed so the file can be tidied)."""

    new: list[Entry]
    accepted: list[Entry]
    gone: list[Entry]


def compare(
    found: Iterable[Entry], accepted: Iterable[Entry], *, tests_run: Collection[str] | None = None
) -> Comparison:
    """Split ``found`` by the baseline ``accepted``.

    With ``tests_run``, an entry of a test that did not run (deselected, another shard)
    is not ``gone``: nothing was found because nothing was looked at.
    """
    found_set, accepted_set = set(found), set(accepted)
    gone = accepted_set - found_set
    if tests_run is not None:
        ran = set(tests_run)
        gone = {entry for entry in gone if entry.test in ran}
    return Comparison(
        sorted(found_set - accepted_set), sorted(found_set & accepted_set), sorted(gone)
    )


def updated(
    found: Iterable[Entry], accepted: Iterable[Entry], *, tests_run: Collection[str] | None = None
) -> list[Entry]:
    """The baseline to write: what was found, plus the entries of tests that did not run
    (so updating from part of the suite keeps the rest of the file)."""
    entries = set(found)
    if tests_run is not None:
        ran = set(tests_run)
        entries |= {entry for entry in accepted if entry.test not in ran}
    return sorted(entries)


def dump(entries: Iterable[Entry]) -> str:
    """The file's text: sorted, no duplicates, one entry per line, ending in a newline."""
    lines = [
        "    " + json.dumps({name: getattr(entry, name) for name in _FIELDS}, ensure_ascii=False)
        for entry in sorted(set(entries))
    ]
    body = ",\n".join(lines)
    inner = f"[\n{body}\n  ]" if lines else "[]"
    return f'{{\n  "queryplan_baseline": {FORMAT},\n  "entries": {inner}\n}}\n'


def write(path: str | Path, entries: Iterable[Entry]) -> None:
    Path(path).write_text(dump(entries), encoding="utf-8")


def load(path: str | Path, *, missing_ok: bool = False) -> list[Entry]:
    """The entries of the baseline file at ``path``; :class:`BaselineError` if it is bad.

    A missing file is an error (a mistyped path must not accept nothing silently) unless
    ``missing_ok``, as when the run is about to write it.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return []
        raise BaselineError(
            f"queryplan baseline {path} does not exist; write it with {UPDATE_FLAG}"
        ) from None
    return loads(text, str(path))


def _error(source: str, line: int | None, problem: str) -> BaselineError:
    where = f"{source}, line {line}" if line else source
    return BaselineError(
        f"queryplan baseline {where}: {problem}. Fix it by hand, or rewrite the file "
        f"from the current findings with {UPDATE_FLAG}"
    )


def _entry_lines(text: str, count: int) -> list[int | None]:
    """The line each entry of the ``entries`` list starts on (None where it is not found)."""
    match = re.search(r'"entries"\s*:\s*\[', text)
    lines: list[int | None] = [None] * count
    if not match:
        return lines
    decoder, pos = json.JSONDecoder(), match.end()
    for n in range(count):
        start = re.compile(r"[\s,]*").match(text, pos)
        pos = start.end() if start else pos
        try:
            _, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        lines[n] = text.count("\n", 0, pos) + 1
        pos = end
    return lines


def loads(text: str, source: str = "<baseline>") -> list[Entry]:
    """The entries in a baseline file's ``text``; ``source`` names it in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _error(source, error.lineno, f"not valid JSON ({error.msg})") from None
    if not isinstance(data, dict) or data.get("queryplan_baseline") != FORMAT:
        raise _error(source, 1, f'not a queryplan baseline ("queryplan_baseline": {FORMAT})')
    raw = data.get("entries")
    if not isinstance(raw, list):
        raise _error(source, None, '"entries" must be a list')
    lines = _entry_lines(text, len(raw))
    entries = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != set(_FIELDS):
            problem = f"entry {n + 1} must have exactly the keys {', '.join(_FIELDS)}"
            raise _error(source, lines[n], problem)
        if not all(isinstance(item[name], str) and item[name] for name in _FIELDS):
            raise _error(source, lines[n], f"entry {n + 1}: every value must be a non-empty text")
        entries.append(Entry.of(*(item[name] for name in _FIELDS)))
    return sorted(set(entries))
