"""Issue 21's advice cases on ``tests.shop``'s Article: each broken query next to its fix.
Application code (not a test module), so scope ``app`` judges it;
``test_guard_precision.py`` runs them under the guard on the real server.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from tests.shop.models import Article


def make_articles() -> None:
    Article.objects.bulk_create(
        Article(title=f"title {n}", is_removed=n % 10 == 0, author_id=n % 7) for n in range(70)
    )
    with connection.cursor() as cursor:  # statistics: the planner knows 63 of 70 rows pass
        cursor.execute("ANALYZE shop_article")


def live_broken() -> list[Article]:
    return list(Article.objects.filter(is_removed=False))  # a flag most rows pass


def live_fixed() -> list[Article]:
    return list(Article.objects.filter(author_id=3, is_removed=False))


def either_subquery_broken() -> list[Article]:
    by_one = Article.objects.filter(author_id=1).values("pk")
    by_two = Article.objects.filter(author_id=2).values("pk")
    return list(Article.objects.filter(Q(pk__in=by_one) | Q(pk__in=by_two)))


def either_subquery_fixed() -> list[Article]:
    by_one = Article.objects.filter(author_id=1).values("pk")
    by_two = Article.objects.filter(author_id=2).values("pk")
    return list(Article.objects.filter(pk__in=by_one).union(Article.objects.filter(pk__in=by_two)))


def either_title_broken() -> list[Article]:
    return list(Article.objects.filter(Q(title="title 1") | Q(title="title 2")))


def either_title_fixed() -> list[Article]:
    return list(Article.objects.filter(Q(author_id=1) | Q(author_id=2)))


def evaluate(queryset: QuerySet[Article]) -> list[Article]:
    """A library function that runs the QuerySet it is handed."""
    return list(queryset)


def titled(title: str) -> list[Article]:
    return list(Article.objects.filter(title=title))  # the application's own filter


def narrowed(queryset: QuerySet[Article], title: str) -> list[Article]:
    return list(queryset.filter(title=title))  # the application adds the filter
