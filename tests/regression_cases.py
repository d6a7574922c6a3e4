"""The regression catalogue's queries: each way a query loses its index, next to its fix.

This module owns the cases of issue 9's catalogue (``test_regressions.py`` asserts on
them in process; its guard run imports this module in an inner pytest process with
``tests.settings``): for every regression class a *broken* query on ``tests.shop``'s
models and the *fixed* twin that the index serves, the index the assertion names, and the
forms in which code runs the query (``list``: the QuerySet's own SELECT, which is also
what the target form ``assert_uses_index(queryset, ...)`` explains; ``count``/``first``:
the SQL Django sends for ``.count()``/``.first()``). Each test makes the rows, and
ANALYZEs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Lower

from tests.shop.models import Book, Order

START = datetime(2024, 1, 1, tzinfo=UTC)
STATUSES = ("open", "closed", "lost", "sold")
ROWS = 200
# One book per customer: with these rows PostgreSQL 15 leaves IN on the second key of
# book_customer_status_idx to the Filter, while 17 and later search it (see "not_equal").
CUSTOMERS = 200


def make_rows(count: int = ROWS) -> None:
    """Books and orders of every status, few enough that every test can afford its own,
    and their statistics."""
    books = Book.objects.bulk_create(
        Book(
            title=f"title {i:05}",
            author=f"Author {i % 50}",
            isbn=f"isbn {i:05}",
            sku=f"sku {i:05}",
            price=i % 100,
            order=i % 1000,
            status=STATUSES[i % 4],
            customer_id=i % CUSTOMERS + 1,
            created=START + timedelta(hours=i),
        )
        for i in range(count)
    )
    Order.objects.bulk_create(
        Order(
            book=books[i % len(books)],
            customer_id=i % CUSTOMERS + 1,
            status=STATUSES[i % 4],
            total=i % 500,
            created=START + timedelta(minutes=i),
        )
        for i in range(count)
    )
    # Statistics of exactly these rows. Without them the planner estimates from counters
    # that earlier tests leave behind (CREATE INDEX and ANALYZE update pg_class in place,
    # even when rolled back), and a close choice, such as PostgreSQL 15's IN on a second
    # key, would depend on which tests ran before on the same database.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_book")
        cursor.execute("ANALYZE shop_order")


def add_covering_index() -> None:
    """An index on customer_id that INCLUDEs price, inside the test's transaction: it can
    answer a query on price without the table (an Index Only Scan), but never search it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS book_customer_cover_price ON shop_book (customer_id)"
            " INCLUDE (price)"
        )


def drop_isbn_index() -> None:
    """Drop book_isbn_idx inside the test's transaction, as a migration would for good."""
    (index,) = [i for i in Book._meta.indexes if i.name == "book_isbn_idx"]
    with connection.schema_editor() as editor:
        editor.remove_index(Book, index)


def add_trigram_index() -> None:
    """A trigram index on isbn, inside the test's transaction: what can serve ``contains``.

    The shop app has none (pg_trgm is an extension); the transaction's rollback removes
    both the extension and the index.
    """
    from django.contrib.postgres.indexes import GinIndex

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    index = GinIndex(fields=["isbn"], name="book_isbn_trgm_idx", opclasses=["gin_trgm_ops"])
    with connection.schema_editor() as editor:
        editor.add_index(Book, index)


@dataclass(frozen=True)
class Query:
    """A QuerySet (built fresh each time), the index it should be served by, and what must
    happen in the database first (``setup``)."""

    index: str
    build: Callable[[], QuerySet[Any]]
    setup: Callable[[], None] | None = None

    def prepare(self) -> QuerySet[Any]:
        if self.setup is not None:
            self.setup()
        return self.build()


@dataclass(frozen=True)
class Regression:
    """One regression class: the query that lost its index and its fixed twin."""

    name: str
    title: str  # the class, as the README table names it
    broken: Query
    fixed: Query
    forms: tuple[str, ...] = ("list", "count")
    # What the assertion asks beyond the index serving the query (ordered=, keys=).
    options: tuple[tuple[str, Any], ...] = ()


def run(queryset: QuerySet[Any], form: str) -> object:
    """Run the QuerySet the way application code would: ``list``, ``count`` or ``first``."""
    if form == "list":
        return list(queryset)
    if form == "count":
        return queryset.count()
    if form == "first":
        return queryset.first()
    if form == "exists":
        return queryset.exists()
    if form == "first_row":  # a LIMIT 1 with no ORDER BY, as the QuerySet's own SELECT
        return list(queryset.order_by()[:1])
    raise ValueError(f"unknown form {form!r}")


def _lower_status() -> QuerySet[Book]:
    return Book.objects.alias(status_lower=Lower("status")).filter(
        customer_id=3, status_lower="open"
    )


BOOK_STATUS = "book_customer_status_idx"
BOOK_COVER = "book_customer_cover_price"
ORDER_OPEN = "order_open_customer_idx"
ORDER_CREATED = "order_customer_created_idx"

CATALOGUE: tuple[Regression, ...] = (
    Regression(
        "iexact",
        "function on a key column: `iexact`",
        Query(BOOK_STATUS, lambda: Book.objects.filter(customer_id=3, status__iexact="open")),
        # The fix the failure proposes: an index on the expression (author has one).
        Query("book_author_upper_idx", lambda: Book.objects.filter(author__iexact="author 7")),
    ),
    Regression(
        "lower",
        "function on a key column: `Lower()`",
        Query(BOOK_STATUS, _lower_status),
        # The other fix it proposes: filter on the plain column.
        Query(BOOK_STATUS, lambda: Book.objects.filter(customer_id=3, status="open")),
    ),
    Regression(
        "startswith",
        "`startswith` (LIKE) on a plain btree",
        Query("book_isbn_idx", lambda: Book.objects.filter(isbn__startswith="isbn 0001")),
        Query("book_sku_like_idx", lambda: Book.objects.filter(sku__startswith="sku 0001")),
    ),
    Regression(
        "contains",
        "`contains` (LIKE '%...%') on a plain btree",
        Query("book_isbn_idx", lambda: Book.objects.filter(isbn__contains="0001")),
        # Values of its own, here and for the dropped index: the guard's plan cache is
        # keyed by SQL and parameters, not by the indexes that exist, and would hand the
        # twin the broken query's plan.
        Query(
            "book_isbn_trgm_idx",
            lambda: Book.objects.filter(isbn__contains="0002"),
            setup=add_trigram_index,
        ),
    ),
    Regression(
        "cast",
        "cast mismatch (integer column, numeric value)",
        # A plain Decimal would be turned into an int by the IntegerField; an expression
        # keeps its numeric type, and PostgreSQL casts the column instead.
        Query("book_order_idx", lambda: Book.objects.filter(order=Value(Decimal("120.0")))),
        Query("book_order_idx", lambda: Book.objects.filter(order=120)),
    ),
    Regression(
        "leading_column",
        "leading column missing",
        Query(BOOK_STATUS, lambda: Book.objects.filter(status="open")),
        Query(BOOK_STATUS, lambda: Book.objects.filter(customer_id=3, status="open")),
    ),
    Regression(
        "or_columns",
        "OR across columns",
        Query("book_isbn_idx", lambda: Book.objects.filter(Q(isbn="isbn 00042") | Q(price=5))),
        Query(
            "book_isbn_idx",
            lambda: Book.objects.filter(Q(isbn="isbn 00042") | Q(title="title 00043")),
        ),
    ),
    Regression(
        "not_equal",
        "`<>` (`exclude(field=value)`)",
        Query(BOOK_STATUS, lambda: Book.objects.filter(customer_id=3).exclude(status="open")),
        Query(
            BOOK_STATUS,
            lambda: Book.objects.filter(customer_id=3, status__in=["closed", "lost", "sold"]),
        ),
    ),
    Regression(
        "not_in",
        "`NOT IN` (`exclude(field__in=...)`)",
        Query(
            BOOK_STATUS,
            lambda: Book.objects.filter(customer_id=3).exclude(status__in=["open", "lost"]),
        ),
        Query(BOOK_STATUS, lambda: Book.objects.filter(customer_id=3, status="closed")),
    ),
    Regression(
        "partial_literal",
        "partial index, predicate not implied (literal)",
        Query(ORDER_OPEN, lambda: Order.objects.filter(customer_id=3, status="closed")),
        Query(ORDER_OPEN, lambda: Order.objects.filter(customer_id=3, status="open")),
    ),
    Regression(
        "partial_range",
        "partial index, another value plus a range",
        Query(ORDER_OPEN, lambda: Order.objects.filter(customer_id__gte=3, status="shipped")),
        Query(ORDER_OPEN, lambda: Order.objects.filter(customer_id__gte=3, status="open")),
    ),
    Regression(
        "partial_none",
        "partial index, no condition on its column",
        Query(ORDER_OPEN, lambda: Order.objects.filter(customer_id=3)),
        Query(ORDER_OPEN, lambda: Order.objects.filter(customer_id=3, status="open")),
    ),
    Regression(
        "order_direction",
        "ORDER BY against a mixed-order index",
        Query(ORDER_CREATED, lambda: Order.objects.order_by("customer_id", "created")[:10]),
        Query(ORDER_CREATED, lambda: Order.objects.order_by("customer_id", "-created")[:10]),
        forms=("list",),
    ),
    Regression(
        "index_walk",
        "filtered full index walk (no LIMIT)",
        Query("book_title_idx", lambda: Book.objects.filter(price=1).order_by("title")),
        Query("book_title_idx", lambda: Book.objects.order_by("title")[:10]),
        forms=("list",),
    ),
    Regression(
        "first_walk",
        "`.first()` full index walk",
        # .first() adds ORDER BY id LIMIT 1: the pkey, walked whole with price filtered.
        Query("shop_book_pkey", lambda: Book.objects.filter(price=5)),
        Query("book_order_idx", lambda: Book.objects.filter(order=5)),
        forms=("first",),
    ),
    Regression(
        "dropped_index",
        "dropped index",
        Query("book_isbn_idx", lambda: Book.objects.filter(isbn="isbn 00042"), drop_isbn_index),
        Query("book_isbn_idx", lambda: Book.objects.filter(isbn="isbn 00043")),
    ),
)

# Issue 16: verdicts that were wrong either way. Where the old verdict was a false pass,
# the broken query is the one that passed; where it was a false failure (a Filter on a key
# the Index Cond had searched), the fixed twin is the one that failed.
CATALOGUE += (
    Regression(
        "order_tiebreak",
        "ORDER BY with a tie-breaker the index lacks (`ordered=True`)",
        # 15 re-sorts with a Sort, 18 with an Incremental Sort on created: both must fail.
        Query(
            ORDER_CREATED,
            lambda: Order.objects.filter(customer_id=3).order_by("-created", "pk")[:10],
        ),
        Query(ORDER_CREATED, lambda: Order.objects.filter(customer_id=3).order_by("-created")[:10]),
        forms=("list",),
        options=(("ordered", True),),
    ),
    Regression(
        "searched_key_filter",
        "Filter on a key the Index Cond searched (`__week_day` within a range)",
        # created only in the Filter: left to it, as before.
        Query(ORDER_CREATED, lambda: Order.objects.filter(customer_id=3, created__week_day=2)),
        # created searched as a range, and the week day checked on the rows it found.
        Query(
            ORDER_CREATED,
            lambda: Order.objects.filter(
                customer_id=3,
                created__gte=START,
                created__lt=START + timedelta(days=7),
                created__week_day=2,
            ),
        ),
    ),
    Regression(
        "union_branch",
        "one UNION branch scans the index badly",
        Query(
            BOOK_STATUS,
            lambda: Book.objects.filter(customer_id=3, status="open").union(
                Book.objects.filter(customer_id=4, status__iexact="open")
            ),
        ),
        Query(
            BOOK_STATUS,
            lambda: Book.objects.filter(customer_id=3, status="open").union(
                Book.objects.filter(customer_id=4, status="open")
            ),
        ),
        forms=("list",),
    ),
    Regression(
        "keys_aggregate_filter",
        "a key moved into an aggregate's FILTER (`keys=`)",
        Query(
            BOOK_STATUS,
            lambda: (
                Book.objects.filter(customer_id=3)
                .values("customer_id")
                .annotate(n=Count("pk", filter=Q(status="open")))
            ),
        ),
        Query(
            BOOK_STATUS,
            lambda: (
                Book.objects.filter(customer_id=3, status="open")
                .values("customer_id")
                .annotate(n=Count("pk"))
            ),
        ),
        options=(("keys", ("customer_id", "status")),),
    ),
    Regression(
        "limit_walk",
        "LIMIT without ORDER BY walks a covering index (`.exists()`)",
        # SELECT 1 ... WHERE price = 5 LIMIT 1: any index would do for a LIMIT without an
        # order, so the whole walk of the covering index, price filtered, serves nothing.
        # Only the columns the index holds, so it can answer without the table.
        Query(
            BOOK_COVER,
            lambda: Book.objects.filter(price=5).values("customer_id"),
            setup=add_covering_index,
        ),
        Query(
            BOOK_COVER,
            lambda: Book.objects.filter(customer_id=3, price=5).values("customer_id"),
            setup=add_covering_index,
        ),
        forms=("first_row", "exists"),
    ),
)

BY_NAME = {regression.name: regression for regression in CATALOGUE}


def guard_runs() -> list[tuple[str, str]]:
    """Every (regression, form) the guard's inner run executes, both twins each."""
    return [(r.name, form) for r in CATALOGUE for form in r.forms]
