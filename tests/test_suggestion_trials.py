"""A suggested index is tried on the planner inside the test's own transaction; what that
transaction already did must not turn a good suggestion into a refused or declined one.

Real EXPLAINs on the shop app, inside pytest-django's per-test transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pytest_queryplan import QueryPlanAssertionError
from tests.shop.models import Book, Order

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def book(**values: object) -> Book:
    fields = {
        "title": "t",
        "author": "a",
        "isbn": "i",
        "sku": "s",
        "price": 1,
        "order": 1,
        "status": "open",
        "customer_id": 1,
        "created": NOW,
    }
    return Book.objects.create(**{**fields, **values})


def failure_text(assert_uses_index, target, index: str) -> str:
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(target, index)
    return str(failure.value)


def test_a_deferred_foreign_key_check_does_not_stop_the_trial(assert_uses_index) -> None:
    """Creating an Order queues its deferred foreign-key check; CREATE INDEX then refuses
    ("pending trigger events") unless the check runs first, inside the savepoint."""
    Order.objects.create(book=book(), customer_id=1, status="open", total=5, created=NOW)
    text = failure_text(assert_uses_index, Order.objects.filter(total=5), "order_open_customer_idx")
    assert "Suggestion (tried: PostgreSQL searched it" in text
    assert "pending trigger events" not in text
    # The deferred check is deferred again after the savepoint: the row is still there.
    assert Order.objects.filter(total=5).count() == 1


def test_an_index_the_transaction_cannot_use_yet_is_not_called_useless(
    assert_uses_index,
) -> None:
    """Rows the test changed leave a new index unusable until the transaction ends
    (pg_index.indcheckxmin): the suggestion stands, marked as not tried, never as one the
    planner declined."""
    first = book(price=5)
    Book.objects.filter(pk=first.pk).update(price=6)
    text = failure_text(assert_uses_index, Book.objects.filter(price=6), "book_title_idx")
    assert "still did not search it" not in text
    assert "Suggestion (unverified: not tried on the planner" in text
    assert 'CREATE INDEX CONCURRENTLY "book_price_idx" ON "shop_book" ("price");' in text
    assert "(pg_index.indcheckxmin)" in text
