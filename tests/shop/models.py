"""Books and orders, with one index per way a query can fail to be served by an index.

Every index here is named (at most 30 characters, Django's limit) so the stored plans and
the tests can refer to it; the comment on each says which query shape it is there for.
``customer_id`` is a plain integer rather than a foreign key on purpose: a foreign key
would add its own index on the column and compete with the ones under test.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Upper


class Book(models.Model):
    """A book in one customer's catalog."""

    title = models.CharField(max_length=200)
    author = models.CharField(max_length=100)
    isbn = models.CharField(max_length=20)
    sku = models.CharField(max_length=20)
    # Deliberately unindexed: a filter on it can only be checked row by row.
    price = models.IntegerField()
    # "order" is a reserved word, so EXPLAIN prints this column quoted: "order".
    order = models.IntegerField()
    status = models.CharField(max_length=16)
    customer_id = models.IntegerField()
    created = models.DateTimeField()

    class Meta:
        indexes = [
            # order_by("title")[:10] reads it in order and stops after ten rows.
            models.Index(fields=["title"], name="book_title_idx"),
            # iexact on author: an expression index that Upper() conditions can search.
            models.Index(Upper("author"), name="book_author_upper_idx"),
            # A plain btree on a varchar: under a non-C collation it cannot search LIKE.
            models.Index(fields=["isbn"], name="book_isbn_idx"),
            # The same kind of column with the opclass that can search a LIKE prefix.
            models.Index(
                fields=["sku"], name="book_sku_like_idx", opclasses=["varchar_pattern_ops"]
            ),
            # An integer key, for a condition that compares it with a numeric value.
            models.Index(fields=["order"], name="book_order_idx"),
            # The composite index: iexact, Lower, LIKE, <> and NOT IN on its second column,
            # and a query that leaves out its first.
            models.Index(fields=["customer_id", "status"], name="book_customer_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Order(models.Model):
    """A customer's order of one book."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="orders")
    customer_id = models.IntegerField()
    status = models.CharField(max_length=16)
    total = models.IntegerField()
    created = models.DateTimeField()

    class Meta:
        indexes = [
            # Only open orders: usable when the query implies status = 'open'.
            models.Index(
                fields=["customer_id"],
                name="order_open_customer_idx",
                condition=models.Q(status="open"),
            ),
            # Mixed directions: it delivers (customer_id, -created) or, read backwards,
            # (-customer_id, created); never (customer_id, created).
            models.Index(fields=["customer_id", "-created"], name="order_customer_created_idx"),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} of customer {self.customer_id}"


class Article(models.Model):
    """A blog article, soft-deleted (issue 21's advice: a boolean filter, an OR of
    sub-queries, an OR one index serves)."""

    title = models.CharField(max_length=100)
    # Deliberately unindexed: a flag most rows share (WHERE NOT is_removed).
    is_removed = models.BooleanField(default=False)
    author_id = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["author_id"], name="article_author_idx")]

    def __str__(self) -> str:
        return self.title
