"""Unit tests of ``core/service.py`` and ``core/hints.py`` over plans from real servers.

Every plan, index key list and column type here was captured by
``tests/plans/service_capture.py`` from PostgreSQL 15 and 18 (``pg<major>/service_*.json``);
the expectations are written out by hand from the case's query and the rule. No database
is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_queryplan.core.checks.service import Service
from pytest_queryplan.core.plan.tree import Plan, parse_plan
from pytest_queryplan.dialects.postgresql.conditions import conjuncts, index_scans, service
from pytest_queryplan.dialects.postgresql.hints import service_hints
from pytest_queryplan.dialects.postgresql.vocabulary import filtered_full_reads
from tests.plans import service_capture

PLANS_DIR = Path(__file__).resolve().parents[1] / "plans"
VERSIONS = ("pg15", "pg18")


@dataclass(frozen=True)
class Expect:
    """What the scan of the case's index should come to; ``scans=0``: it is not in the plan."""

    serves: bool = True
    cond: tuple[str, ...] = ()
    filtered: tuple[str, ...] = ()
    causes: tuple[tuple[str, str, str], ...] = ()  # (column, kind, detail)
    full_walk: bool = False
    ordered_limit: bool = False
    scans: int = 1


FUNCTION_UPPER = Expect(False, ("customer_id",), ("status",), (("status", "function", "upper"),))
# One expectation per case, the same on both servers unless a version is named.
EXPECTED: dict[str, Expect | dict[str, Expect]] = {
    "iexact": FUNCTION_UPPER,
    "iexact_join": FUNCTION_UPPER,
    "iexact_join_verbose": FUNCTION_UPPER,
    "iexact_tricky_literal": FUNCTION_UPPER,
    "lower": Expect(False, ("customer_id",), ("status",), (("status", "function", "lower"),)),
    "exact": Expect(True, ("customer_id", "status")),
    "iexact_expression": Expect(True, ("upper(author::text)",)),
    "startswith": Expect(False, (), ("isbn",), (("isbn", "pattern", "~~"),), full_walk=True),
    "startswith_second_key": Expect(
        False, ("customer_id",), ("status",), (("status", "pattern", "~~"),)
    ),
    # The Filter rechecks the LIKE whose prefix range is the Index Cond: not a failure.
    "startswith_pattern_ops": Expect(True, ("sku",)),
    "cast": Expect(
        False, (), ('"order"',), (("order", "cast", "integer -> numeric"),), full_walk=True
    ),
    "cast_matching": Expect(True, ('"order"',)),
    # The rule: an Index Cond, and nothing on a key left to the Filter (see skips_leading_key).
    "leading_missing": Expect(True, ("status",)),
    "or_unindexed": Expect(scans=0),
    "or_indexed": Expect(True, ("isbn",)),
    "not_equal": Expect(False, ("customer_id",), ("status",), (("status", "operator", "<>"),)),
    "not_in": Expect(False, ("customer_id",), ("status",), (("status", "operator", "<> ALL"),)),
    # PostgreSQL 15 leaves = ANY on the second key to the Filter; 18 searches it.
    "in": {
        "pg15": Expect(False, ("customer_id",), ("status",), (("status", "other", "= ANY"),)),
        "pg18": Expect(True, ("customer_id", "status")),
    },
    "partial_not_implied": Expect(scans=0),
    "partial_implied": Expect(True, ("customer_id",)),
    "partial_whole": Expect(True, full_walk=True),
    "order_against": Expect(False, full_walk=True),
    "order_matching": Expect(True, full_walk=True, ordered_limit=True),
    "order_pinned": Expect(True, ("customer_id",)),
    # The rule counts the pkey walk under .first()'s LIMIT as served (price is no key of
    # it); filtered_full_reads is what reports it.
    "first_full_walk": Expect(True, full_walk=True, ordered_limit=True),
    "title_limit": Expect(True, full_walk=True, ordered_limit=True),
    "seq_scan": Expect(scans=0),
}

# Filtered full reads in each case's plan, as (node type, relation); empty for the rest.
FULL_READS = {
    "startswith": [("Index Only Scan", "shop_book")],
    "cast": [("Index Only Scan", "shop_book")],
    "or_unindexed": [("Seq Scan", "shop_book")],
    "first_full_walk": [("Index Scan", "shop_book")],
    "seq_scan": [("Seq Scan", "shop_book")],
}

CASES = [(version, case) for version in VERSIONS for case in EXPECTED]


def load(version: str, case: str) -> dict[str, Any]:
    return json.loads((PLANS_DIR / version / f"service_{case}.json").read_text())


def judge(record: dict[str, Any], typed: bool = True) -> list[Service]:
    """Every scan of the case's index, judged with the catalog facts stored beside it."""
    info = record["indexes"][record["index"]]
    plan = parse_plan(record["explain"])
    types = record["column_types"][info["table"]] if typed else None
    partial = info["predicate"] is not None
    return [
        service(node, info["columns"], partial=partial, column_types=types)
        for node in index_scans(plan, [record["index"]])
    ]


def hints_of(version: str, case: str) -> list[str]:
    record = load(version, case)
    (judged,) = judge(record)
    table = record["indexes"][record["index"]]["table"]
    return service_hints(judged, record["column_types"][table])


def test_fixtures_are_the_capture_table_on_both_servers() -> None:
    names = {case.name for case in service_capture.CASES}
    assert names == set(EXPECTED)
    for version in VERSIONS:
        stored = {
            path.stem.removeprefix("service_")
            for path in (PLANS_DIR / version).glob("service_*.json")
        }
        assert stored == names, version
        for name in names:
            assert load(version, name)["server_version"].startswith(version[2:])


@pytest.mark.parametrize(("version", "case"), CASES, ids=[f"{v}-{c}" for v, c in CASES])
def test_service(version: str, case: str) -> None:
    expected = EXPECTED[case]
    if isinstance(expected, dict):
        expected = expected[version]
    judged = judge(load(version, case))
    assert len(judged) == expected.scans
    for got in judged:
        assert got.serves is expected.serves
        assert got.keys_in_cond == expected.cond
        assert got.keys_in_filter == expected.filtered
        assert [(c.column, c.kind, c.detail) for c in got.causes] == list(expected.causes)
        assert got.full_walk is expected.full_walk
        assert got.ordered_limit is expected.ordered_limit


@pytest.mark.parametrize(("version", "case"), CASES, ids=[f"{v}-{c}" for v, c in CASES])
def test_filtered_full_reads(version: str, case: str) -> None:
    plan = parse_plan(load(version, case)["explain"])
    found = [(node.node_type, node.relation_name) for node in filtered_full_reads(plan)]
    assert found == FULL_READS.get(case, [])
    assert filtered_full_reads(plan, allow=["shop_book"]) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_cause_keeps_the_condition_as_explain_printed_it(version: str) -> None:
    (iexact,) = judge(load(version, "iexact"))
    assert [c.condition for c in iexact.causes] == ["upper((status)::text) = 'OPEN'::text"]
    # A value that looks like SQL stays inside its literal: one condition, not two.
    (tricky,) = judge(load(version, "iexact_tricky_literal"))
    assert [c.condition for c in tricky.causes] == [
        "upper((status)::text) = 'X'') AND (STATUS'::text"
    ]
    # VERBOSE qualifies the scan's own columns; they still count.
    (verbose,) = judge(load(version, "iexact_join_verbose"))
    assert verbose.filter == "(upper((shop_book.status)::text) = 'OPEN'::text)"
    assert verbose.keys_in_cond == ("customer_id",)


@pytest.mark.parametrize("version", VERSIONS)
def test_bitmap_scans_are_judged_with_their_heap_scan(version: str) -> None:
    (join,) = judge(load(version, "iexact_join"))
    assert join.node.node_type == "Bitmap Index Scan"
    assert join.heap is not None and join.heap.node_type == "Bitmap Heap Scan"
    assert join.filter == join.heap.filter == "(upper((status)::text) = 'OPEN'::text)"
    # Through a BitmapOr too; the Recheck Cond holds both sides and is not a Filter.
    (either,) = judge(load(version, "or_indexed"))
    assert either.heap is not None and either.heap.recheck_cond is not None
    assert either.node.parent is not None and either.node.parent.node_type == "BitmapOr"
    assert either.filter is None


@pytest.mark.parametrize("version", VERSIONS)
def test_leading_key_missing_is_flagged_but_served(version: str) -> None:
    (leading,) = judge(load(version, "leading_missing"))
    assert leading.skips_leading_key and leading.serves
    (exact,) = judge(load(version, "exact"))
    assert not exact.skips_leading_key


@pytest.mark.parametrize("version", VERSIONS)
def test_without_column_types(version: str) -> None:
    # The cast's source type is then unknown; varchar's ::text relabel is still no cast.
    (cast,) = judge(load(version, "cast"), typed=False)
    assert [(c.kind, c.detail) for c in cast.causes] == [("cast", "numeric")]
    (like,) = judge(load(version, "startswith"), typed=False)
    assert [(c.kind, c.detail) for c in like.causes] == [("pattern", "~~")]


@pytest.mark.parametrize("case", ["iexact_join", "iexact_join_verbose"])
@pytest.mark.parametrize("version", VERSIONS)
def test_only_the_scans_own_columns_count(version: str, case: str) -> None:
    # Real condition text, judged as if the index had other keys: "shop_book.id" in the
    # order scan's "book_id = shop_book.id" is the book's id, and "upper" is a function.
    plan = parse_plan(load(version, case)["explain"])
    (orders,) = [node for node in plan.nodes() if node.relation_name == "shop_order"]
    assert service(orders, ["book_id", "id"]).keys_in_cond == ("book_id",)
    (books,) = index_scans(plan, ["book_customer_status_idx"])
    assert service(books, ["upper", "status"]).keys_in_filter == ("status",)


def test_index_scans_takes_one_name_as_a_name() -> None:
    plan: Plan = parse_plan(load("pg18", "or_indexed")["explain"])
    assert [n.index_name for n in index_scans(plan, "book_isbn_idx")] == ["book_isbn_idx"]
    both = index_scans(plan, {"book_isbn_idx", "book_title_idx"})
    assert [n.index_name for n in both] == ["book_isbn_idx", "book_title_idx"]


@pytest.mark.parametrize("version", VERSIONS)
def test_conjuncts_split_top_level_ands_only(version: str) -> None:
    like = parse_plan(load(version, "startswith_pattern_ops")["explain"])
    (scan,) = index_scans(like, ["book_sku_like_idx"])
    assert conjuncts(scan.index_cond) == ["sku ~>=~ 'sku 0001'::text", "sku ~<~ 'sku 0002'::text"]
    either = parse_plan(load(version, "or_unindexed")["explain"])
    (seq,) = filtered_full_reads(either)
    assert conjuncts(seq.filter) == ["((isbn)::text = 'isbn 00042'::text) OR (price = 5)"]


@pytest.mark.parametrize("version", VERSIONS)
def test_hints(version: str) -> None:
    assert hints_of(version, "iexact") == [
        "status: upper() on the column, \"upper((status)::text) = 'OPEN'::text\", is checked"
        " row by row: the index holds status itself. Index the expression,"
        ' models.Index(Upper("status"), name="book_status_upper_idx"), or filter on the plain'
        " column."
    ]
    assert hints_of(version, "startswith") == [
        "isbn: LIKE (startswith) in \"(isbn)::text ~~ 'isbn 0001%'::text\" is checked row by"
        " row: a plain btree cannot search a LIKE prefix under the database's collation. Add"
        ' one with the pattern opclass, models.Index(fields=["isbn"],'
        ' name="book_isbn_like_idx", opclasses=["varchar_pattern_ops"]), which is what'
        ' db_index=True adds to a CharField as its "_like" index.',
        "no Index Cond: book_isbn_idx was read whole and every row filtered; reading an index"
        " whole pays only when it delivers the query's ORDER BY under a LIMIT (no Sort above"
        " it)",
    ]
    assert hints_of(version, "cast")[0] == (
        'order: the column (integer) is cast to numeric in "("order")::numeric = 120.0",'
        " so the index, which orders integer values, cannot be searched with it. Compare with"
        " a value of the column's type (integer), not a Decimal, Cast or Value of another."
    )
    assert hints_of(version, "not_in") == [
        'status: NOT IN (exclude(field__in=...)) in "(status)::text <> ALL'
        " ('{open,lost}'::text[])\" is checked row by row: a btree searches equality and"
        ' ranges, not "all but". Filter on the values wanted (=, __in, a range), or accept'
        " the row-by-row check."
    ]
    assert hints_of(version, "order_against") == [
        "no Index Cond: order_customer_created_idx was read whole; reading an index whole pays"
        " only when it delivers the query's ORDER BY under a LIMIT (no Sort above it)"
    ]


@pytest.mark.parametrize(("version", "case"), CASES, ids=[f"{v}-{c}" for v, c in CASES])
def test_a_served_scan_needs_no_hint(version: str, case: str) -> None:
    record = load(version, case)
    table = record["indexes"][record["index"]]["table"]
    for judged in judge(record):
        hints = service_hints(judged, record["column_types"][table])
        assert (hints == []) is judged.serves
