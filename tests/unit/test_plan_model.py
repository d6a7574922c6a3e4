"""Unit tests for the plan model over EXPLAIN output captured from PostgreSQL 15 and 18.

The fixtures in ``tests/plans/pg<major>/`` come from ``tests/plans/capture.py``; their
``expect`` block was computed from the raw JSON, independently of the model under test.
No database is needed here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_queryplan.core.plan.tree import Plan, PlanNode, parse_plan, quote_identifier

PLANS_DIR = Path(__file__).resolve().parents[1] / "plans"
# service_* plans are test_service.py's (their cases: tests/plans/service_capture.py).
FIXTURES = sorted(p for p in PLANS_DIR.glob("pg*/*.json") if not p.stem.startswith("service_"))
VERSIONS = sorted(path.name for path in PLANS_DIR.glob("pg*") if path.is_dir())


def load(version: str, case: str) -> dict[str, Any]:
    return json.loads((PLANS_DIR / version / f"{case}.json").read_text())


def plan_of(version: str, case: str) -> Plan:
    return parse_plan(load(version, case)["explain"])


def json_nodes(explain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every node dict in pre-order, walked straight from the JSON."""
    found, stack = [], [explain[0]["Plan"]]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(node.get("Plans", [])))
    return found


# Relations each case reads, written out by hand from the case's SQL.
TABLES = {
    "index_scan": {"orders"},
    "index_scan_analyze": {"orders"},
    "index_only_scan": {"orders"},
    "bitmap_and": {"orders"},
    "bitmap_or": {"orders"},
    "index_scan_backward": {"orders"},
    "parallel_seq_scan": {"orders"},
    "parallel_index_scan": {"orders"},
    "gather_merge": {"orders"},
    "nested_loop": {"orders", "customer"},
    "hash_join": {"orders", "customer"},
    "merge_join": {"orders", "customer"},
    "initplan": {"orders"},
    "subplan": {"orders", "customer"},
    "cte": {"orders"},
    "union_all_append": {"orders", "customer"},
    "partitioned": {"events_2024", "events_2025", "events_2026"},
    "update_modifytable": {"orders"},
    "delete_modifytable": {"orders"},
    "seq_scan_filter": {"orders"},
    "limit_no_sort": {"orders"},
}


def test_fixtures_cover_both_servers() -> None:
    assert VERSIONS == ["pg15", "pg18"]
    for version in VERSIONS:
        stems = {path.stem for path in (PLANS_DIR / version).glob("*.json")}
        assert {stem for stem in stems if not stem.startswith("service_")} == set(TABLES)


@pytest.fixture(params=FIXTURES, ids=lambda path: f"{path.parent.name}-{path.stem}")
def fixture(request: pytest.FixtureRequest) -> dict[str, Any]:
    record = json.loads(request.param.read_text())
    record["case"] = request.param.stem
    return record


def test_node_types_and_index_names_match_capture(fixture: dict[str, Any]) -> None:
    plan = parse_plan(fixture["explain"])
    assert sorted({node.node_type for node in plan.nodes()}) == fixture["expect"]["node_types"]
    assert sorted(plan.index_names) == fixture["expect"]["index_names"]


def test_nodes_walk_the_json_in_pre_order_without_copying(fixture: dict[str, Any]) -> None:
    plan = parse_plan(fixture["explain"])
    walked = list(plan.nodes())
    assert [node.raw for node in walked] == json_nodes(fixture["explain"])
    assert all(
        node.raw is raw for node, raw in zip(walked, json_nodes(fixture["explain"]), strict=True)
    )
    assert plan.raw is fixture["explain"][0]
    assert walked[0] is plan.root


def test_parent_depth_and_children_agree(fixture: dict[str, Any]) -> None:
    plan = parse_plan(fixture["explain"])
    assert plan.root.parent is None and plan.root.depth == 0
    for node in plan.nodes():
        assert [child.raw for child in node.children] == node.raw.get("Plans", [])
        for child in node.children:
            assert child.parent is node
            assert child.depth == node.depth + 1
            assert child.parent_relationship is not None


def test_find_and_uses_index(fixture: dict[str, Any]) -> None:
    plan = parse_plan(fixture["explain"])
    for name in fixture["expect"]["index_names"]:
        assert plan.uses_index(name)
        found = plan.find(index=name)
        assert found and all(node.index_name == name and node.is_index_scan for node in found)
    assert not plan.uses_index("no_such_idx")
    assert plan.find(index="no_such_idx") == []
    for node_type in fixture["expect"]["node_types"]:
        found = plan.find(node_type=node_type)
        assert found and all(node.node_type == node_type for node in found)
    assert plan.find() == list(plan.nodes())


def test_tables(fixture: dict[str, Any]) -> None:
    plan = parse_plan(fixture["explain"])
    assert plan.tables == TABLES[fixture["case"]]
    for table in plan.tables:
        assert all(node.relation_name == table for node in plan.find(relation=table))


def test_index_names_are_computed_once(fixture: dict[str, Any]) -> None:
    plan = parse_plan(fixture["explain"])
    assert isinstance(plan.index_names, frozenset)
    assert plan.index_names is plan.index_names
    assert plan.tables is plan.tables


def test_every_label_names_its_node(fixture: dict[str, Any]) -> None:
    plan = parse_plan(fixture["explain"])
    for node in plan.nodes():
        if node.index_name is not None:
            assert node.index_name in node.label
        if node.relation_name is not None:
            assert node.relation_name in node.label


@pytest.mark.parametrize("version", VERSIONS)
class TestCases:
    """What each captured shape must look like through the model, on both servers."""

    def test_index_scan_fields(self, version: str) -> None:
        node = plan_of(version, "index_scan").root
        assert node.node_type == "Index Scan"
        assert node.is_index_scan
        assert (node.relation_name, node.index_name, node.alias) == (
            "orders",
            "orders_pkey",
            "orders",
        )
        assert node.index_cond == "(id = 42)"
        assert node.filter is None and node.recheck_cond is None
        assert node.schema is None  # only EXPLAIN (VERBOSE) reports it
        assert node.startup_cost == 0.29 and node.total_cost == 8.3
        assert node.plan_rows == 1.0 and isinstance(node.plan_rows, float)
        assert node.parent_relationship is None and node.subplan_name is None
        assert node.label == "Index Scan using orders_pkey on orders"

    def test_analyze_times(self, version: str) -> None:
        analyzed = plan_of(version, "index_scan_analyze")
        assert isinstance(analyzed.planning_time, float) and analyzed.planning_time > 0
        assert isinstance(analyzed.execution_time, float) and analyzed.execution_time > 0
        plain = plan_of(version, "index_scan")
        assert plain.planning_time is None and plain.execution_time is None

    def test_index_only_scan(self, version: str) -> None:
        node = plan_of(version, "index_only_scan").root
        assert node.is_index_scan
        assert node.label == "Index Only Scan using orders_customer_idx on orders"

    @pytest.mark.parametrize("case", ["bitmap_and", "bitmap_or"])
    def test_bitmap_combinations(self, version: str, case: str) -> None:
        plan = plan_of(version, case)
        heap = plan.root
        combine = "BitmapAnd" if case == "bitmap_and" else "BitmapOr"
        assert heap.label == "Bitmap Heap Scan on orders"
        assert not heap.is_index_scan
        assert heap.recheck_cond is not None
        [bitmap] = heap.children
        assert bitmap.label == combine
        assert [child.label for child in bitmap.children] == [
            "Bitmap Index Scan on orders_status_idx",
            "Bitmap Index Scan on orders_flag_idx",
        ]
        assert all(child.is_index_scan and child.depth == 2 for child in bitmap.children)
        assert plan.index_names == {"orders_status_idx", "orders_flag_idx"}

    def test_backward_index_scan_counts(self, version: str) -> None:
        plan = plan_of(version, "index_scan_backward")
        assert plan.root.label == "Limit"
        [scan] = plan.find(node_type="Index Scan", index="orders_created_idx")
        assert scan.is_index_scan
        assert scan.raw["Scan Direction"] == "Backward"
        assert scan.label == "Index Scan Backward using orders_created_idx on orders"
        assert scan.parent is plan.root and scan.parent_relationship == "Outer"

    def test_parallel_seq_scan(self, version: str) -> None:
        plan = plan_of(version, "parallel_seq_scan")
        labels = [node.label for node in plan.nodes()]
        assert labels == [
            "Finalize Aggregate",
            "Gather",
            "Partial Aggregate",
            "Parallel Seq Scan on orders",
        ]
        [scan] = plan.find(node_type="Seq Scan", relation="orders")
        assert scan.depth == 3 and not scan.is_index_scan
        assert scan.filter == "(note ~~ '%ab%'::text)"
        assert plan.index_names == frozenset()

    def test_parallel_index_scan_counts(self, version: str) -> None:
        plan = plan_of(version, "parallel_index_scan")
        [scan] = plan.find(node_type="Index Scan")
        assert scan.raw["Parallel Aware"] is True
        assert scan.is_index_scan
        assert scan.label == "Parallel Index Scan using orders_created_idx on orders"
        assert plan.uses_index("orders_created_idx")

    def test_gather_merge(self, version: str) -> None:
        plan = plan_of(version, "gather_merge")
        assert [node.label for node in plan.nodes()] == [
            "Gather Merge",
            "Sort",
            "Parallel Seq Scan on orders",
        ]

    @pytest.mark.parametrize(
        ("case", "label", "outer", "inner"),
        [
            (
                "nested_loop",
                "Nested Loop",
                "Index Scan using orders_pkey on orders o",
                "Index Scan using customer_pkey on customer c",
            ),
            ("hash_join", "Hash Join", "Seq Scan on orders o", "Hash"),
            (
                "merge_join",
                "Merge Join",
                "Index Scan using orders_customer_idx on orders o",
                "Index Scan using customer_pkey on customer c",
            ),
        ],
    )
    def test_joins(self, version: str, case: str, label: str, outer: str, inner: str) -> None:
        root = plan_of(version, case).root
        assert root.label == label
        assert [(child.label, child.parent_relationship) for child in root.children] == [
            (outer, "Outer"),
            (inner, "Inner"),
        ]

    def test_join_find_combines_criteria(self, version: str) -> None:
        plan = plan_of(version, "merge_join")
        [scan] = plan.find(node_type="Index Scan", relation="customer")
        assert scan.index_name == "customer_pkey" and scan.alias == "c"
        assert plan.find(node_type="Index Scan", relation="customer", index="orders_pkey") == []
        assert plan.find(node_type="Seq Scan", relation="customer") == []

    def test_initplans_nest(self, version: str) -> None:
        plan = plan_of(version, "initplan")
        outer_init = plan.root.children[0]
        assert outer_init.parent_relationship == "InitPlan"
        assert outer_init.node_type == "Result" and outer_init.depth == 1
        assert outer_init.parent is plan.root
        [inner_init] = outer_init.children
        assert inner_init.parent_relationship == "InitPlan"
        assert inner_init.node_type == "Limit" and inner_init.depth == 2
        # PostgreSQL 16 dropped the "(returns $n)" suffix; both forms name the plan.
        assert outer_init.subplan_name is not None
        assert outer_init.subplan_name.startswith("InitPlan 2")
        assert inner_init.subplan_name is not None
        assert inner_init.subplan_name.startswith("InitPlan 1")
        [scan] = inner_init.children
        assert scan.label == "Index Only Scan Backward using orders_amount_idx on orders orders_1"
        assert scan.is_index_scan and scan.depth == 3 and scan.parent is inner_init
        assert [node.node_type for node in plan.find(index="orders_amount_idx")] == [
            "Index Only Scan",
            "Bitmap Index Scan",
        ]

    def test_subplan(self, version: str) -> None:
        plan = plan_of(version, "subplan")
        assert plan.root.label == "Seq Scan on customer c"
        assert plan.root.filter == "(region = 4)"
        [sub] = plan.root.children
        assert (sub.parent_relationship, sub.subplan_name) == ("SubPlan", "SubPlan 1")
        assert sub.node_type == "Aggregate" and sub.label == "Aggregate"
        assert sub.parent is plan.root and sub.depth == 1
        [scan] = sub.children
        assert scan.label == "Index Only Scan using orders_customer_idx on orders o"
        assert scan.index_cond == "(customer_id = c.id)"

    def test_materialized_cte(self, version: str) -> None:
        plan = plan_of(version, "cte")
        assert plan.root.label == "CTE Scan on cheap"
        assert plan.root.raw["CTE Name"] == "cheap"
        assert plan.root.relation_name is None
        [cte] = plan.root.children
        assert (cte.parent_relationship, cte.subplan_name) == ("InitPlan", "CTE cheap")
        assert cte.label == "Bitmap Heap Scan on orders"

    def test_union_all_append(self, version: str) -> None:
        root = plan_of(version, "union_all_append").root
        assert root.label == "Append"
        assert [(child.label, child.parent_relationship) for child in root.children] == [
            ("Index Only Scan using orders_pkey on orders", "Member"),
            ("Index Only Scan using customer_pkey on customer", "Member"),
        ]

    def test_partitions_each_use_their_own_index(self, version: str) -> None:
        plan = plan_of(version, "partitioned")
        assert plan.root.label == "Append"
        members = plan.root.children
        assert [(node.relation_name, node.index_name, node.alias) for node in members] == [
            ("events_2024", "events_2024_kind_idx", "events_1"),
            ("events_2025", "events_2025_kind_idx", "events_2"),
            ("events_2026", "events_2026_kind_idx", "events_3"),
        ]
        assert all(node.parent_relationship == "Member" for node in members)
        assert members[1].label == "Index Scan using events_2025_kind_idx on events_2025 events_2"
        # The parent's index is never scanned itself: only the partitions' are.
        assert not plan.uses_index("events_kind_idx")
        [member] = plan.find(relation="events_2025")
        assert member.index_name == "events_2025_kind_idx"

    @pytest.mark.parametrize(
        ("case", "label", "index"),
        [
            ("update_modifytable", "Update on orders", "orders_pkey"),
            ("delete_modifytable", "Delete on orders", "orders_created_idx"),
        ],
    )
    def test_modify_table(self, version: str, case: str, label: str, index: str) -> None:
        plan = plan_of(version, case)
        root = plan.root
        assert root.node_type == "ModifyTable"
        assert root.label == label
        assert root.relation_name == "orders"
        assert not root.is_index_scan
        [scan] = root.children
        assert scan.index_name == index and scan.relation_name == "orders"
        assert plan.find(node_type="ModifyTable", relation="orders") == [root]

    def test_seq_scan_filter(self, version: str) -> None:
        root = plan_of(version, "seq_scan_filter").root
        assert root.label == "Seq Scan on orders"
        assert root.filter == "(note = 'nothing'::text)"
        assert not root.is_index_scan and root.children == []

    def test_limit_without_sort(self, version: str) -> None:
        plan = plan_of(version, "limit_no_sort")
        assert [node.label for node in plan.nodes()] == [
            "Limit",
            "Index Scan using orders_pkey on orders",
        ]
        assert plan.find(node_type="Sort") == []


# --- parse_plan's inputs ------------------------------------------------------------------


@pytest.fixture
def explain() -> list[dict[str, Any]]:
    return load("pg18", "nested_loop")["explain"]


@pytest.mark.parametrize(
    "convert",
    [
        lambda explain: explain,
        json.dumps,
        lambda explain: json.dumps(explain).encode(),
        lambda explain: bytearray(json.dumps(explain).encode()),
        lambda explain: explain[0],
        lambda explain: json.dumps(explain[0]),
    ],
    ids=["list", "str", "bytes", "bytearray", "dict", "dict-str"],
)
def test_parse_plan_accepts(explain: list[dict[str, Any]], convert: Any) -> None:
    plan = parse_plan(convert(explain))
    assert plan.raw == explain[0]
    assert plan.root.label == "Nested Loop"
    assert plan.index_names == {"orders_pkey", "customer_pkey"}


@pytest.mark.parametrize(
    ("value", "received"),
    [
        (None, "got NoneType None"),
        (42, "got int 42"),
        ("", "not JSON"),
        ("{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        ([], "got a list of 0 items"),
        ([{"Plan": {"Node Type": "Result"}}] * 2, "got a list of 2 items"),
        ({"no": "plan"}, "got dict {'no': 'plan'}"),
        ("[1]", "got str '[1]'"),
        ([[{"Plan": {"Node Type": "Result"}}]], "got list"),
    ],
)
def test_parse_plan_rejects_with_what_it_got(value: Any, received: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_plan(value)
    message = str(excinfo.value)
    assert "expected EXPLAIN (FORMAT JSON) output" in message
    assert received in message


def test_parse_plan_points_text_explain_at_format_json() -> None:
    with pytest.raises(ValueError, match=r"looks like text-format EXPLAIN; ask for FORMAT JSON"):
        parse_plan("Seq Scan on orders  (cost=0.00..478.00 rows=1 width=57)")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Plan": 3}, 'EXPLAIN output\'s "Plan" must be a node object with a "Node Type"'),
        ({"Plan": {"Total Cost": 1}}, '"Plan" must be a node object with a "Node Type"'),
        (
            {"Plan": {"Node Type": "Append", "Plans": [1]}},
            'an entry in "Plans" that is not a node object: int 1',
        ),
        (
            {"Plan": {"Node Type": "Append", "Plans": 7}},
            'a "Plans" value that is not a list: int 7',
        ),
    ],
)
def test_parse_plan_rejects_malformed_nodes(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_plan(value)
    assert message in str(excinfo.value)


# --- nodes as keys, labels, size ----------------------------------------------------------


def test_nodes_are_equal_only_to_themselves() -> None:
    plan = plan_of("pg18", "partitioned")
    twin = parse_plan(load("pg18", "partitioned")["explain"])
    assert plan.root.raw == twin.root.raw
    assert plan.root != twin.root
    marks = {plan.root: "a", twin.root: "b"}
    assert len(marks) == 2
    assert not hasattr(plan.root, "__dict__")  # __slots__: one small object per node


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("orders", "orders"),
        ("upstream_alertrule", "upstream_alertrule"),
        ("Orders", '"Orders"'),
        ("order", '"order"'),
        ("user", '"user"'),
        ("a b", '"a b"'),
        ('we"ird', '"we""ird"'),
        ("1st", '"1st"'),
        ("*VALUES*", '"*VALUES*"'),
    ],
)
def test_quote_identifier(name: str, quoted: str) -> None:
    assert quote_identifier(name) == quoted


# Label branches the captured cases do not reach. The dicts hold only the keys the label
# reads; what psql prints for each was checked against PostgreSQL 15 and 18.
@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ({"Node Type": "Hash Join", "Join Type": "Left"}, "Hash Left Join"),
        ({"Node Type": "Nested Loop", "Join Type": "Anti"}, "Nested Loop Anti Join"),
        ({"Node Type": "Merge Join", "Join Type": "Full"}, "Merge Full Join"),
        ({"Node Type": "Aggregate", "Strategy": "Hashed"}, "HashAggregate"),
        ({"Node Type": "Aggregate", "Strategy": "Sorted"}, "GroupAggregate"),
        (
            {"Node Type": "Aggregate", "Strategy": "Sorted", "Partial Mode": "Partial"},
            "Partial GroupAggregate",
        ),
        ({"Node Type": "SetOp", "Strategy": "Hashed", "Command": "Except"}, "HashSetOp Except"),
        (
            {"Node Type": "ModifyTable", "Operation": "Insert", "Relation Name": "t", "Alias": "t"},
            "Insert on t",
        ),
        ({"Node Type": "Subquery Scan", "Alias": "s"}, "Subquery Scan on s"),
        (
            {"Node Type": "Function Scan", "Function Name": "generate_series", "Alias": "g"},
            "Function Scan on generate_series g",
        ),
        ({"Node Type": "Values Scan", "Alias": "*VALUES*"}, 'Values Scan on "*VALUES*"'),
        (
            {"Node Type": "Seq Scan", "Relation Name": "t", "Schema": "public", "Alias": "t"},
            "Seq Scan on public.t",
        ),
        ({"Node Type": "Foreign Scan", "Operation": "Update"}, "Foreign Update"),
        (
            {"Node Type": "Custom Scan", "Custom Plan Provider": "ColumnarScan"},
            "Custom Scan (ColumnarScan)",
        ),
    ],
)
def test_labels_of_other_node_types(raw: dict[str, Any], label: str) -> None:
    assert PlanNode(raw).label == label


def chain(depth: int) -> list[dict[str, Any]]:
    """A synthetic single-child chain: no real server produces one this deep."""
    root = node = {"Node Type": "Limit"}
    for _ in range(depth - 2):
        child = {"Node Type": "Limit", "Parent Relationship": "Outer"}
        node["Plans"] = [child]
        node = child
    node["Plans"] = [
        {
            "Node Type": "Index Scan",
            "Parent Relationship": "Outer",
            "Index Name": "deep_idx",
            "Relation Name": "t",
            "Alias": "t",
        }
    ]
    return [{"Plan": root}]


def test_100000_deep_plan_parses_walks_and_renders() -> None:
    depth = 100_000
    assert depth > sys.getrecursionlimit()
    plan = parse_plan(chain(depth))
    nodes = list(plan.nodes())
    assert len(nodes) == depth
    assert nodes[-1].depth == depth - 1 and nodes[-1].parent is nodes[-2]
    assert plan.index_names == {"deep_idx"}
    assert plan.find(index="deep_idx") == [nodes[-1]]
    text = plan.render(marks={nodes[-1]: "bottom"}, verbose=True)
    lines = text.splitlines()
    assert len(lines) == depth
    assert lines[-1].endswith("Index Scan using deep_idx on t  <-- bottom")
