"""An N+1 read names the relation it follows (``Order.book``), where the body loaded the
owners, how often, and the exact fix; found from the SQL and Django's model meta. Each
loop in ``relation_reads.py`` fails on the real server next to its fix, which passes.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO_ROOT, write_ini

INNER = """
import pytest

from tests import relation_reads as reads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rows():
    reads.make_rows()  # in a fixture: the check watches the test body only


@pytest.mark.parametrize("twin", ["broken", "fixed"])
@pytest.mark.parametrize(
    "case", ["order_titles", "book_orders", "book_order_counts", "user_groups"]
)
def test_read(case, twin):
    getattr(reads, f"{case}_{twin}")()
"""

# case -> (relation line, fix), as the failure says them.
EXPECT = {
    "order_titles": (
        "Relation: Order.book (foreign key), read once per Order row, 6 times; the Order rows "
        "were loaded at {parents}.",
        'Fix: add .select_related("book") to the query that loads the Order rows.',
    ),
    "book_orders": (
        "Relation: Book.orders (reverse foreign key), read once per Book row, 6 times; the "
        "Book rows were loaded at {parents}.",
        'Fix: add .prefetch_related("orders") to the query that loads the Book rows.',
    ),
    "book_order_counts": (
        "Relation: Book.orders (reverse foreign key), read once per Book row, 6 times; the "
        "Book rows were loaded at {parents}.",
        'Fix: add .annotate(n=Count("orders")) to the query that loads the Book rows, *',
    ),
    "user_groups": (
        "Relation: User.groups (many-to-many), read once per User row, 6 times; the User rows "
        "were loaded at {parents}.",
        'Fix: add .prefetch_related("groups") to the query that loads the User rows.',
    ),
}


def test_an_nplusone_read_names_its_relation_and_fix(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(test_inner=INNER)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-nplusone=fail", "--queryplan-guard-scope=app"
    )
    result.assert_outcomes(passed=4, failed=4)
    module = REPO_ROOT / "tests" / "relation_reads.py"
    lines = module.read_text().splitlines()
    for case, (relation, fix) in EXPECT.items():
        start = next(n for n, text in enumerate(lines) if text.startswith(f"def {case}_broken("))
        line = next(n for n, text in enumerate(lines[start:], start + 1) if "PARENTS" in text)
        parents = f"*relation_reads.py:{line} in {case}_broken"
        result.stdout.fnmatch_lines(
            [
                f"*_ test_read[[]{case}-broken] _*",
                "*Repeated query (N+1): the same statement ran 6 times from *relation_reads.py:*",
                "*" + relation.format(parents=parents).replace("[", "[[]"),
                "*SQL (the first run):",
            ]
        )
        assert any(fix.rstrip("*").replace("*", "") in line for line in result.outlines), fix
    failed = [line for line in result.outlines if line.startswith("FAILED")]
    assert len(failed) == 4 and all("-broken]" in line for line in failed)
