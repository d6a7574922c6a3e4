"""Reads once per row that follow a named relation, each next to its fix: application code
(not a test module) on ``tests.shop``'s models and Django's own ``auth`` models.
``test_relation_reads.py`` runs them on the real server under ``--queryplan-nplusone``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.models import Group, User
from django.db.models import Count

from tests.shop.models import Book, Order

START = datetime(2024, 1, 1, tzinfo=UTC)


def make_rows(count: int = 6) -> None:
    books = Book.objects.bulk_create(
        Book(
            title=f"title {n}",
            author="someone",
            isbn=f"isbn {n}",
            sku=f"sku {n}",
            price=n,
            order=n,
            status="open",
            customer_id=n,
            created=START,
        )
        for n in range(count)
    )
    Order.objects.bulk_create(
        Order(book=book, customer_id=1, status="open", total=1, created=START) for book in books
    )
    group = Group.objects.create(name="readers")
    for n in range(count):
        User.objects.create(username=f"user{n}").groups.add(group)


def order_titles_broken() -> list[str]:
    orders = list(Order.objects.all())  # PARENTS
    return [order.book.title for order in orders]


def order_titles_fixed() -> list[str]:
    return [order.book.title for order in Order.objects.select_related("book")]


def book_orders_broken() -> list[int]:
    books = list(Book.objects.all())  # PARENTS
    return [len(book.orders.all()) for book in books]


def book_orders_fixed() -> list[int]:
    return [len(book.orders.all()) for book in Book.objects.prefetch_related("orders")]


def book_order_counts_broken() -> list[int]:
    books = list(Book.objects.all())  # PARENTS
    return [book.orders.count() for book in books]


def book_order_counts_fixed() -> list[int]:
    return [book.n for book in Book.objects.annotate(n=Count("orders"))]


def user_groups_broken() -> list[int]:
    users = list(User.objects.all())  # PARENTS
    return [len(user.groups.all()) for user in users]


def user_groups_fixed() -> list[int]:
    return [len(user.groups.all()) for user in User.objects.prefetch_related("groups")]
