"""MariaDB's plan side against ``EXPLAIN FORMAT=JSON`` (and ``ANALYZE FORMAT=JSON``)
output captured from MariaDB 10.11.19 (``tests/plans/mariadb/``: each case's JSON and the
statement; ``forced/``: the forced-mode experiments, a statement with and without
``FORCE INDEX``), and the forced-mode statement rewriter. No Django, no server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_queryplan.core.plan.tree import Plan
from pytest_queryplan.dialects.mariadb import MARIADB
from pytest_queryplan.dialects.mariadb import plan as mariadb_plan
from pytest_queryplan.dialects.mariadb.hints import force_indexes, references
from pytest_queryplan.dialects.postgresql.conditions import service
from pytest_queryplan.errors import QueryPlanUsageError

CAPTURED = Path(__file__).resolve().parents[1] / "plans" / "mariadb"
CASES = sorted(p.stem for p in CAPTURED.glob("*.json"))
FORCED = sorted(p.stem for p in (CAPTURED / "forced").glob("*.json"))


def load_case(case):
    """(the JSON cell, the statement without its EXPLAIN prefix)."""
    raw = json.loads((CAPTURED / f"{case}.json").read_text())
    sql = (CAPTURED / f"{case}.sql").read_text().splitlines()[0]
    for prefix in ("EXPLAIN FORMAT=JSON ", "ANALYZE FORMAT=JSON "):
        sql = sql.removeprefix(prefix)
    if " FOR EXPLAIN FORMAT=JSON " in sql:
        sql = sql.split(" FOR EXPLAIN FORMAT=JSON ", 1)[1]
    return raw, sql


def parse_plan(normalised):
    return Plan(normalised)


def plan_of(case):
    raw, sql = load_case(case)
    return MARIADB.parse(json.dumps(raw), sql)


def filtered_full_reads(plan):
    return MARIADB.filtered_full_reads(plan, ())


def walked_index(node):
    return MARIADB.walked_index(node)


def only(plan, node_type):
    found = plan.find(node_type=node_type)
    assert len(found) == 1, [n.label for n in plan.nodes()]
    return found[0]


@pytest.mark.parametrize("case", CASES)
def test_every_capture_normalises(case):
    plan = plan_of(case)
    for node in plan.nodes():
        assert isinstance(node.node_type, str)
        for key in ("Filter", "Index Cond"):
            text = node.raw.get(key)
            assert text is None or ("`" not in text and " and " not in text), text


@pytest.mark.parametrize("case", FORCED)
def test_every_forced_capture_normalises(case):
    raw = json.loads((CAPTURED / "forced" / f"{case}.json").read_text())
    sql = (CAPTURED / "forced" / f"{case}.sql").read_text()
    sql = sql.split("EXPLAIN FORMAT=JSON ", 1)[1]
    parse_plan(mariadb_plan.normalise(raw, sql))


def test_str_bytes_and_dict_inputs_agree():
    raw, sql = load_case("join")
    text = json.dumps(raw)
    assert (
        mariadb_plan.normalise(text, sql)
        == mariadb_plan.normalise(raw, sql)
        == mariadb_plan.normalise(text.encode(), sql)
    )


def test_composite_equality_is_served():
    node = only(plan_of("eq_composite"), "Index Scan")
    assert node.index_name == "member_cust_role_idx"
    assert node.index_cond == "(customer_id = ?) AND (djapp_member.role = 'admin')"
    assert node.filter is None  # the pushed-down role = 'admin' is a searched key part
    assert service(node, ["customer_id", "role"]).serves
    assert node.raw["Access Type"] == "ref" and node.raw["Ref"] == ["const", "const"]
    assert node.raw["Used Key Parts"] == ["customer_id", "role"]
    assert node.raw["MariaDB"]["key_length"] == "70"


def test_const_primary_key():
    node = only(plan_of("pk_const"), "Index Scan")
    assert (node.index_name, node.index_cond) == ("PRIMARY", "id = ?")


def test_second_key_only_is_a_filtered_full_read():
    plan = plan_of("second_key_only")
    node = only(plan, "Seq Scan")
    assert node.filter == "djapp_member.role = 'admin'"
    assert filtered_full_reads(plan) == [node]


@pytest.mark.parametrize(
    "case, index",
    [("upper_on_key", "member_admin_idx"), ("upper_composite_forced", "member_cust_role_idx")],
)
def test_function_on_key_column(case, index):
    node = only(plan_of(case), "Index Scan")
    assert node.index_name == index and node.index_cond == "customer_id = ?"
    assert node.filter == "ucase(djapp_member.role) = 'ADMIN'"
    if index == "member_cust_role_idx":  # pushed down to the index, still a row-by-row check
        judged = service(node, ["customer_id", "role"])
        assert not judged.serves
        assert [(c.column, c.kind, c.detail) for c in judged.causes] == [
            ("role", "function", "ucase")
        ]
    else:
        assert service(node, ["customer_id"]).serves


def test_like_suffix_and_prefix():
    plan = plan_of("like_suffix")
    assert only(plan, "Seq Scan").filter == "djapp_member.email ~~ '%7@example.com'"
    node = only(plan_of("like_prefix_forced"), "Index Scan")
    assert node.index_cond == "djapp_member.email ~~ 'user1%'" and node.filter is None
    assert service(node, ["email"]).serves


def test_range():
    node = only(plan_of("range"), "Index Scan")
    assert node.index_cond == "djapp_member.customer_id BETWEEN 3 AND 5"
    node = only(plan_of("range_two_keys"), "Index Scan")
    assert node.index_cond == "(djapp_member.customer_id = 3) AND (djapp_member.role > 'b')"


def test_ne_on_second_key_searched_by_range():
    node = only(plan_of("ne_on_second_key"), "Index Scan")
    assert node.filter is None and "<>" in node.index_cond


def test_order_by_limit_filesort_vs_forced_index():
    plan = plan_of("order_limit_index")
    assert [n.node_type for n in plan.nodes()] == ["Limit", "Sort", "Seq Scan"]
    assert plan.find(node_type="Sort")[0].raw["Sort Key"] == ["djapp_member.created desc"]
    assert filtered_full_reads(plan) == []
    plan = plan_of("order_limit_forced")
    node = only(plan, "Index Scan")
    assert walked_index(node) == "member_created_desc_idx"
    judged = service(node, ["created"])
    assert judged.ordered_limit and judged.serves


def test_count_with_and_without_index():
    node = only(plan_of("count_index"), "Index Only Scan")
    assert node.index_cond == "customer_id = ?"
    node = only(plan_of("count_all"), "Index Only Scan")
    assert (
        walked_index(node) == "djapp_member_team_id_a86f6480_fk_djapp_team_id"
        and node.filter is None
    )


def test_full_index_scan_with_filter_is_a_full_read():
    plan = plan_of("full_index_scan")
    node = only(plan, "Index Only Scan")
    assert walked_index(node) == "member_cust_role_idx"
    assert filtered_full_reads(plan) == [node]


def test_join_resolves_aliases():
    plan = plan_of("join")
    assert plan.root.node_type == "Nested Loop"
    outer, inner = plan.root.children
    assert (outer.alias, outer.relation_name, outer.index_cond) == (
        "t",
        "djapp_team",
        "t.name = 'team3'",
    )
    assert (inner.alias, inner.relation_name, inner.index_cond) == (
        "m",
        "djapp_member",
        "team_id = t.id",
    )
    assert inner.raw["Ref"] == [inner.raw["Ref"][0]] and inner.raw["Ref"][0].endswith(".t.id")


def test_django_aliases():
    plan = plan_of("dj_self_join_alias")
    t3 = [n for n in plan.nodes() if n.alias == "T3"][0]
    assert t3.relation_name == "djapp_member" and t3.filter == "T3.role = 'admin'"
    u0 = [n for n in plan_of("dj_subquery_alias").nodes() if n.alias == "U0"][0]
    assert u0.relation_name == "djapp_team"


def test_left_join_trigcond_unwrapped():
    inner = plan_of("left_join").root.children[1]
    assert inner.filter == "m.role = 'admin'"


def test_block_nested_loop():
    plan = plan_of("bnl_join")
    assert plan.root.raw["Join Filter"] == "m2.score = m.score"
    assert plan.root.raw["Join Buffer"]["join_type"] == "BNL"
    assert filtered_full_reads(plan) == []  # PostgreSQL too: a Join Filter is no scan Filter


def test_index_merge_is_a_bitmap_or():
    plan = plan_of("index_merge")
    assert [n.node_type for n in plan.nodes()] == [
        "Bitmap Heap Scan",
        "BitmapOr",
        "Bitmap Index Scan",
        "Bitmap Index Scan",
    ]
    assert plan.index_names == {"member_admin_idx", "member_email_idx"}
    assert plan.root.filter is None and plan.root.recheck_cond is not None
    assert [n.index_cond for n in plan.find(node_type="Bitmap Index Scan")] == [
        "(djapp_member.customer_id = 3)",
        "(djapp_member.email = 'user5@example.com')",
    ]


def test_union_and_union_all():
    plan = plan_of("union")
    assert [n.node_type for n in plan.nodes()][:2] == ["Unique", "Append"]
    plan = plan_of("union_all")
    assert plan.root.node_type == "Append"
    assert [n.node_type for n in plan.root.children] == ["Index Only Scan", "Seq Scan"]


def test_subqueries():
    plan = plan_of("subquery_correlated")
    sub = plan.root.children[0]
    assert (sub.parent_relationship, sub.subplan_name) == ("SubPlan", "SubPlan 2")
    assert sub.raw["Expression Cache"] == {"state": "uninitialized"}
    plan = plan_of("subquery_in_nosemijoin")
    assert plan.root.filter == "in_optimizer(djapp_member.team_id, EXISTS (SubPlan 3))"
    assert plan.root.children[0].parent_relationship == "SubPlan"


def test_semijoin_and_derived_materialisation():
    plan = plan_of("semijoin_weedout")
    sub = plan.find(node_type="Subquery Scan")[0]
    assert sub.alias == "<subquery2>" and sub.relation_name is None and sub.index_name is None
    assert plan.tables == {"djapp_team", "djapp_member"}
    assert filtered_full_reads(plan)[0].alias == "m"
    plan = plan_of("derived")
    assert plan.root.node_type == "Subquery Scan" and plan.root.filter == "x.n > 5"


def test_temporary_table_and_filesort():
    plan = plan_of("group_by_temp")
    assert [n.node_type for n in plan.nodes()] == ["Sort", "Materialize", "Index Only Scan"]
    assert plan.find(node_type="Materialize")[0].raw["Temporary Table"] is True


def test_messages():
    assert plan_of("impossible_where").root.raw["One-Time Filter"] == "false"
    assert plan_of("no_table").root.raw["Message"] == "No tables used"


def test_writes():
    plan = plan_of("update")
    assert plan.root.label == "Update on djapp_member"
    assert plan.root.children[0].index_cond == "djapp_member.customer_id = 7"
    plan = plan_of("update_full")
    assert filtered_full_reads(plan)[0].index_name == "PRIMARY"
    plan = plan_of("insert")
    assert plan.root.label == "Insert on djapp_team" and plan.tables == frozenset()
    plan = plan_of("insert_select")
    assert plan.root.label == "Insert on djapp_team" and plan.tables == {"djapp_member"}


def test_analyze_fields():
    raw, sql = load_case("eq_composite.analyze")
    top = mariadb_plan.normalise(raw, sql)
    assert top["Planning Time"] > 0 and top["Execution Time"] > 0
    assert top["Plan"]["Actual Rows"] == 2 and top["Plan"]["Actual Loops"] == 1
    plan = plan_of("order_limit_index.analyze")
    assert plan.find(node_type="Sort")[0].raw["MariaDB r_limit"] == 10


def test_plan_rows_is_rows_times_filtered():
    node = only(plan_of("range_two_keys"), "Index Scan")
    assert node.plan_rows == pytest.approx(6 * 1.5 / 100)


def test_aliases_without_sql():
    raw, _ = load_case("join")
    plan = parse_plan(mariadb_plan.normalise(raw))
    assert {n.relation_name for n in plan.nodes() if n.relation_name} == {"t", "m"}
    plan = parse_plan(mariadb_plan.normalise(raw, aliases={"t": "djapp_team", "m": "djapp_member"}))
    assert plan.tables == {"djapp_team", "djapp_member"}


# -- the dialect's words and forced mode -------------------------------------------------
def test_forbid_takes_mariadbs_words_and_refuses_others():
    MARIADB.check_node_types(["ALL", "index", "filesort", "temporary_table"])
    with pytest.raises(QueryPlanUsageError, match="'Sort' is not a word MariaDB's plans use"):
        MARIADB.check_node_types(["Sort"])
    with pytest.raises(QueryPlanUsageError, match="Did you mean 'filesort'"):
        MARIADB.check_node_types(["filesrot"])


def test_forbidden_words_match_their_nodes():
    plan = plan_of("order_filesort")
    assert MARIADB.matches_type(plan.find(node_type="Sort")[0], "filesort")
    assert MARIADB.matches_type(plan.find(node_type="Seq Scan")[0], "ALL")
    assert not MARIADB.matches_type(plan.find(node_type="Seq Scan")[0], "index")


def test_the_plan_says_mariadbs_own_words():
    node = only(plan_of("eq_composite"), "Index Scan")
    assert node.raw["Source"] == "ref member_cust_role_idx (customer_id, role)"
    assert "[ref member_cust_role_idx (customer_id, role)]" in plan_of("eq_composite").render()


def test_generic_mode_is_a_usage_error_naming_mariadb():
    from pytest_queryplan.core.checks.modes import Mode

    with pytest.raises(QueryPlanUsageError, match="mode 'generic' does not exist on MariaDB"):
        MARIADB.check_mode(Mode.GENERIC)


INDEXES = {"djapp_member": ["PRIMARY", "member_cust_role_idx"], "djapp_team": ["PRIMARY"]}


@pytest.mark.parametrize(
    "sql, forced",
    [
        (
            "SELECT `djapp_member`.`id` FROM `djapp_member` WHERE `djapp_member`.`role` = %s",
            "SELECT `djapp_member`.`id` FROM `djapp_member` FORCE INDEX (`PRIMARY`, "
            "`member_cust_role_idx`) WHERE `djapp_member`.`role` = %s",
        ),
        (
            "SELECT m.id FROM djapp_member m JOIN djapp_team AS t ON t.id = m.team_id",
            "SELECT m.id FROM djapp_member m FORCE INDEX (`PRIMARY`, `member_cust_role_idx`) "
            "JOIN djapp_team AS t FORCE INDEX (`PRIMARY`) ON t.id = m.team_id",
        ),
        (
            "UPDATE djapp_member SET role = 'x' WHERE customer_id = 3",
            "UPDATE djapp_member FORCE INDEX (`PRIMARY`, `member_cust_role_idx`) SET role = 'x' "
            "WHERE customer_id = 3",
        ),
        (  # a single-table DELETE takes no hint; its subquery does
            "DELETE FROM djapp_member WHERE team_id IN (SELECT U0.id FROM djapp_team U0)",
            "DELETE FROM djapp_member WHERE team_id IN (SELECT U0.id FROM djapp_team U0 FORCE "
            "INDEX (`PRIMARY`))",
        ),
        (  # the user's own hint stays alone; a derived table has no indexes to list
            "SELECT * FROM djapp_member USE INDEX (PRIMARY), (SELECT 1) x",
            "SELECT * FROM djapp_member USE INDEX (PRIMARY), (SELECT 1) x",
        ),
        (  # a string that looks like a table reference is not one
            "SELECT 'FROM djapp_team' FROM djapp_team",
            "SELECT 'FROM djapp_team' FROM djapp_team FORCE INDEX (`PRIMARY`)",
        ),
    ],
)
def test_forced_mode_hints_every_table_reference(sql, forced):
    assert force_indexes(sql, INDEXES) == forced


def test_a_competitor_set_aside_is_left_out_of_the_list_or_ignored():
    sql = "SELECT * FROM djapp_member WHERE customer_id = 3"
    assert force_indexes(sql, INDEXES, hide={"member_cust_role_idx"}) == (
        "SELECT * FROM djapp_member FORCE INDEX (`PRIMARY`) WHERE customer_id = 3"
    )
    only_one = {"djapp_member": ["member_cust_role_idx"]}
    assert force_indexes(sql, only_one, hide={"member_cust_role_idx"}) == (
        "SELECT * FROM djapp_member IGNORE INDEX (`member_cust_role_idx`) WHERE customer_id = 3"
    )
    assert [table for table, _ in references(sql)] == ["djapp_member"]


def test_an_update_through_a_buffer_reads_its_key():
    """Captured from MariaDB 10.11.19: an UPDATE of a column of the index it reads by."""
    raw = {
        "query_block": {
            "select_id": 1,
            "buffer": {
                "table": {
                    "update": 1,
                    "table_name": "memberapp_member",
                    "access_type": "range",
                    "possible_keys": ["member_cust_role_idx"],
                    "key": "member_cust_role_idx",
                    "key_length": "4",
                    "used_key_parts": ["customer_id"],
                    "rows": 1,
                    "attached_condition": "memberapp_member.customer_id = 3",
                }
            },
        }
    }
    sql = "UPDATE memberapp_member SET role = 'x' WHERE customer_id = 3"
    plan = MARIADB.parse(json.dumps(raw), sql)
    assert [n.label for n in plan.nodes()] == [
        "Update on memberapp_member",
        "Index Scan using member_cust_role_idx on memberapp_member",
    ]
    assert plan.root.children[0].index_cond == "memberapp_member.customer_id = 3"


class _MySQLConnection:
    """What the backend asks a Django mysql connection, as a MySQL 8 server answers it."""

    alias = "default"
    mysql_is_mariadb = False
    mysql_version = (8, 4, 3)
    connection = None

    def ensure_connection(self) -> None:
        pass


def test_a_mysql_server_is_refused_naming_what_is_supported():
    from pytest_queryplan.core.checks.modes import Mode
    from pytest_queryplan.dialects.mariadb.backend import MariaDBBackend

    backend = MariaDBBackend(_MySQLConnection())
    with pytest.raises(QueryPlanUsageError) as error:
        backend.explain("SELECT 1", None, mode=Mode.FORCED)
    assert str(error.value) == (
        "Database alias 'default' is MySQL 8.4.3; pytest-queryplan reads MariaDB's plans "
        "through Django's mysql backend, and MySQL's EXPLAIN FORMAT=JSON is another format. "
        "It supports MariaDB, PostgreSQL and SQLite."
    )
