"""The findings baseline: its file, exact and diff-friendly; comparing; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_queryplan.core.report.baseline import (
    BaselineError,
    Entry,
    compare,
    dump,
    load,
    loads,
    updated,
    write,
)
from pytest_queryplan.errors import QueryPlanUsageError

SQL = 'SELECT "shop_book"."id" FROM "shop_book" WHERE "shop_book"."price" = %s'
A = Entry.of("tests/test_a.py::test_a", "filtered-full-read", "shop_book", SQL)
B = Entry.of("tests/test_b.py::test_b[é]", "repeated-query", "shop_order", "SELECT 1")
C = Entry.of("tests/test_c.py::test_c", "filtered-full-read", "shop_book", SQL)

FILE = (
    "{\n"
    '  "queryplan_baseline": 1,\n'
    '  "entries": [\n'
    '    {"test": "tests/test_a.py::test_a", "kind": "filtered-full-read", "table": "shop_book",'
    ' "sql": "SELECT \\"shop_book\\".\\"id\\" FROM \\"shop_book\\" WHERE \\"shop_book\\".'
    '\\"price\\" = ?"},\n'
    '    {"test": "tests/test_b.py::test_b[é]", "kind": "repeated-query", "table": "shop_order",'
    ' "sql": "SELECT ?"}\n'
    "  ]\n"
    "}\n"
)


def test_an_entry_keeps_the_shape_not_the_values() -> None:
    assert A.sql == 'SELECT "shop_book"."id" FROM "shop_book" WHERE "shop_book"."price" = ?'
    assert A == Entry.of(A.test, A.kind, A.table, SQL.replace("%s", "17"))


def test_the_file_is_sorted_one_entry_a_line() -> None:
    assert dump([B, A, B]) == FILE
    assert loads(FILE) == [A, B]
    assert dump([]) == '{\n  "queryplan_baseline": 1,\n  "entries": []\n}\n'
    assert loads(dump([])) == []


def test_write_and_load(tmp_path: Path) -> None:
    path = tmp_path / "queryplan-baseline.json"
    write(path, [A, B])
    assert path.read_text(encoding="utf-8") == FILE
    assert load(path) == [A, B]


def test_compare_splits_new_accepted_and_gone() -> None:
    found = [A, C, A]
    assert compare(found, [A, B]) == ([C], [A], [B])
    new, accepted, gone = compare([], [])
    assert (new, accepted, gone) == ([], [], [])


def test_an_entry_of_a_test_that_did_not_run_is_not_gone() -> None:
    assert compare([A], [A, B], tests_run={A.test}).gone == []
    assert compare([A], [A, B], tests_run={A.test, B.test}).gone == [B]


def test_updating_from_part_of_the_suite_keeps_the_rest() -> None:
    assert updated([C], [A, B], tests_run={A.test, C.test}) == [B, C]
    assert updated([C], [A, B]) == [C]


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    assert load(path, missing_ok=True) == []
    with pytest.raises(BaselineError) as raised:
        load(path)
    assert str(raised.value) == (
        f"queryplan baseline {path} does not exist; write it with --queryplan-baseline-update"
    )
    assert isinstance(raised.value, QueryPlanUsageError)


FIX = (
    "Fix it by hand, or rewrite the file from the current findings with --queryplan-baseline-update"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            FILE.replace('"kind": "repeated-query",', '"kind": "repeated-query"'),
            "line 5: not valid JSON (Expecting ',' delimiter)",
        ),
        ("[]", 'line 1: not a queryplan baseline ("queryplan_baseline": 1)'),
        (
            '{"queryplan_baseline": 2, "entries": []}',
            'line 1: not a queryplan baseline ("queryplan_baseline": 1)',
        ),
        ('{"queryplan_baseline": 1}', '"entries" must be a list'),
        (
            FILE.replace('"table": "shop_order",', ""),
            "line 5: entry 2 must have exactly the keys test, kind, table, sql",
        ),
        (
            FILE.replace('"table": "shop_order",', '"table": "shop_order", "note": "x",'),
            "line 5: entry 2 must have exactly the keys test, kind, table, sql",
        ),
        (
            FILE.replace('"table": "shop_book"', '"table": 3'),
            "line 4: entry 1: every value must be a non-empty text",
        ),
        (
            '{"queryplan_baseline": 1,\n"entries": [\n\n  {"test": "t", "kind": "k", "table": "",'
            ' "sql": "s"}]}',
            "line 4: entry 1: every value must be a non-empty text",
        ),
    ],
)
def test_a_malformed_file_names_the_file_the_line_and_the_fix(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BaselineError) as raised:
        load(path)
    where, _, rest = problem.partition(": ")
    if where.startswith("line"):
        expected = f"queryplan baseline {path}, {where}: {rest}. {FIX}"
    else:
        expected = f"queryplan baseline {path}: {problem}. {FIX}"
    assert str(raised.value) == expected


def test_the_file_is_json_any_tool_reads() -> None:
    data = json.loads(FILE)
    assert [entry["test"] for entry in data["entries"]] == [A.test, B.test]
