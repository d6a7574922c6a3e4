"""Row-by-row writes on ``tests.shop``'s models: each loop that writes one row per
statement next to its bulk twin. ``test_row_writes.py`` runs them on the real server under
``--queryplan-nplusone=fail``: every broken one must fail with its fix, every fixed one
pass. Application code (not a test module), so scope ``app`` judges it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.shop.models import Book

START = datetime(2024, 1, 1, tzinfo=UTC)


def new_book(n: int) -> Book:
    return Book(
        title=f"title {n}",
        author="someone",
        isbn=f"isbn {n}",
        sku=f"sku {n}",
        price=n,
        order=n,
        status="open",
        customer_id=1,
        created=START,
    )


def insert_broken(count: int) -> None:
    for n in range(count):
        new_book(n).save()  # one INSERT per book


def insert_fixed(count: int) -> None:
    Book.objects.bulk_create(new_book(n) for n in range(count))


def update_broken() -> None:
    for book in Book.objects.all():
        book.price += 1
        book.save(update_fields=["price"])  # one UPDATE per book


def update_fixed() -> None:
    books = list(Book.objects.all())
    for book in books:
        book.price += 1
    Book.objects.bulk_update(books, ["price"])


def delete_broken() -> None:
    for book in Book.objects.filter(status="open"):
        book.delete()  # one DELETE per book


def delete_fixed() -> None:
    Book.objects.filter(status="open").delete()
