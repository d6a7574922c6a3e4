"""SQL made readable for failure messages and reports: long lists collapsed, sqlparse's
layout when it can, one line for summaries.

A generated query can carry thousands of values (``filter(id__in=range(4000))``): every
text shown or stored goes through :func:`collapse` first, so no message grows with the
data and no formatter chokes on it.
"""

from __future__ import annotations

import functools
import re

#: Items of a list shown before the rest is counted.
KEEP = 3
#: Longest SQL or filter text the JSON report stores (after collapsing).
REPORT_LIMIT = 8000

# A run of placeholders or simple literals separated by commas: %s, %s, ... / 1, 2, 3 /
# 'a', 'b'. Long runs only; a short list reads fine as it is.
_ITEM = r"(?:%s|%\(\w+\)s|\$\d+|-?\d+(?:\.\d+)?|'(?:[^']|'')*'|NULL)"
_RUN = re.compile(rf"{_ITEM}(?:\s*,\s*{_ITEM}){{{KEEP * 2},}}")
# An array literal as EXPLAIN prints = ANY(...): '{1,2,3,...}'
_ARRAY = re.compile(r"'\{((?:[^{}'\\]|''|\\.)*)\}'")


def _collapse_run(match: re.Match[str]) -> str:
    items = re.findall(_ITEM, match.group(0))
    if len(items) <= KEEP * 2:
        return match.group(0)
    return f"{', '.join(items[:KEEP])} /* ... {len(items) - KEEP:,} more */"


def _collapse_array(match: re.Match[str]) -> str:
    items = match.group(1).split(",")
    if len(items) <= KEEP * 2:
        return match.group(0)
    return "'{" + ",".join(items[:KEEP]) + f",... {len(items) - KEEP:,} more" + "}'"


def collapse(text: str) -> str:
    """``text`` with long value lists shortened: ``IN (%s, %s, %s /* ... 3,997 more */)``."""
    return _RUN.sub(_collapse_run, _ARRAY.sub(_collapse_array, text))


@functools.lru_cache(maxsize=1024)  # a failing suite formats the same statements again
def format_sql(sql: str) -> str:
    """sqlparse's indented layout of the collapsed SQL; the one-line form if it fails."""
    text = collapse(sql)
    try:
        import sqlparse

        # No keyword_case: it would upper-case column names that happen to be keywords (role).
        return sqlparse.format(text, reindent=True).strip()
    except Exception:  # noqa: BLE001 - a message must never fail for its layout's sake
        return " ".join(text.split())


def short_sql(sql: str, width: int = 100) -> str:
    one_line = " ".join(collapse(sql).split())
    return one_line if len(one_line) <= width else one_line[: width - 3] + "..."


def capped(text: str, limit: int = REPORT_LIMIT) -> str:
    """Collapsed, on one line, and at most ``limit`` characters: what a report stores."""
    return short_sql(text, limit)
