"""The checks and their texts, judged with no database: stored EXPLAIN output captured
from real PostgreSQL 15 and 18 servers (``tests/plans/*/service_*.json``), and a catalog
that answers from the facts stored beside each plan."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.core.checks.index import IndexUsed
from pytest_queryplan.core.checks.judge import judge
from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.checks.names import NameRegistry
from pytest_queryplan.core.checks.nodes import Forbidden, NoFilteredFullScan
from pytest_queryplan.core.checks.query import ExplainedQuery
from pytest_queryplan.core.checks.verdict import Kind, Verdict
from pytest_queryplan.core.plan.tree import Plan
from pytest_queryplan.core.text.failure import RENDERERS, render
from pytest_queryplan.dialects.postgresql import POSTGRESQL

PLANS_DIR = Path(__file__).resolve().parents[1] / "plans"
VERSIONS = ("pg15", "pg18")


class StoredCatalog:
    """The ``Catalog`` a check asks, answering from one stored capture. Natural mode never
    explains again; anything that would is a failure of the test."""

    dialect = POSTGRESQL

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.index_names = NameRegistry()

    def _info(self, name: str) -> IndexInfo:
        return IndexInfo.from_dict({"name": name, **self.record["indexes"][name]})

    def index_info(self, names: Iterable[str]) -> list[IndexInfo]:
        return [self._info(n) for n in sorted(set(names)) if n in self.record["indexes"]]

    def indexes_on(self, tables: Iterable[str]) -> list[IndexInfo]:
        wanted = set(tables)
        return [
            self._info(n) for n, i in sorted(self.record["indexes"].items()) if i["table"] in wanted
        ]

    def attached_indexes(self, name: str) -> frozenset[str]:
        return frozenset({name})

    def partitions(self, name: str) -> frozenset[str]:
        return frozenset()

    def partition_roots(self, names: Iterable[str]) -> dict[str, str]:
        return {}

    def column_types(self, table: str) -> dict[str, str]:
        return dict(self.record["column_types"].get(table, {}))

    def field_names(self, table: str) -> dict[str, str]:
        return {}

    def replan(
        self,
        query: ExplainedQuery,
        *,
        hide: Sequence[str] = (),
        create: Sequence[str] = (),
        settings: Sequence[str] = (),
    ) -> Plan:
        raise AssertionError("a unit test asked the database to explain again")


def stored(version: str, case: str) -> tuple[list[ExplainedQuery], StoredCatalog]:
    record = json.loads((PLANS_DIR / version / f"service_{case}.json").read_text())
    plan = POSTGRESQL.parse(record["explain"])
    query = ExplainedQuery(record["sql"], record["params"], plan=plan, mode=Mode.NATURAL)
    return [query], StoredCatalog(record)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_served_lookup_passes_with_the_scan_as_its_proof(version: str) -> None:
    queries, catalog = stored(version, "exact")
    verdict = judge(IndexUsed(catalog.record["index"]), queries, catalog)
    assert (verdict.passed, verdict.kind, verdict.dialect) == (True, Kind.INDEX_USED, POSTGRESQL)
    (proof,) = verdict.proof
    assert [mark.node.index_name for mark in proof.marks] == [catalog.record["index"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_key_left_to_the_filter_fails_and_names_the_key(version: str) -> None:
    queries, catalog = stored(version, "iexact")
    name = catalog.record["index"]
    verdict = judge(IndexUsed(name), queries, catalog)
    assert not verdict.passed
    text = render(verdict)
    assert f'"{name}"' in text and "status" in text
    assert "Hint:" in text
    # Not strict: the index appearing in the plan is enough.
    assert judge(IndexUsed(name, strict=False), queries, catalog).passed


@pytest.mark.parametrize("version", VERSIONS)
def test_a_missing_index_names_the_ones_that_exist(version: str) -> None:
    queries, catalog = stored(version, "exact")
    verdict = judge(IndexUsed("no_such_idx"), queries, catalog)
    assert (verdict.passed, verdict.kind) == (False, Kind.INDEX_MISSING)
    text = render(verdict)
    assert 'Index "no_such_idx" does not exist' in text
    assert catalog.record["index"] in text


@pytest.mark.parametrize("version", VERSIONS)
def test_a_filtered_sequential_read_is_a_finding(version: str) -> None:
    queries, catalog = stored(version, "seq_scan")
    verdict = judge(NoFilteredFullScan(suggest=False), queries, catalog)
    assert (verdict.passed, verdict.kind) == (False, Kind.FILTERED_FULL_READ)
    assert "Seq Scan on shop_book" in render(verdict)
    allowed = judge(NoFilteredFullScan(frozenset({"shop_book"}), suggest=False), queries, catalog)
    assert allowed.passed


@pytest.mark.parametrize("version", VERSIONS)
def test_forbidden_names_are_the_dialects_and_tables_must_be_read(version: str) -> None:
    queries, catalog = stored(version, "seq_scan")
    assert not judge(Forbidden(("Seq Scan",)), queries, catalog).passed
    assert judge(Forbidden(("Hash Join",)), queries, catalog).passed
    unread = judge(Forbidden(("Seq Scan",), ("no_such_table",)), queries, catalog)
    assert (unread.passed, unread.kind, unread.unread) == (
        False,
        Kind.UNKNOWN_TABLE,
        ("no_such_table",),
    )


def test_every_kind_a_check_can_fail_with_has_a_text() -> None:
    """A kind nothing renders is an error (the renderer has no catch-all): every failing
    kind is the core's to write, or the dialect's own (generic mode's)."""
    failing = set(Kind) - {Kind.INDEX_USED}
    dialects_own = {Kind.INDEX_LOST_WHEN_PREPARED}
    assert set(RENDERERS) == failing - dialects_own
    queries, catalog = stored("pg18", "exact")
    (info,) = catalog.index_info([catalog.record["index"]])
    for kind in dialects_own:
        lost = Verdict(IndexUsed(info.name), False, kind, index=info, dialect=POSTGRESQL)
        assert POSTGRESQL.special_text(lost, False) is not None
    for kind in RENDERERS:
        assert POSTGRESQL.special_text(Verdict(None, False, kind), False) is None


def test_a_verdict_without_its_dialect_says_so_instead_of_guessing() -> None:
    queries, catalog = stored("pg18", "iexact")
    verdict = IndexUsed(catalog.record["index"]).judge(queries, catalog)  # not via judge()
    assert "could not be built" in render(verdict)
