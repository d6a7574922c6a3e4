"""Repeated queries (N+1) and the Django fix named for them.

The SQL is what Django 5.2 runs for each access on the shop and upstream models (captured
with ``connection.execute_wrapper`` against PostgreSQL 18; the select lists are cut short
here, the WHERE clauses are Django's own).
"""

from __future__ import annotations

import pytest

from pytest_queryplan.core.report.callsite import CallSite
from pytest_queryplan.core.report.nplusone import THRESHOLD, Repeat, django_fix, repeats
from pytest_queryplan.core.report.shape import sql_shape

# order.book
FORWARD_FK = (
    'SELECT "shop_book"."id", "shop_book"."title" FROM "shop_book" '
    'WHERE "shop_book"."id" = %s LIMIT 21'
)
# book.orders.all()
REVERSE_FK = (
    'SELECT "shop_order"."id", "shop_order"."book_id" FROM "shop_order" '
    'WHERE "shop_order"."book_id" = %s'
)
# book.orders.count()
REVERSE_COUNT = 'SELECT COUNT(*) AS "__count" FROM "shop_order" WHERE "shop_order"."book_id" = %s'
# book.orders.exists()
REVERSE_EXISTS = 'SELECT %s AS "a" FROM "shop_order" WHERE "shop_order"."book_id" = %s LIMIT 1'
# user.profile
REVERSE_ONE_TO_ONE = (
    'SELECT "upstream_userprofile"."id", "upstream_userprofile"."user_id" '
    'FROM "upstream_userprofile" WHERE "upstream_userprofile"."user_id" = %s LIMIT 21'
)
# user.groups.all()
MANY_TO_MANY = (
    'SELECT "auth_group"."id", "auth_group"."name" FROM "auth_group" INNER JOIN '
    '"auth_user_groups" ON ("auth_group"."id" = "auth_user_groups"."group_id") '
    'WHERE "auth_user_groups"."user_id" = %s'
)
# order.save()
SAVE = (
    'UPDATE "shop_order" SET "book_id" = %s, "customer_id" = %s, "status" = %s, '
    '"total" = %s, "created" = %s WHERE "shop_order"."id" = %s'
)

LOOP = CallSite("shop/views.py", 30, "order_list")
OTHER = CallSite("shop/views.py", 44, "order_list")


def run(sql: str, site: CallSite | None, times: int) -> list[tuple[str, CallSite | None, str]]:
    # Django's SQL keeps its placeholders; raw SQL may carry values, which the shape drops.
    return [(sql_shape(sql), site, sql.replace("%s", str(n), 1)) for n in range(times)]


def test_the_same_shape_from_the_same_line_repeats() -> None:
    body = [
        *run(REVERSE_FK, OTHER, 1),
        *run(FORWARD_FK, LOOP, 6),
        *run(FORWARD_FK, OTHER, 4),  # the same statement from another line: its own count
        *run(REVERSE_FK, OTHER, 4),
        *run('SAVEPOINT "s1_x1"', LOOP, 9),
        *run('RELEASE SAVEPOINT "s1_x1"', LOOP, 9),
    ]
    # In the order each was first run, with the first run's SQL.
    assert repeats(body, threshold=5) == [
        Repeat(sql_shape(REVERSE_FK), REVERSE_FK.replace("%s", "0"), OTHER, 5),
        Repeat(sql_shape(FORWARD_FK), FORWARD_FK.replace("%s", "0"), LOOP, 6),
    ]
    assert repeats(body, threshold=7) == []
    assert [r.count for r in repeats(body, threshold=4)] == [5, 6, 4]


def test_values_in_raw_sql_do_not_split_a_repeat() -> None:
    body = [(sql_shape(f"SELECT * FROM t WHERE id = {n}"), LOOP, "") for n in range(THRESHOLD)]
    assert [r.count for r in repeats(body)] == [THRESHOLD]


def test_a_threshold_below_two_means_two() -> None:
    assert repeats(run(FORWARD_FK, LOOP, 1), threshold=0) == []
    assert len(repeats(run(FORWARD_FK, LOOP, 2), threshold=0)) == 1


def test_queries_without_a_call_site_still_count_together() -> None:
    assert [r.call_site for r in repeats(run(FORWARD_FK, None, 5))] == [None]


@pytest.mark.parametrize(
    ("sql", "method", "sure", "says"),
    [
        (FORWARD_FK, "select_related", True, '"shop_book"."id"'),
        (REVERSE_FK, "prefetch_related", True, '"shop_order"."book_id"'),
        (MANY_TO_MANY, "prefetch_related", True, '"auth_user_groups"."user_id"'),
        (REVERSE_ONE_TO_ONE, "select_related", False, "reverse one-to-one"),
        (REVERSE_COUNT, "annotate", True, "Count("),
        (REVERSE_EXISTS, "annotate", True, "Exists("),
        (SAVE, "bulk_update", True, "bulk_update(objects, [fields])"),
        ('INSERT INTO "t" ("a") VALUES (%s)', "bulk_create", True, "bulk_create(objects)"),
        ('DELETE FROM "t" WHERE "t"."id" = %s', "delete", True, "QuerySet.filter(...).delete()"),
        ('SELECT "t"."id" FROM "t" WHERE "t"."slug" = %s LIMIT 21', None, False, "slug__in"),
        (
            'SELECT "t"."id" FROM "t" WHERE ("t"."a_id" = %s AND "t"."b" = %s)',
            None,
            False,
            "one query",
        ),
    ],
)
def test_the_fix_is_read_from_the_sql(sql: str, method: str | None, sure: bool, says: str) -> None:
    fix = django_fix(sql)
    assert (fix.method, fix.sure) == (method, sure)
    assert says in fix.text
    assert django_fix(sql_shape(sql)).method == method  # a shape reads the same


def test_the_whole_fix_text_for_a_forward_foreign_key() -> None:
    assert Repeat(sql_shape(FORWARD_FK), FORWARD_FK, LOOP, 6).fix.text == (
        'one "shop_book" row per query by "shop_book"."id": a foreign key or one-to-one '
        'followed in a loop. Add .select_related("<field>") to the query that loads the rows '
        "the loop walks (or in_bulk() for ids you hold)."
    )


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        (SAVE, "row-by-row-write"),
        ('INSERT INTO "t" ("a") VALUES (%s)', "row-by-row-write"),
        ('DELETE FROM "t" WHERE "t"."id" IN (%s)', "row-by-row-write"),
        (FORWARD_FK, "repeated-query"),
    ],
)
def test_a_write_once_per_row_is_its_own_kind(sql: str, kind: str) -> None:
    (repeat,) = repeats(run(sql, LOOP, THRESHOLD), THRESHOLD)
    assert repeat.kind == kind
