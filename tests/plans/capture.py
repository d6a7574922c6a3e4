"""Capture real ``EXPLAIN (FORMAT JSON)`` output for the plan-model tests.

This module owns the case table: the scratch schema, its data, and one query per plan
shape, with the settings that force that shape. The stored fixtures under ``pg<major>/``
come from running it, and ``tests/test_plans_live.py`` imports the same table to check
that the live server still plans each case the same way.

Usage (needs a PostgreSQL superuser or a role that may create a schema)::

    python tests/plans/capture.py postgresql://postgres@127.0.0.1:5432/postgres
    python tests/plans/capture.py 'postgresql://postgres@/postgres?host=/work/main/.pgdata'
    DATABASE_URL=postgresql://... python tests/plans/capture.py

The schema ``qp_capture`` is created in the named database and dropped at the end.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

SCHEMA = "qp_capture"
PLANS_DIR = Path(__file__).resolve().parent

# Deterministic data only (no random()): the live test must see the same statistics as
# the capture did. Every table is small enough that ANALYZE reads all of it, so its
# statistics are exact rather than a sample.
SCHEMA_SQL = [
    f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE",
    f"CREATE SCHEMA {SCHEMA}",
    f"SET search_path = {SCHEMA}",
    "CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, region int NOT NULL)",
    "INSERT INTO customer SELECT i, 'customer ' || i, i % 20 FROM generate_series(1, 1000) i",
    """CREATE TABLE orders (
        id int PRIMARY KEY,
        customer_id int NOT NULL REFERENCES customer (id),
        status int NOT NULL,
        flag int NOT NULL,
        amount int NOT NULL,
        created int NOT NULL,
        note text NOT NULL
    )""",
    """INSERT INTO orders
        SELECT i, i % 1000 + 1, i % 97, (i / 97) % 89, (i * 7) % 1000, i, md5(i::text)
        FROM generate_series(1, 20000) i""",
    "CREATE INDEX orders_customer_idx ON orders (customer_id)",
    "CREATE INDEX orders_status_idx ON orders (status)",
    "CREATE INDEX orders_flag_idx ON orders (flag)",
    "CREATE INDEX orders_amount_idx ON orders (amount)",
    "CREATE INDEX orders_created_idx ON orders (created)",
    # Partition indexes are created one by one and attached, the way a zero-downtime
    # migration builds them (CONCURRENTLY per partition), so each has its own name.
    "CREATE TABLE events (id int NOT NULL, kind int NOT NULL, created int NOT NULL)"
    " PARTITION BY RANGE (created)",
    "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM (0) TO (10000)",
    "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM (10000) TO (20000)",
    "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM (20000) TO (30000)",
    "INSERT INTO events SELECT i, i % 50, i FROM generate_series(0, 29999) i",
    "CREATE INDEX events_kind_idx ON ONLY events (kind)",
    "CREATE INDEX events_2024_kind_idx ON events_2024 (kind)",
    "CREATE INDEX events_2025_kind_idx ON events_2025 (kind)",
    "CREATE INDEX events_2026_kind_idx ON events_2026 (kind)",
    "ALTER INDEX events_kind_idx ATTACH PARTITION events_2024_kind_idx",
    "ALTER INDEX events_kind_idx ATTACH PARTITION events_2025_kind_idx",
    "ALTER INDEX events_kind_idx ATTACH PARTITION events_2026_kind_idx",
]
# Outside a transaction: VACUUM sets the visibility map an Index Only Scan needs.
MAINTENANCE_SQL = [
    "VACUUM ANALYZE customer",
    "VACUUM ANALYZE orders",
    "VACUUM ANALYZE events",
]

# Every case runs with these first. JIT never changes a plan's shape, but off keeps its
# report out of ANALYZE output.
COMMON = (f"SET LOCAL search_path = {SCHEMA}", "SET LOCAL jit = off")
# Parallel plans would otherwise appear or not depending on table size and server
# settings; every case that does not want them turns them off.
SERIAL = ("SET LOCAL max_parallel_workers_per_gather = 0",)
PARALLEL = (
    "SET LOCAL max_parallel_workers_per_gather = 2",
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0",
    "SET LOCAL min_parallel_table_scan_size = 0",
    "SET LOCAL min_parallel_index_scan_size = 0",
)
NO_SEQSCAN = ("SET LOCAL enable_seqscan = off",)


@dataclass(frozen=True)
class Case:
    """One plan shape: the query, and the settings that force the planner into it."""

    name: str
    sql: str
    setup: tuple[str, ...] = SERIAL
    # Only for SELECTs: ANALYZE runs the statement.
    analyze: bool = False

    @property
    def statements(self) -> tuple[str, ...]:
        """Every SET the case runs before its EXPLAIN, in order."""
        return COMMON + self.setup


CASES: tuple[Case, ...] = (
    Case("index_scan", "SELECT * FROM orders WHERE id = 42"),
    Case("index_scan_analyze", "SELECT * FROM orders WHERE id = 42", analyze=True),
    Case(
        "index_only_scan",
        "SELECT customer_id FROM orders WHERE customer_id = 5",
        SERIAL + ("SET LOCAL enable_bitmapscan = off",),
    ),
    Case(
        "bitmap_and",
        "SELECT * FROM orders WHERE status = 3 AND flag = 7",
        SERIAL + NO_SEQSCAN + ("SET LOCAL enable_indexscan = off",),
    ),
    Case(
        "bitmap_or",
        "SELECT * FROM orders WHERE status = 3 OR flag = 7",
        SERIAL + NO_SEQSCAN,
    ),
    Case("index_scan_backward", "SELECT * FROM orders ORDER BY created DESC LIMIT 5"),
    Case(
        "parallel_seq_scan",
        "SELECT count(*) FROM orders WHERE note LIKE '%ab%'",
        PARALLEL,
    ),
    Case(
        "parallel_index_scan",
        "SELECT sum(amount) FROM orders WHERE created < 15000",
        PARALLEL + NO_SEQSCAN + ("SET LOCAL enable_bitmapscan = off",),
    ),
    Case(
        "gather_merge",
        "SELECT id, note FROM orders WHERE amount > 10 ORDER BY note",
        PARALLEL + ("SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off"),
    ),
    Case(
        "nested_loop",
        "SELECT o.id, c.name FROM orders o JOIN customer c ON c.id = o.customer_id WHERE o.id < 50",
        SERIAL
        + (
            "SET LOCAL enable_hashjoin = off",
            "SET LOCAL enable_mergejoin = off",
            "SET LOCAL enable_memoize = off",
        ),
    ),
    Case(
        "hash_join",
        "SELECT o.id, c.name FROM orders o JOIN customer c ON c.id = o.customer_id"
        " WHERE c.region = 3",
        SERIAL + ("SET LOCAL enable_nestloop = off", "SET LOCAL enable_mergejoin = off"),
    ),
    Case(
        "merge_join",
        "SELECT o.id, c.name FROM orders o JOIN customer c ON c.id = o.customer_id",
        SERIAL + ("SET LOCAL enable_hashjoin = off", "SET LOCAL enable_nestloop = off"),
    ),
    Case("initplan", "SELECT id FROM orders WHERE amount = (SELECT max(amount) FROM orders)"),
    Case(
        "subplan",
        "SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n"
        " FROM customer c WHERE c.region = 4",
    ),
    Case(
        "cte",
        "WITH cheap AS MATERIALIZED (SELECT * FROM orders WHERE amount < 10)"
        " SELECT * FROM cheap WHERE customer_id = 3",
    ),
    Case(
        "union_all_append",
        "SELECT id FROM orders WHERE id < 10 UNION ALL SELECT id FROM customer WHERE id < 10",
    ),
    Case(
        "partitioned",
        "SELECT * FROM events WHERE kind = 7",
        SERIAL + NO_SEQSCAN + ("SET LOCAL enable_bitmapscan = off",),
    ),
    Case("update_modifytable", "UPDATE orders SET amount = amount + 1 WHERE id = 7"),
    Case("delete_modifytable", "DELETE FROM orders WHERE created BETWEEN 100 AND 105"),
    Case("seq_scan_filter", "SELECT * FROM orders WHERE note = 'nothing'"),
    Case("limit_no_sort", "SELECT * FROM orders ORDER BY id LIMIT 10"),
)


def create_schema(conn: psycopg.Connection[Any]) -> None:
    """Create and fill the scratch schema on an autocommit connection."""
    for statement in SCHEMA_SQL:
        conn.execute(statement)
    for statement in MAINTENANCE_SQL:
        conn.execute(statement)
    # The connection may go on to other work; only the cases' SET LOCAL should see the schema.
    conn.execute("RESET search_path")


def drop_schema(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


@contextmanager
def scratch_schema(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """The scratch schema for the duration of the block; ``conn`` must be autocommit."""
    create_schema(conn)
    try:
        yield
    finally:
        drop_schema(conn)


def explain(conn: psycopg.Connection[Any], case: Case) -> list[dict[str, Any]]:
    """``EXPLAIN (FORMAT JSON)`` of the case, exactly as psycopg returns it."""
    options = "ANALYZE, FORMAT JSON" if case.analyze else "FORMAT JSON"
    return _explain(conn, case, options)[0][0]


def explain_text(conn: psycopg.Connection[Any], case: Case) -> list[str]:
    """The server's own text ``EXPLAIN`` of the case (never ANALYZE), one line per item."""
    return [row[0] for row in _explain(conn, case, "FORMAT TEXT")]


def _explain(conn: psycopg.Connection[Any], case: Case, options: str) -> list[Any]:
    # A transaction that is rolled back, so the SET LOCALs end with it; and without
    # ANALYZE nothing executes, so UPDATE and DELETE change nothing either.
    with conn.transaction(force_rollback=True):
        for statement in case.statements:
            conn.execute(statement)
        return conn.execute(f"EXPLAIN ({options}) {case.sql}").fetchall()


def expect(explain_output: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What the live test compares: distinct node types and every index scanned.

    Walks the JSON itself rather than using the plan model, so the fixtures check the
    model instead of agreeing with it by construction.
    """
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


def capture(url: str) -> Path:
    """Capture every case from the server at ``url`` into ``pg<major>/``."""
    with psycopg.connect(url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        out = PLANS_DIR / f"pg{conn.info.server_version // 10000}"
        out.mkdir(exist_ok=True)
        with scratch_schema(conn):
            for case in CASES:
                output = explain(conn, case)
                record = {
                    "sql": case.sql,
                    "analyze": case.analyze,
                    "setup": list(case.statements),
                    "server_version": version,
                    "explain": output,
                    "expect": expect(output),
                }
                path = out / f"{case.name}.json"
                path.write_text(json.dumps(record, indent=2) + "\n")
                print(f"{path.relative_to(PLANS_DIR)}: {', '.join(record['expect']['node_types'])}")
    return out


def main(argv: list[str]) -> int:
    url = argv[0] if argv else os.environ.get("DATABASE_URL")
    if not url:
        print(
            "usage: capture.py postgresql://user@host:port/dbname (or set DATABASE_URL)",
            file=sys.stderr,
        )
        return 2
    capture(url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
