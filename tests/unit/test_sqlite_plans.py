"""SQLite's plan side against ``EXPLAIN QUERY PLAN`` rows captured from SQLite 3.40.1
(``tests/plans/sqlite/``: each case's rows and the statement, with a Django schema of a
member table with a composite, a partial, a DESC, an expression and an email index), and
against plans taken now from the same schema in memory. No Django, no server.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.dialects.postgresql.conditions import service
from pytest_queryplan.dialects.sqlite import SQLITE
from pytest_queryplan.dialects.sqlite.plan import normalise
from pytest_queryplan.errors import QueryPlanUsageError

CAPTURED = Path(__file__).resolve().parents[1] / "plans" / "sqlite"
CASES = sorted(p.stem for p in CAPTURED.glob("*.json"))


def load_case(case):
    """(the EXPLAIN QUERY PLAN rows, the statement without its EXPLAIN prefix)."""
    rows = json.loads((CAPTURED / f"{case}.json").read_text())
    sql = (CAPTURED / f"{case}.sql").read_text().splitlines()[0]
    return rows, sql.removeprefix("EXPLAIN QUERY PLAN ")


def filtered_full_reads(plan):
    return SQLITE.filtered_full_reads(plan, ())


def walked_index(node):
    return SQLITE.walked_index(node)


def parse_plan(normalised):
    from pytest_queryplan.core.plan.tree import Plan

    return Plan(normalised)


def plan_of(case):
    rows, sql = load_case(case)
    return SQLITE.parse({"rows": rows}, sql)


def only(plan, node_type):
    found = plan.find(node_type=node_type)
    assert len(found) == 1, [n.label for n in plan.nodes()]
    return found[0]


@pytest.mark.parametrize("case", CASES)
def test_every_capture_normalises(case):
    plan = plan_of(case)
    for node in plan.nodes():
        assert isinstance(node.node_type, str)
        assert not any(k.startswith("_") for k in node.raw)


def test_full_scan_with_where_is_a_filtered_full_read():
    plan = plan_of("full_scan")
    node = only(plan, "Seq Scan")
    assert node.relation_name == "djapp_member" and node.filter == "score > 500"
    assert filtered_full_reads(plan) == [node]


def test_full_scan_without_where_has_no_filter():
    plan = plan_of("full_scan_nowhere")
    assert only(plan, "Seq Scan").filter is None
    assert filtered_full_reads(plan) == []


def test_second_key_only_is_a_full_read():
    plan = plan_of("second_key_only")
    assert filtered_full_reads(plan)[0].filter == "role = 'staff'"


def test_search_gives_index_cond_and_serves():
    plan = plan_of("eq_composite")
    node = only(plan, "Index Scan")
    assert node.index_name == "member_cust_role_idx"
    assert node.index_cond == "(customer_id=? AND role=?)"
    assert node.filter is None
    assert service(node, ["customer_id", "role"]).serves


def test_range_on_two_keys():
    node = only(plan_of("range_two_keys"), "Index Scan")
    assert node.index_cond == "(customer_id=? AND role>?)"


def test_covering_search_is_index_only_scan():
    node = only(plan_of("covering"), "Index Only Scan")
    assert node.index_cond == "(customer_id=?)"


def test_covering_walk_with_filter_is_a_full_read():
    plan = plan_of("covering_walk")
    node = only(plan, "Index Only Scan")
    assert walked_index(node) == "member_cust_role_idx"
    assert node.filter == "role = 'staff'"
    assert filtered_full_reads(plan) == [node]
    assert not service(node, ["customer_id", "role"]).serves


def test_integer_primary_key():
    node = only(plan_of("pk_rowid"), "Index Scan")
    assert node.index_name == "djapp_member rowid"
    assert node.index_cond == "(rowid=?)"
    assert node.filter is None  # the id = 5 condition is the rowid search


def test_temp_btree_order_by_is_a_sort_under_limit():
    plan = plan_of("order_filesort")
    assert [n.node_type for n in plan.nodes()] == ["Limit", "Sort", "Seq Scan"]


def test_ordered_index_walk_under_limit_serves():
    plan = plan_of("order_limit_index")
    assert [n.node_type for n in plan.nodes()] == ["Limit", "Index Scan"]
    node = plan.find(node_type="Index Scan")[0]
    assert walked_index(node) == "member_created_desc_idx"
    judged = service(node, ["created"])
    assert judged.full_walk and judged.ordered_limit and judged.serves


def test_partly_sorted_is_incremental_sort():
    assert plan_of("order_partly_sorted").root.node_type == "Incremental Sort"


def test_group_by_and_distinct():
    assert [n.node_type for n in plan_of("group_by_temp").nodes()] == [
        "Aggregate",
        "Sort",
        "Index Only Scan",
    ]
    assert plan_of("group_by_temp").root.label == "GroupAggregate"
    assert [n.node_type for n in plan_of("distinct").nodes()] == ["Unique", "Seq Scan"]


def test_multi_index_or_is_a_bitmap_or():
    plan = plan_of("multi_index_or")
    assert [n.node_type for n in plan.nodes()] == [
        "Bitmap Heap Scan",
        "BitmapOr",
        "Bitmap Index Scan",
        "Bitmap Index Scan",
    ]
    assert plan.index_names == {"member_cust_role_idx", "member_email_idx"}
    assert plan.root.filter is None  # the OR is what the two searches answer
    assert filtered_full_reads(plan) == []


def test_automatic_index_is_no_schema_index():
    plan = plan_of("automatic_index_join")
    inner = plan.root.children[1]
    assert inner.node_type == "Seq Scan" and inner.raw["Automatic Index"] is True
    assert inner.raw["Automatic Index Cond"] == "(score=?)"
    assert plan.index_names == frozenset()
    assert inner.filter is None  # the join condition is the automatic index's search


def test_correlated_subquery_is_a_subplan():
    plan = plan_of("subquery_correlated")
    sub = plan.root.children[0]
    assert sub.parent_relationship == "SubPlan" and sub.subplan_name == "SubPlan 1"
    assert sub.relation_name == "djapp_member" and sub.alias == "m"
    assert sub.filter == "m.role = 'admin'"
    assert service(sub, ["team_id"]).serves


def test_uncorrelated_scalar_subquery_is_an_initplan():
    plan = plan_of("subquery_scalar")
    init = plan.root.children[0]
    assert init.parent_relationship == "InitPlan" and init.node_type == "Limit"


def test_list_subquery():
    plan = plan_of("subquery_in_list")
    assert plan.root.node_type == "Seq Scan"
    sub = plan.root.children[0]
    assert sub.subplan_name == "SubPlan 1" and sub.filter == "name ~~ 'team1%'"


def test_union_and_union_all():
    plan = plan_of("union")
    assert [n.node_type for n in plan.nodes()][:2] == ["Unique", "Append"]
    plan = plan_of("union_all")
    scans = [n for n in plan.nodes() if n.relation_name]
    assert [(n.node_type, n.filter) for n in scans] == [
        ("Index Only Scan", None),
        ("Seq Scan", "score > 995"),
    ]


def test_merge_union_with_order_by():
    plan = plan_of("union_order")
    assert [n.node_type for n in plan.nodes()][:3] == ["Limit", "Unique", "Merge Append"]


def test_intersect():
    assert plan_of("intersect").root.label == "HashSetOp Intersect"


def test_partial_index_forced():
    node = only(plan_of("partial_index_indexed_by"), "Index Scan")
    assert node.index_name == "member_admin_idx" and node.filter == "role = 'admin'"
    assert service(node, ["customer_id"], partial=True).serves


def test_expression_index():
    node = only(plan_of("upper_only_expr_index"), "Index Scan")
    assert node.index_cond == "(<expr>=?)" and node.filter is None


def test_function_on_key_column_is_left_to_filter():
    rows = [(3, 0, 0, "SEARCH djapp_member USING INDEX member_cust_role_idx (customer_id=?)")]
    sql = "SELECT * FROM djapp_member WHERE customer_id = 7 AND UPPER(role) = 'X'"
    node = parse_plan(normalise(rows, sql)).root
    assert node.filter == "UPPER(role) = 'X'"
    judged = service(node, ["customer_id", "role"])
    assert not judged.serves
    assert [(c.column, c.kind, c.detail) for c in judged.causes] == [("role", "function", "upper")]


def test_django_aliases_map_to_tables():
    plan = plan_of("dj_subquery_alias")
    sub = plan.root.children[0]
    assert (sub.alias, sub.relation_name) == ("U0", "djapp_team")
    assert sub.filter == "U0.name ~~ ?"  # LIKE %s ESCAPE '\' with the ESCAPE dropped
    plan = plan_of("dj_self_join_alias")
    t3 = [n for n in plan.nodes() if n.alias == "T3"][0]
    assert t3.relation_name == "djapp_member" and t3.filter == "T3.role = ?"


def test_left_join():
    plan = plan_of("left_join")
    assert plan.root.label == "Nested Loop Left Join"
    assert plan.root.children[1].filter == "m.role = 'admin'"


def test_min_max_reads_one_entry():
    plan = plan_of("min_max")
    assert [n.node_type for n in plan.nodes()] == ["Limit", "Index Only Scan"]
    assert service(plan.root.children[0], ["created"]).serves


def test_derived_and_cte():
    plan = plan_of("derived")
    assert plan.root.node_type == "Subquery Scan" and plan.root.relation_name is None
    assert plan.tables == {"djapp_member"}
    plan = plan_of("cte")
    assert "Materialize" in [n.node_type for n in plan.nodes()]


def test_writes_get_a_modify_table():
    plan = plan_of("update")
    assert plan.root.label == "Update on djapp_member"
    assert plan.root.children[0].index_name == "member_cust_role_idx"


def test_constant_row():
    assert plan_of("no_table").root.node_type == "Result"


def test_without_sql_no_filter_and_alias_as_table():
    rows, _ = load_case("join")
    plan = parse_plan(normalise(rows))
    assert {n.relation_name for n in plan.nodes() if n.relation_name} == {"t", "m"}
    assert all(n.filter is None for n in plan.nodes())


def test_explicit_filters_and_aliases():
    rows, _ = load_case("full_scan")
    plan = parse_plan(normalise(rows, filters={"djapp_member": "(score > $1)"}))
    assert plan.root.filter == "(score > $1)"


# -- the dialect's words -------------------------------------------------------------
def test_forbid_takes_sqlites_words_and_refuses_others():
    SQLITE.check_node_types(["SCAN", "TEMP B-TREE FOR ORDER BY", "AUTOMATIC INDEX"])
    with pytest.raises(QueryPlanUsageError, match="'Seq Scan' is not a word SQLite's plans use"):
        SQLITE.check_node_types(["Seq Scan"])
    with pytest.raises(QueryPlanUsageError, match="Did you mean 'SCAN'"):
        SQLITE.check_node_types(["SCNA"])


def test_forbidden_words_match_their_nodes():
    plan = plan_of("order_filesort")
    sort = plan.find(node_type="Sort")[0]
    assert SQLITE.matches_type(sort, "TEMP B-TREE FOR ORDER BY")
    assert SQLITE.matches_type(plan.find(node_type="Seq Scan")[0], "SCAN")
    assert not SQLITE.matches_type(sort, "SCAN")


def test_generic_mode_is_a_usage_error_naming_sqlite():
    from pytest_queryplan.core.checks.modes import Mode

    SQLITE.check_mode(Mode.FORCED)
    with pytest.raises(QueryPlanUsageError, match="mode 'generic' does not exist on SQLite"):
        SQLITE.check_mode(Mode.GENERIC)


def test_plainly_served_and_not():
    info = IndexInfo("member_cust_role_idx", "djapp_member", "", ("customer_id", "role"))
    node = only(plan_of("eq_composite"), "Index Scan")
    assert SQLITE.plainly_served(node, info)
    walk = only(plan_of("covering_walk"), "Index Only Scan")
    assert not SQLITE.serve(walk, info).serves


# -- live: the same schema in memory, plans taken now ------------------------------------
@pytest.fixture(scope="module")
def live():
    conn = sqlite3.connect(":memory:")
    conn.executescript((CAPTURED / "schema.sql").read_text())
    yield conn
    conn.close()


@pytest.mark.parametrize(
    "sql, params, expect",
    [
        (
            "SELECT * FROM djapp_member WHERE customer_id = ? AND role = ?",
            (1, "a"),
            ["Index Scan using member_cust_role_idx on djapp_member"],
        ),
        ("SELECT * FROM djapp_member WHERE score > ?", (1,), ["Seq Scan on djapp_member"]),
        (
            "SELECT * FROM djapp_member INDEXED BY member_created_desc_idx "
            "ORDER BY created DESC LIMIT 3",
            (),
            ["Limit", "Index Scan using member_created_desc_idx on djapp_member"],
        ),
    ],
)
def test_live(live, sql, params, expect):
    rows = live.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    plan = SQLITE.parse({"rows": rows}, sql)
    assert [n.label for n in plan.nodes()] == expect
