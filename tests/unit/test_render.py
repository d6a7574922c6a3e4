"""Exact renderer output for small captured plans: compact, verbose, and with marks.

The verbose texts below equal the server's own text ``EXPLAIN`` for the same queries,
minus ``width=`` and the detail lines the renderer leaves out; test_plans_live.py checks
that against the live server for every case.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from pytest_queryplan.core.plan.render import render
from pytest_queryplan.core.plan.tree import Plan, PlanNode, parse_plan

PLANS_DIR = Path(__file__).resolve().parents[1] / "plans"


def plan_of(version: str, case: str) -> Plan:
    return parse_plan(json.loads((PLANS_DIR / version / f"{case}.json").read_text())["explain"])


def text(block: str) -> str:
    return dedent(block).strip("\n")


def test_compact_shows_labels_only() -> None:
    assert plan_of("pg18", "bitmap_and").render() == text(
        """
        Bitmap Heap Scan on orders
          ->  BitmapAnd
                ->  Bitmap Index Scan on orders_status_idx
                ->  Bitmap Index Scan on orders_flag_idx
        """
    )


def test_verbose_shows_costs_and_every_condition() -> None:
    assert plan_of("pg18", "bitmap_and").render(verbose=True) == text(
        """
        Bitmap Heap Scan on orders  (cost=12.56..23.57 rows=3)
          Recheck Cond: ((status = 3) AND (flag = 7))
          ->  BitmapAnd  (cost=12.56..12.56 rows=3)
                ->  Bitmap Index Scan on orders_status_idx  (cost=0.00..5.84 rows=207)
                      Index Cond: (status = 3)
                ->  Bitmap Index Scan on orders_flag_idx  (cost=0.00..6.47 rows=291)
                      Index Cond: (flag = 7)
        """
    )


def test_verbose_join_conditions() -> None:
    assert plan_of("pg15", "hash_join").render(verbose=True) == text(
        """
        Hash Join  (cost=20.12..500.85 rows=1000)
          Hash Cond: (o.customer_id = c.id)
          ->  Seq Scan on orders o  (cost=0.00..428.00 rows=20000)
          ->  Hash  (cost=19.50..19.50 rows=50)
                ->  Seq Scan on customer c  (cost=0.00..19.50 rows=50)
                      Filter: (region = 3)
        """
    )


def test_sort_key_list_is_joined() -> None:
    rendered = plan_of("pg18", "gather_merge").render(verbose=True)
    assert "\n        Sort Key: note\n" in rendered


@pytest.mark.parametrize(
    ("version", "outer", "inner"),
    [
        ("pg18", "InitPlan 2", "InitPlan 1"),
        ("pg15", "InitPlan 2 (returns $1)", "InitPlan 1 (returns $0)"),
    ],
)
def test_nested_initplan_headers(version: str, outer: str, inner: str) -> None:
    assert plan_of(version, "initplan").render() == text(
        f"""
        Bitmap Heap Scan on orders
          {outer}
            ->  Result
                  {inner}
                    ->  Limit
                          ->  Index Only Scan Backward using orders_amount_idx on orders orders_1
          ->  Bitmap Index Scan on orders_amount_idx
        """
    )


def test_subplan_header_and_cte_header() -> None:
    assert plan_of("pg15", "subplan").render() == text(
        """
        Seq Scan on customer c
          SubPlan 1
            ->  Aggregate
                  ->  Index Only Scan using orders_customer_idx on orders o
        """
    )
    assert plan_of("pg18", "cte").render() == text(
        """
        CTE Scan on cheap
          CTE cheap
            ->  Bitmap Heap Scan on orders
                  ->  Bitmap Index Scan on orders_amount_idx
        """
    )


def test_mark_lands_on_its_node_with_its_conditions() -> None:
    plan = plan_of("pg18", "partitioned")
    middle = plan.find(relation="events_2025")[0]
    assert plan.render(marks={middle: "not the one"}) == text(
        """
        Append
          ->  Index Scan using events_2024_kind_idx on events_2024 events_1
          ->  Index Scan using events_2025_kind_idx on events_2025 events_2  <-- not the one
                Index Cond: (kind = 7)
          ->  Index Scan using events_2026_kind_idx on events_2026 events_3
        """
    )


def test_mark_with_its_own_arrow_is_not_doubled() -> None:
    plan = plan_of("pg15", "seq_scan_filter")
    assert plan.render(marks={plan.root: "<-- Seq Scan: no index used"}) == text(
        """
        Seq Scan on orders  <-- Seq Scan: no index used
          Filter: (note = 'nothing'::text)
        """
    )


def test_mark_in_verbose_goes_after_the_costs() -> None:
    plan = plan_of("pg18", "hash_join")
    [customers] = plan.find(relation="customer")
    lines = plan.render(marks={customers: "here"}, verbose=True).splitlines()
    assert lines[4] == "        ->  Seq Scan on customer c  (cost=0.00..19.50 rows=50)  <-- here"
    assert lines[5] == "              Filter: (region = 3)"
    assert sum("<--" in line for line in lines) == 1


def test_marks_follow_node_identity_not_equal_json() -> None:
    plan = plan_of("pg18", "partitioned")
    twin = plan_of("pg18", "partitioned")
    assert "<--" not in plan.render(marks={twin.root: "other plan's node"})


def test_verbose_analyze_adds_actuals_and_times() -> None:
    plan = plan_of("pg15", "index_scan_analyze")
    raw = plan.raw
    assert plan.render(verbose=True) == text(
        f"""
        Index Scan using orders_pkey on orders  (cost=0.29..8.30 rows=1) (actual rows=1 loops=1)
          Index Cond: (id = 42)
        Planning Time: {raw["Planning Time"]:.3f} ms
        Execution Time: {raw["Execution Time"]:.3f} ms
        """
    )


def test_module_function_and_method_agree_and_subtrees_render() -> None:
    plan = plan_of("pg18", "parallel_seq_scan")
    assert render(plan) == plan.render()
    gather = plan.root.children[0]
    assert isinstance(gather, PlanNode)
    assert render(gather) == text(
        """
        Gather
          ->  Partial Aggregate
                ->  Parallel Seq Scan on orders
        """
    )


def test_very_deep_lines_stop_indenting_and_say_their_depth() -> None:
    root = node = {"Node Type": "Limit"}
    for _ in range(99):
        child = {"Node Type": "Limit", "Parent Relationship": "Outer"}
        node["Plans"] = [child]
        node = child
    lines = parse_plan([{"Plan": root}]).render().splitlines()
    assert len(lines) == 100
    assert len({len(line) for line in lines[-5:]}) == 1
    assert lines[-1].endswith("[depth 99] ->  Limit")
    assert max(len(line) for line in lines) < 200
