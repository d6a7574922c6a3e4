"""What makes a statement "known to parse" (``drivers/parsed.py``): the statement before
binding and the kinds of its values, never the values themselves, and no key at all for a
value whose literal the plugin cannot vouch for."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest

from pytest_queryplan.dialects.postgresql.drivers import parsed

SQL = "SELECT id FROM t WHERE a = %s AND b = ANY(%s)"


def test_other_values_of_the_same_kinds_share_a_key() -> None:
    assert parsed.key(SQL, [1, ["x", "y"]]) == parsed.key(SQL, (2, ["z"]))
    assert parsed.key(SQL, {"a": 1, "b": 2}) == parsed.key(SQL, {"b": 5, "a": 7})


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ([1, [1]], [1, []]),  # an empty container is a kind of its own: psycopg2 writes ()
        ([1, (1, 2)], [1, ()]),
        ([1, [1]], [1, [[1]]]),  # what a container holds counts too
        ([1, [1]], ["1", [1]]),
        ([None, [1]], [1, [1]]),
    ],
)
def test_values_of_other_kinds_make_another_key(one: list, other: list) -> None:
    assert parsed.key(SQL, one) != parsed.key(SQL, other)
    assert parsed.key(SQL, one) != parsed.key(SQL + " LIMIT 1", one)


class Raw:
    """A value some adapter could paste as SQL text (psycopg2's AsIs, say)."""


class Number(int):
    """An int subclass with an adapter of its own, perhaps."""


@pytest.mark.parametrize("value", [Raw(), Number(3), [Raw()], {"a": Raw()}])
def test_a_value_the_plugin_cannot_vouch_for_has_no_key(value: object) -> None:
    params = value if isinstance(value, dict) else [value]
    assert parsed.key(SQL, params) is None
    known = parsed.Parsed()
    known.learn([], [parsed.key(SQL, params)])
    assert not known.known([], [parsed.key(SQL, params)])


def test_the_drivers_own_wrappers_have_keys() -> None:
    numeric = pytest.importorskip("psycopg.types.numeric")
    json = pytest.importorskip("psycopg.types.json")
    assert parsed.key(SQL, [numeric.Int4(5), json.Jsonb({})]) is not None
    assert parsed.key(SQL, [numeric.Int4(5)]) != parsed.key(SQL, [5])


def test_everyday_values_have_keys() -> None:
    values = [
        True,
        1,
        1.5,
        "s",
        b"b",
        decimal.Decimal(1),
        datetime.date(2026, 1, 1),
        datetime.datetime(2026, 1, 1),
        datetime.time(1),
        datetime.timedelta(1),
        uuid.uuid4(),
        None,
    ]
    assert parsed.key(SQL, values) is not None


def test_known_means_every_statement_learnt() -> None:
    known = parsed.Parsed()
    explain = parsed.key("EXPLAIN " + SQL, [1, [2]])
    assert not known.known(["SET LOCAL enable_seqscan = off"], [explain])
    known.learn(["SET LOCAL enable_seqscan = off"], [explain])
    assert (
        known.known(["SET LOCAL enable_seqscan = off"], [parsed.key("EXPLAIN " + SQL, [3, []])])
        is False
    )
    assert known.known(["SET LOCAL enable_seqscan = off"], [parsed.key("EXPLAIN " + SQL, [3, [4]])])
    assert known.known([], [explain])
    assert not known.known(["SET LOCAL enable_sort = off"], [explain])
    known.forget()
    assert not known.known([], [explain])


def test_what_is_remembered_is_bounded() -> None:
    known = parsed.Parsed()
    for number in range(parsed.LIMIT + 10):
        known.learn([], [f"SELECT {number}"])
    assert len(known._known) <= parsed.LIMIT
    assert known.known([], [f"SELECT {parsed.LIMIT + 9}"])
