"""SQL made readable for failure messages (sqlparse), and shortened for one-line summaries."""

from __future__ import annotations


def format_sql(sql: str) -> str:
    import sqlparse

    # No keyword_case: it would upper-case column names that happen to be keywords (role).
    return sqlparse.format(sql, reindent=True).strip()


def short_sql(sql: str, width: int = 100) -> str:
    one_line = " ".join(sql.split())
    return one_line if len(one_line) <= width else one_line[: width - 3] + "..."
