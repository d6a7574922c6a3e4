"""Statement and condition shapes, and the finding key built from them.

The SQL is what Django 5.2 writes for the shop models (captured with
``connection.execute_wrapper``) or the capture scripts' statements; the conditions come
from the EXPLAIN output stored under ``tests/plans/`` (captured from real servers).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_queryplan.core.plan.tree import parse_plan
from pytest_queryplan.core.report.shape import filter_shape, finding_key, sql_shape

PLANS_DIR = Path(__file__).resolve().parents[1] / "plans"

BOOK = (
    'SELECT "shop_book"."id", "shop_book"."title" FROM "shop_book" '
    'WHERE "shop_book"."id" = %s LIMIT 21'
)


@pytest.mark.parametrize(
    ("sql", "shape"),
    [
        (
            BOOK,
            'SELECT "shop_book"."id", "shop_book"."title" FROM "shop_book" '
            'WHERE "shop_book"."id" = ? LIMIT ?',
        ),
        (
            'SELECT "shop_book"."id" FROM "shop_book" WHERE "shop_book"."id" IN (%s, %s, %s)',
            'SELECT "shop_book"."id" FROM "shop_book" WHERE "shop_book"."id" IN (?)',
        ),
        (
            "SELECT * FROM t WHERE a = %(name)s AND b = $1 AND c = 12.5e3 AND d = -4 "
            "AND e = x - 5 AND f=-3",
            "SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ? AND e = x - ? AND f=?",
        ),
        (
            "SELECT 'it''s', E'a\\'b', $$x$$, $tag$ y $tag$, B'101', t1.c2 FROM t1 -- note\n"
            " /* block */ WHERE x = ANY(ARRAY[1, 2, 3]) AND y = ANY(%s)",
            "SELECT ?, ?, ?, ?, ?, t1.c2 FROM t1 WHERE x = ANY(ARRAY[?]) AND y = ANY(?)",
        ),
        (
            'INSERT INTO "t" ("a", "b") VALUES (%s, %s), (%s, %s), (%s, DEFAULT), '
            '(%s, DEFAULT) RETURNING "t"."id"',
            'INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, DEFAULT) RETURNING "t"."id"',
        ),
        (
            "SELECT x FROM t WHERE (a, b) IN ((%s, %s), (%s, %s)) AND y LIKE '%%x' AND z %% 2",
            "SELECT x FROM t WHERE (a, b) IN ((?, ?)) AND y LIKE '%%?' AND z %% ?",
        ),
        (
            'SELECT %s AS "a" FROM "shop_order"\n    WHERE "shop_order"."book_id" = %s LIMIT 1',
            'SELECT ? AS "a" FROM "shop_order" WHERE "shop_order"."book_id" = ? LIMIT ?',
        ),
        ('SELECT "Order1"."x2" FROM "Order1"', 'SELECT "Order1"."x2" FROM "Order1"'),
        ('SAVEPOINT "s140_x1"', 'SAVEPOINT "s140_x1"'),
    ],
)
def test_sql_shape(sql: str, shape: str) -> None:
    assert sql_shape(sql) == shape
    assert sql_shape(shape) == shape  # a shape is its own shape


def test_values_do_not_change_the_shape_and_structure_does() -> None:
    assert sql_shape("SELECT * FROM t WHERE id IN (1, 2)") == sql_shape(
        "SELECT * FROM t WHERE id IN (7, 8, 9, 10)"
    )
    assert sql_shape("SELECT * FROM t WHERE a = 'x'") != sql_shape("SELECT * FROM t WHERE b = 'x'")
    assert sql_shape("SELECT * FROM t WHERE a = 1") != sql_shape("SELECT * FROM t WHERE a > 1")


def test_a_long_list_collapses() -> None:
    sql = "SELECT * FROM t WHERE id IN (" + ", ".join(["%s"] * 4000) + ")"
    assert sql_shape(sql) == "SELECT * FROM t WHERE id IN (?)"


@pytest.mark.parametrize(
    ("condition", "shape"),
    [
        ("((name)::text = 'Acme'::text)", "((name)::text = ?::text)"),
        ("((status)::text <> ALL ('{open,lost}'::text[]))", "((status)::text <> ALL (?::text[]))"),
        ("(upper((status)::text) = 'X'') AND (STATUS'::text)", "(upper((status)::text) = ?::text)"),
        ("((created >= 100) AND (created <= 105))", "((created >= ?) AND (created <= ?))"),
        ('(("order")::numeric = 120.0)', '(("order")::numeric = ?)'),
        ("(amount = (InitPlan 2).col1)", "(amount = (InitPlan 2).col1)"),
        ("(amount = $1)", "(amount = ?)"),
        ("(NOT (hashed SubPlan 1))", "(NOT (hashed SubPlan 1))"),
        ("(customer_id = c.id)", "(customer_id = c.id)"),
    ],
)
def test_filter_shape(condition: str, shape: str) -> None:
    assert filter_shape(condition) == shape


def stored_conditions() -> set[str]:
    found = set()
    for path in PLANS_DIR.glob("pg*/*.json"):
        for node in parse_plan(json.loads(path.read_text())["explain"]).nodes():
            found |= {c for c in (node.filter, node.index_cond, node.recheck_cond) if c}
    return found


def test_no_value_survives_in_the_shape_of_a_stored_condition() -> None:
    conditions = stored_conditions()
    assert len(conditions) > 40
    for condition in conditions:
        # A LIKE pattern keeps its wildcards, every literal run of it a ?.
        shape = re.sub(r"'[%_?]*'", "", filter_shape(condition))
        assert "'" not in shape, condition
        # Digits only in names (col1, shop_book) and plan part numbers (InitPlan 2).
        unnumbered = re.sub(r"(InitPlan|SubPlan) \d+", "", shape)
        assert not re.search(r"(?<![\w.])\d", unnumbered), condition


@pytest.mark.parametrize(
    ("condition", "shape"),
    [
        # Issue 21: a match-all pattern (a search box left empty) is a finding of its own.
        ("((name)::text ~~ '%'::text)", "((name)::text ~~ '%'::text)"),
        ("((name)::text ~~ 'ab%'::text)", "((name)::text ~~ '?%'::text)"),
        ("((name)::text ~~* '%ab%'::text)", "((name)::text ~~* '%?%'::text)"),
        ("(upper((name)::text) !~~ '%X_Y%'::text)", "(upper((name)::text) !~~ '%?_?%'::text)"),
    ],
)
def test_a_like_pattern_keeps_its_wildcards(condition: str, shape: str) -> None:
    assert filter_shape(condition) == shape
    assert filter_shape(shape) == shape  # a shape is its own shape
    assert filter_shape("((name)::text ~~ 'zz%'::text)") == filter_shape(
        "((name)::text ~~ 'ab%'::text)"
    )


def test_stored_conditions_with_other_values_share_a_shape() -> None:
    conditions = stored_conditions()
    assert {"(region = 3)", "(region = 4)", "(customer_id = 3)", "(customer_id = 5)"} <= conditions
    assert filter_shape("(region = 3)") == filter_shape("(region = 4)")
    assert filter_shape("(customer_id = 3)") == filter_shape("(customer_id = 5)")
    assert filter_shape("(region = 3)") != filter_shape("(customer_id = 3)")


def test_the_finding_key_ignores_values_and_nothing_else() -> None:
    key = finding_key("filtered-full-read", "shop_book", BOOK, "(price = 5)")
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    assert key == finding_key(
        "filtered-full-read", "shop_book", BOOK.replace("%s", "42"), "(price = 17)"
    )
    assert key == finding_key("filtered-full-read", "shop_book", sql_shape(BOOK), "(price = ?)")
    assert (
        len(
            {
                key,
                finding_key("forbidden-node", "shop_book", BOOK, "(price = 5)"),
                finding_key("filtered-full-read", "shop_order", BOOK, "(price = 5)"),
                finding_key("filtered-full-read", "shop_book", BOOK + " OFFSET 2", "(price = 5)"),
                finding_key("filtered-full-read", "shop_book", BOOK, "(total = 5)"),
            }
        )
        == 5
    )
    # Pinned: SARIF fingerprints store it, so it must not change between runs or releases.
    assert finding_key("filtered-full-read", "t", "SELECT 1", "(a = 1)") == "c849ea47024a2c99"
