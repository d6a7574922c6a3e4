"""Capture real plans of the "does the index serve the query?" cases, for ``test_service.py``.

This module owns the case table: one ORM query per way a query can fail to be served by
an index (a function on a key column, LIKE on a plain btree, a cast, a missing leading
column, an OR, ``<>``/``NOT IN``, a partial index's predicate, an ORDER BY against the
index's directions, a filtered full walk, a Seq Scan), each next to its fixed twin.

Django builds each query from ``tests.shop``'s models and runs it once on a scratch
database migrated from the app's own migration, so both the SQL and the indexes are what
the project really has; the recorded SQL is then explained on the same connection, with
psycopg binding the parameters, in the plugin's forced mode (``enable_seqscan = off``).
Each case is stored as ``pg<major>/service_<case>.json`` with the catalog facts (index
keys, predicates, column types) that the analysis needs.

Usage (needs a role that may create a database)::

    python tests/plans/service_capture.py postgresql://postgres@127.0.0.1:5432/postgres
    python tests/plans/service_capture.py   # DATABASE_URL, else the embedded PostgreSQL 18

The scratch database ``qp_service_<pid>`` is created on that server and dropped at the end.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

PLANS_DIR = Path(__file__).resolve().parent
REPO_ROOT = PLANS_DIR.parent.parent
TABLES = ("shop_book", "shop_order")

# Deterministic rows only (no random()), and few enough that ANALYZE reads every row, so
# a rerun sees the same statistics and plans the same way.
DATA_SQL = [
    """INSERT INTO shop_book
        (title, author, isbn, sku, price, "order", status, customer_id, created)
        SELECT 'title ' || lpad(i::text, 5, '0'), 'Author ' || (i % 500),
               'isbn ' || lpad(i::text, 5, '0'), 'sku ' || lpad(i::text, 5, '0'), i % 100,
               i % 1000, (ARRAY['open', 'closed', 'lost', 'sold'])[i % 4 + 1], i % 200 + 1,
               timestamptz '2024-01-01 00:00+00' + i * interval '1 hour'
        FROM generate_series(1, 20000) i""",
    """INSERT INTO shop_order (book_id, customer_id, status, total, created)
        SELECT i % 20000 + 1, i % 200 + 1, (ARRAY['open', 'closed', 'lost', 'sold'])[i % 4 + 1],
               i % 500, timestamptz '2024-01-01 00:00+00' + i * interval '1 minute'
        FROM generate_series(1, 20000) i""",
]
# Outside a transaction: VACUUM sets the visibility map an Index Only Scan needs.
MAINTENANCE_SQL = ["VACUUM ANALYZE shop_book", "VACUUM ANALYZE shop_order"]

# The plugin's forced mode, plus the two settings capture.py also pins: parallel plans
# and JIT depend on server configuration, never on whether an index can serve.
SETUP = (
    "SET LOCAL enable_seqscan = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL jit = off",
)

_CATALOG_SQL = """
SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid),
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
             FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k),
       pg_get_expr(x.indpred, x.indrelid), am.amname, x.indisunique
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam
WHERE t.relname = ANY(%s) AND pg_table_is_visible(t.oid)
ORDER BY i.relname
"""
_COLUMN_TYPES_SQL = """
SELECT t.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
WHERE t.relname = ANY(%s) AND pg_table_is_visible(t.oid) AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY t.relname, a.attnum
"""


@dataclass(frozen=True)
class Case:
    """One query and the index it is about; ``run`` gets ``tests.shop.models``."""

    name: str
    index: str
    run: Callable[[ModuleType], Any]
    about: str
    verbose: bool = False


def _lower_status(m: ModuleType) -> Any:
    from django.db.models.functions import Lower

    return (
        m.Book.objects.alias(status_lower=Lower("status"))
        .filter(customer_id=3, status_lower="open")
        .count()
    )


def _value(number: Decimal) -> Any:
    from django.db.models import Value

    return Value(number)


def _q(**kwargs: Any) -> Any:
    from django.db.models import Q

    return Q(**kwargs)


CASES: tuple[Case, ...] = (
    Case(
        "iexact",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(customer_id=3, status__iexact="open").count(),
        "iexact on the second key: upper(status) is checked row by row",
    ),
    Case(
        "lower",
        "book_customer_status_idx",
        _lower_status,
        "Lower() on the second key: lower(status) is checked row by row",
    ),
    Case(
        "exact",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(customer_id=3, status="open").count(),
        "twin of iexact/lower/leading_missing: both keys in the Index Cond",
    ),
    Case(
        "iexact_tricky_literal",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(customer_id=3, status__iexact="x') AND (status").count(),
        "iexact with a value that looks like SQL: the condition must not split inside it",
    ),
    Case(
        "iexact_expression",
        "book_author_upper_idx",
        lambda m: m.Book.objects.filter(author__iexact="author 7").count(),
        "twin of iexact: an index on Upper(author) searches upper(author)",
    ),
    Case(
        "iexact_join",
        "book_customer_status_idx",
        lambda m: m.Order.objects.filter(book__customer_id=3, book__status__iexact="open").count(),
        "iexact through a join: EXPLAIN qualifies the columns with their table",
    ),
    Case(
        "iexact_join_verbose",
        "book_customer_status_idx",
        lambda m: m.Order.objects.filter(book__customer_id=3, book__status__iexact="open").count(),
        "iexact_join with VERBOSE: a scan's own columns are qualified too",
        verbose=True,
    ),
    Case(
        "startswith",
        "book_isbn_idx",
        lambda m: m.Book.objects.filter(isbn__startswith="isbn 0001").count(),
        "startswith on a plain btree varchar: the index cannot search LIKE",
    ),
    Case(
        "startswith_second_key",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(customer_id=3, status__startswith="op").count(),
        "startswith on the second key of a plain btree: LIKE left to the Filter",
    ),
    Case(
        "startswith_pattern_ops",
        "book_sku_like_idx",
        lambda m: m.Book.objects.filter(sku__startswith="sku 0001").count(),
        "twin of startswith: varchar_pattern_ops searches the prefix",
    ),
    Case(
        "cast",
        "book_order_idx",
        # A plain Decimal would be turned into an int by the IntegerField; an expression
        # (Value, F() arithmetic, an annotation) keeps its numeric type.
        lambda m: m.Book.objects.filter(order=_value(Decimal("120.0"))).count(),
        "an integer key compared with a numeric value: the column is cast to numeric",
    ),
    Case(
        "cast_matching",
        "book_order_idx",
        lambda m: m.Book.objects.filter(order=120).count(),
        "twin of cast: an int compared with an int",
    ),
    Case(
        "leading_missing",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(status="open").count(),
        "only the second key: no condition on customer_id",
    ),
    Case(
        "or_unindexed",
        "book_isbn_idx",
        lambda m: m.Book.objects.filter(_q(isbn="isbn 00042") | _q(price=5)).count(),
        "OR with an unindexed column: no index can answer the OR",
    ),
    Case(
        "or_indexed",
        "book_isbn_idx",
        lambda m: m.Book.objects.filter(_q(isbn="isbn 00042") | _q(title="title 00043")).count(),
        "twin of or_unindexed: each side of the OR has an index (BitmapOr)",
    ),
    Case(
        "not_equal",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(customer_id=3).exclude(status="open").count(),
        "exclude(status=...): <> on the second key, left to the Filter",
    ),
    Case(
        "not_in",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(customer_id=3).exclude(status__in=["open", "lost"]).count(),
        "exclude(status__in=...): NOT IN on the second key, left to the Filter",
    ),
    Case(
        "in",
        "book_customer_status_idx",
        lambda m: m.Book.objects.filter(customer_id=3, status__in=["closed", "sold"]).count(),
        "twin of not_equal/not_in: the wanted values, searched with = ANY",
    ),
    Case(
        "partial_not_implied",
        "order_open_customer_idx",
        lambda m: m.Order.objects.filter(customer_id=3, status="closed").count(),
        "status = 'closed' does not imply the partial index's WHERE status = 'open'",
    ),
    Case(
        "partial_implied",
        "order_open_customer_idx",
        lambda m: m.Order.objects.filter(customer_id=3, status="open").count(),
        "twin of partial_not_implied: the query implies the predicate",
    ),
    Case(
        "partial_whole",
        "order_open_customer_idx",
        lambda m: m.Order.objects.filter(status="open").count(),
        "no Index Cond, but the partial index's predicate selects the rows",
    ),
    Case(
        "order_against",
        "order_customer_created_idx",
        lambda m: list(m.Order.objects.order_by("customer_id", "created")[:10]),
        "ORDER BY customer_id, created against (customer_id, created DESC)",
    ),
    Case(
        "order_matching",
        "order_customer_created_idx",
        lambda m: list(m.Order.objects.order_by("customer_id", "-created")[:10]),
        "twin of order_against: the index's own directions",
    ),
    Case(
        "order_pinned",
        "order_customer_created_idx",
        lambda m: list(m.Order.objects.filter(customer_id=3).order_by("created")[:10]),
        "customer_id fixed: created ascending is the index read backwards",
    ),
    Case(
        "first_full_walk",
        "shop_book_pkey",
        lambda m: m.Book.objects.filter(price=5).first(),
        ".first() with a filter on an unindexed column: the pkey is walked whole",
    ),
    Case(
        "title_limit",
        "book_title_idx",
        lambda m: list(m.Book.objects.order_by("title")[:10]),
        "twin of first_full_walk: ORDER BY title LIMIT 10 read from the title index",
    ),
    Case(
        "seq_scan",
        "book_isbn_idx",
        lambda m: m.Book.objects.filter(price=5).count(),
        "a filter no index can search: Seq Scan with a Filter",
    ),
)


def _setup_django(server: dict[str, Any], name: str) -> None:
    """Configure Django for ``tests.shop`` alone, on database ``name`` of ``server``."""
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {**server, "NAME": name}},
        INSTALLED_APPS=["tests.shop"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


@contextmanager
def scratch_database(server: dict[str, Any]) -> Iterator[str]:
    """A database of our own on ``server`` for the block, dropped afterwards."""
    from psycopg import sql

    from upstream.database import connect

    name = f"qp_service_{os.getpid()}"
    with connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            from django.conf import settings

            if settings.configured:
                from django.db import connections

                connections.close_all()
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def fill(connection: Any) -> None:
    """Create the shop tables from the app's migration and fill them."""
    from django.core.management import call_command

    call_command("migrate", "shop", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        collation = cursor.fetchone()[0]
        if collation in ("C", "POSIX"):
            # Under C a plain btree searches a LIKE prefix: the startswith cases would
            # show nothing.
            raise SystemExit(f"the server's default collation is {collation}; use another")
        for statement in DATA_SQL + MAINTENANCE_SQL:
            cursor.execute(statement)


def catalog(connection: Any) -> dict[str, Any]:
    """Every shop index's keys and predicate, and every shop column's type."""
    with connection.cursor() as cursor:
        cursor.execute(_CATALOG_SQL, [list(TABLES)])
        indexes = {
            name: {
                "table": table,
                "definition": definition,
                "columns": list(columns),
                "predicate": predicate,
                "method": method,
                "unique": unique,
            }
            for name, table, definition, columns, predicate, method, unique in cursor.fetchall()
        }
        cursor.execute(_COLUMN_TYPES_SQL, [list(TABLES)])
        types: dict[str, dict[str, str]] = {}
        for table, column, type_name in cursor.fetchall():
            types.setdefault(table, {})[column] = type_name
    return {"indexes": indexes, "column_types": types}


def recorded_query(connection: Any, case: Case, models: ModuleType) -> tuple[str, Any]:
    """Run the case's ORM query once and return the one statement Django sent."""
    seen: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        case.run(models)
    if len(seen) != 1:
        raise RuntimeError(f"{case.name}: expected one statement, Django sent {len(seen)}")
    return seen[0]


def explain(connection: Any, sql: str, params: Any, verbose: bool = False) -> Any:
    """``EXPLAIN (FORMAT JSON)`` in forced mode, in a transaction that is rolled back."""
    from django.db import transaction

    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            for statement in SETUP:
                cursor.execute(statement)
            options = "VERBOSE, FORMAT JSON" if verbose else "FORMAT JSON"
            cursor.execute(f"EXPLAIN ({options}) {sql}", params)
            output = cursor.fetchone()[0]
        transaction.set_rollback(True, using=connection.alias)
    return output


def expect(explain_output: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Distinct node types and every index scanned, walked from the raw JSON."""
    node_types: set[str] = set()
    index_names: set[str] = set()
    stack = [explain_output[0]["Plan"]]
    while stack:
        node = stack.pop()
        node_types.add(node["Node Type"])
        if "Index Name" in node:
            index_names.add(node["Index Name"])
        stack.extend(node.get("Plans", ()))
    return {"node_types": sorted(node_types), "index_names": sorted(index_names)}


def summary(explain_output: list[dict[str, Any]]) -> str:
    """One line per scan: what it reads, its Index Cond and Filter (for the console)."""
    lines = []
    stack = [explain_output[0]["Plan"]]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.get("Plans", ())))
        target = node.get("Index Name") or node.get("Relation Name")
        if target is None:
            lines.append(f"    {node['Node Type']}")
            continue
        parts = [f"    {node['Node Type']} {target}"]
        for key in ("Index Cond", "Recheck Cond", "Filter"):
            if key in node:
                parts.append(f"{key}: {node[key]}")
        lines.append("; ".join(parts))
    return "\n".join(lines)


def capture(server: dict[str, Any]) -> Path:
    """Capture every case from ``server`` (a Django ``DATABASES`` entry) into
    ``pg<major>/service_<case>.json``."""
    with scratch_database(server) as name:
        _setup_django(server, name)
        from django.db import connection

        from tests.shop import models

        fill(connection)
        facts = catalog(connection)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        out = PLANS_DIR / f"pg{connection.pg_version // 10000}"
        out.mkdir(exist_ok=True)
        for case in CASES:
            sql, params = recorded_query(connection, case, models)
            output = explain(connection, sql, params, case.verbose)
            record = {
                "case": case.name,
                "about": case.about,
                "index": case.index,
                "sql": sql,
                "params": [str(value) for value in params or ()],
                "setup": list(SETUP),
                "verbose": case.verbose,
                "server_version": version,
                "explain": output,
                "expect": expect(output),
                **facts,
            }
            path = out / f"service_{case.name}.json"
            path.write_text(json.dumps(record, indent=2) + "\n")
            print(f"{path.relative_to(PLANS_DIR)}: {case.about}\n{summary(output)}")
    return out


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO_ROOT))
    from upstream.database import database_settings, settings_from_url

    # Without a URL, upstream's choice: DATABASE_URL, else the embedded PostgreSQL 18,
    # which then runs as long as this process does.
    capture(settings_from_url(argv[0]) if argv else database_settings())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
