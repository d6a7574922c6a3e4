"""Row-by-row writes are an N+1 finding of their own (``row-by-row-write``), with the bulk
fix: each loop in ``row_writes.py`` fails on the real server next to its bulk twin, which
passes.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO_ROOT, write_ini

INNER = """
import pytest

from tests import row_writes

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    row_writes.insert_fixed(6)  # in a fixture: the check watches the test body only


def test_insert_broken():
    row_writes.insert_broken(6)


def test_insert_fixed():
    row_writes.insert_fixed(6)


def test_update_broken(books):
    row_writes.update_broken()


def test_update_fixed(books):
    row_writes.update_fixed()


def test_delete_broken(books):
    row_writes.delete_broken()


def test_delete_fixed(books):
    row_writes.delete_fixed()
"""

FIXES = {
    "insert": ("INSERT", "Model.objects.bulk_create(objects)"),
    "update": ("UPDATE", "Model.objects.bulk_update(objects, [fields])"),
    "delete": ("DELETE", "QuerySet.filter(...).delete()"),
}


def test_row_by_row_writes_fail_and_their_bulk_twins_pass(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(test_inner=INNER)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-nplusone=fail", "--queryplan-guard-scope=app", "--queryplan-report=r.json"
    )
    result.assert_outcomes(passed=3, failed=3)
    module = REPO_ROOT / "tests" / "row_writes.py"
    lines = module.read_text().splitlines()
    for name, (verb, fix) in FIXES.items():
        line = next(n for n, text in enumerate(lines, 1) if f"one {verb} per book" in text)
        result.stdout.fnmatch_lines(
            [
                f"*_ test_{name}_broken _*",
                f"*Row-by-row write (N+1): the same {verb} ran 6 times from "
                f"*row_writes.py:{line} in {name}_broken (the threshold is 5)*",
            ]
        )
        assert any("Fix: rows" in line and fix in line for line in result.outlines)
    report = json.loads((django_pytester.path / "r.json").read_text())
    found = {(f["kind"], f["table"], f["runs"]) for f in report["findings"]}
    # (Deleting a book one by one also deletes its orders one by one: Django's cascade.)
    assert found - {("row-by-row-write", "shop_order", 6)} == {("row-by-row-write", "shop_book", 6)}
    failed = {t.split("::")[1] for t in report["failed_tests"]} | {
        t.split("::")[1] for f in report["findings"] for t in f["tests"]
    }
    assert failed == {"test_insert_broken", "test_update_broken", "test_delete_broken"}
