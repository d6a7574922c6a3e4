"""Index suggestions for SQLite and MariaDB from a full read's Filter, as each database
writes them: the keys (equality first, then one range), the reasons none is made, an index
that already serves, and the SQL. Pure: a catalog stand-in, plans from captured rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.core.checks.names import NameRegistry
from pytest_queryplan.dialects import proposal
from pytest_queryplan.dialects.mariadb import MARIADB
from pytest_queryplan.dialects.sqlite import SQLITE

PLANS = Path(__file__).resolve().parents[1] / "plans"


class Catalog:
    """What a suggestion asks the database: the table's indexes and model field names."""

    def __init__(self, existing: list[IndexInfo] = ()) -> None:
        self.existing = list(existing)
        self.index_names = NameRegistry()

    def indexes_on(self, tables):
        return [info for info in self.existing if info.table in tables]

    def field_names(self, table):
        return {"customer_id": "customer", "role": "role", "score": "score"}


def sqlite_scan(sql: str, rows=((2, 0, 0, "SCAN djapp_member"),)):
    return SQLITE.parse({"rows": list(rows)}, sql).root


@pytest.mark.parametrize(
    "where, columns",
    [
        ("score > 5 AND customer_id = 3", ("customer_id", "score")),
        ("role IN ('a', 'b') AND customer_id = ?", ("role", "customer_id")),
        ('"djapp_member"."role" = %s', ("role",)),
        ("customer_id BETWEEN 1 AND 3 AND score < 2", ("customer_id",)),
    ],
)
def test_equality_keys_first_then_one_range(where, columns):
    node = sqlite_scan(f"SELECT * FROM djapp_member WHERE {where}")
    found = proposal.propose(node, Catalog(), SQLITE.writer)
    assert isinstance(found, proposal.IndexProposal)
    assert found.columns == columns
    assert found.sql.startswith('CREATE INDEX "member_') and found.sql.endswith(
        f'ON "djapp_member" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)})'
    )


@pytest.mark.parametrize(
    "where, reason",
    [
        ("score = 1 OR role = 'a'", "the condition is an OR"),
        ("UPPER(role) = 'A'", "it filters on an expression"),
        ("role <> 'a'", "an index cannot look up <>"),
        ("role LIKE 'ab%'", "the pattern match"),
        ("djapp_member.score = djapp_member.customer_id", "it compares columns of the same row"),
    ],
)
def test_no_index_for_what_no_index_searches(where, reason):
    node = sqlite_scan(f"SELECT * FROM djapp_member WHERE {where}")
    found = proposal.propose(node, Catalog(), SQLITE.writer)
    assert isinstance(found, proposal.NoProposal)
    assert found.reason.startswith(reason), found.reason
    assert found.render().startswith("No index suggested for djapp_member: ")


def test_a_like_prefix_is_searchable_on_mariadb_only():
    raw = json.loads((PLANS / "mariadb" / "like_prefix.json").read_text())
    sql = "SELECT * FROM djapp_member WHERE email LIKE 'user1%'"
    node = MARIADB.parse(raw, sql).find(node_type="Seq Scan")[0]
    found = proposal.propose(node, Catalog(), MARIADB.writer)
    assert isinstance(found, proposal.IndexProposal) and found.columns == ("email",)
    assert found.sql == (
        "CREATE INDEX `member_email_idx` ON `djapp_member` (`email`) ALGORITHM=INPLACE LOCK=NONE"
    )


def test_mariadbs_suggestion_says_it_was_not_tried():
    found = proposal.IndexProposal(
        "djapp_member",
        ("role",),
        ("role",),
        "member_role_idx",
        MARIADB.writer.create("member_role_idx", "djapp_member", ["role"]),
        "MariaDB",
        untried=MARIADB.writer.untried,
    )
    assert found.render().splitlines() == [
        "Suggestion (unverified: MariaDB commits the transaction on any DDL, so it was not "
        "created and tried here; check it with EXPLAIN against production data): an index "
        "on djapp_member (role):",
        '    models.Index(fields=["role"], name="member_role_idx")',
        "    CREATE INDEX `member_role_idx` ON `djapp_member` (`role`) ALGORITHM=INPLACE "
        "LOCK=NONE;",
    ]


def test_an_index_that_already_serves_is_named_not_suggested():
    existing = [IndexInfo("member_cust_role_idx", "djapp_member", "", ("customer_id", "role"))]
    node = sqlite_scan("SELECT * FROM djapp_member WHERE role = 'a' AND customer_id = 3")
    found = proposal.propose(node, Catalog(existing), SQLITE.writer)
    assert isinstance(found, proposal.NoProposal)
    assert found.already == "member_cust_role_idx"
    cover = proposal.existing_cover(node, Catalog(existing), SQLITE.writer)
    assert cover == "member_cust_role_idx (customer_id, role) serves that filter"
    node = sqlite_scan("SELECT * FROM djapp_member WHERE role = 'a'")
    assert proposal.existing_cover(node, Catalog(existing), SQLITE.writer) is None
