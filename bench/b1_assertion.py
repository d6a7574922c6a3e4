"""B1: one ``assert_uses_index`` call against the floor and against the by-hand way.

The floor is what any plan check must pay: compile the queryset and make one
``EXPLAIN (FORMAT JSON)`` round trip on the same connection. The by-hand way is what
people write without the plugin: ``queryset.explain(format="json")`` and a substring
check. Both run inside a test's transaction (the plugin then uses a savepoint) and in
autocommit (``BEGIN ... ROLLBACK``), each call with parameter values no call used before.
The plugin runs in each mode: forced, natural, and generic (the statement's plan once
prepared: ``EXPLAIN (GENERIC_PLAN)`` on PostgreSQL 16+, PREPARE and DEALLOCATE before).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.timing import Prepare, Stats, alternate, ratio

INDEX = "alertrule_eval_priority_idx"
CONTENDERS = ("floor", "forced", "natural", "generic", "by_hand")
# Inside a test's transaction (django_db: a savepoint), and in autocommit (BEGIN..ROLLBACK).
CONTEXTS = ("transaction", "autocommit")
TARGET_FORCED_VS_FLOOR = 1.2
PAGE = 10
FIRST_CURSOR = 60

# Set-based, like upstream's volume tests: customers, then ``rules`` rules each, four in
# five enabled, priorities spread over 0..99.
_LOAD = (
    """INSERT INTO upstream_customer (name, slug)
       SELECT 'Bench ' || g, 'bench-' || g FROM generate_series(1, %(customers)s) g""",
    """INSERT INTO upstream_alertrule (customer_id, name, enabled, routing_priority, metric,
                                      min_severity, channel, destination)
       SELECT c.id, 'rule ' || r, r %% 5 <> 0, (r * 37) %% 100, '', 0, 'email', 'ops@example.com'
       FROM upstream_customer c CROSS JOIN generate_series(1, %(rules)s) r""",
    "ANALYZE upstream_customer, upstream_alertrule",
)


@dataclass(frozen=True)
class B1Options:
    iterations: int
    warmup: int
    customers: int = 1000
    rules: int = 20


def load_rows(customers: int, rules: int) -> list[int]:
    """``customers`` customers with ``rules`` alert rules each; returns the customer ids."""
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in _LOAD:
            cursor.execute(statement, {"customers": customers, "rules": rules})
        cursor.execute("SELECT id FROM upstream_customer ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def contenders(customer_ids: list[int], offset: int) -> dict[str, Prepare]:
    """The ways to check one queryset, each preparing a fresh queryset per call."""
    from django.db import connection

    from pytest_queryplan.db.assertions import assert_index_used
    from upstream.alerts.models import AlertRule

    count = len(customer_ids)

    def queryset(call: int) -> Any:
        # A keyset-paginated page of one customer's enabled rules. No two calls share
        # their (customer, cursor) values, so no cache of any kind can answer a call.
        call += offset
        return AlertRule.objects.filter(
            customer_id=customer_ids[call % count],
            enabled=True,
            routing_priority__lt=FIRST_CURSOR + call // count,
        ).order_by("-routing_priority")[:PAGE]

    def floor(call: int) -> Callable[[], object]:
        qs = queryset(call)

        def run() -> object:
            sql, params = qs.query.sql_with_params()
            with client_cursor(connection.connection) as cursor:
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                return cursor.fetchone()

        return run

    def plugin(mode: str) -> Prepare:
        def prepare(call: int) -> Callable[[], object]:
            qs = queryset(call)
            return lambda: assert_index_used(qs, INDEX, mode=mode)

        return prepare

    def by_hand(call: int) -> Callable[[], object]:
        qs = queryset(call)

        def run() -> object:
            text = qs.explain(format="json")
            if INDEX not in text:
                raise AssertionError(f"{INDEX} not used")
            return text

        return run

    return {
        "floor": floor,
        "forced": plugin("forced"),
        "natural": plugin("natural"),
        "generic": plugin("generic"),
        "by_hand": by_hand,
    }


def client_cursor(raw: Any) -> Any:
    """A cursor that binds values on the client, as Django does: psycopg 3's
    ``ClientCursor``, or a psycopg2 cursor (psycopg2 always binds on the client)."""
    if type(raw).__module__.split(".")[0] == "psycopg":
        import psycopg

        return psycopg.ClientCursor(raw)
    return raw.cursor()


def transport(settings: dict[str, Any]) -> str:
    """How the client reaches the server: a Unix socket (a HOST that is a folder, as the
    embedded server's) or TCP."""
    host = settings.get("HOST") or ""
    return "Unix socket" if not host or host.startswith("/") else "TCP"


def driver(raw: Any) -> str:
    module = type(raw).__module__.split(".")[0]
    version = getattr(sys.modules[module], "__version__", "?").split()[0]
    return f"{'psycopg2' if module == 'psycopg2' else 'psycopg'} {version}"


def run_b1(options: B1Options) -> dict[str, Any]:
    """Create the bench database, time every contender in both contexts, drop it."""
    from django.db import connection, transaction

    from bench.db import bench_database

    name = f"bench_{os.getpid()}"
    result: dict[str, Any] = {
        "database": name,
        "query": "AlertRule: one customer's enabled rules below a priority cursor, "
        f"highest first, LIMIT {PAGE}",
        "index": INDEX,
        "customers": options.customers,
        "rules": options.customers * options.rules,
        "iterations": options.iterations,
        "warmup": options.warmup,
        "contexts": {},
    }
    with bench_database(name):
        customer_ids = load_rows(options.customers, options.rules)
        connection.ensure_connection()
        result["transport"] = transport(connection.settings_dict)
        result["driver"] = driver(connection.connection)
        calls = (options.warmup + options.iterations + 1) * len(CONTENDERS)
        for number, context in enumerate(CONTEXTS):
            timed = contenders(customer_ids, offset=number * calls)
            if context == "transaction":
                with transaction.atomic():
                    stats = _timed(timed, options)
            else:
                stats = _timed(timed, options)
            result["contexts"][context] = summarise_context(stats)
    return result


def _timed(timed: dict[str, Prepare], options: B1Options) -> dict[str, Stats]:
    for prepare in timed.values():
        prepare(-1)()  # every contender must pass before it is timed
    return alternate(timed, iterations=options.iterations, warmup=options.warmup)


def summarise_context(stats: dict[str, Stats]) -> dict[str, Any]:
    ratios = {
        "forced/floor": ratio(stats["forced"], stats["floor"]),
        "natural/floor": ratio(stats["natural"], stats["floor"]),
        "generic/floor": ratio(stats["generic"], stats["floor"]),
        "generic/forced": ratio(stats["generic"], stats["forced"]),
        "by_hand/floor": ratio(stats["by_hand"], stats["floor"]),
        "forced/by_hand": ratio(stats["forced"], stats["by_hand"]),
    }
    return {
        "stats": {name: value.as_dict() for name, value in stats.items()},
        "ratios": ratios,
        "targets": {
            f"forced <= {TARGET_FORCED_VS_FLOOR}x floor": ratios["forced/floor"]
            <= TARGET_FORCED_VS_FLOOR,
            "forced faster than by-hand": ratios["forced/by_hand"] < 1.0,
        },
    }
