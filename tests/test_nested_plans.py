"""assert_uses_index finds the index wherever the planner puts it: joins, InitPlans,
SubPlans, CTEs, UNION ALL, backward scans, UPDATE/DELETE, partitions. Real EXPLAINs."""

from __future__ import annotations

import pytest
from django.db import connection

from pytest_queryplan import QueryPlanAssertionError

pytestmark = pytest.mark.django_db

OWNER_INDEX = "userprofile_customer_role_idx"
RULE_INDEX = "alertrule_eval_priority_idx"

CASES = {
    "join": (
        "SELECT p.id FROM upstream_customer c JOIN upstream_userprofile p "
        "ON p.customer_id = c.id WHERE c.slug = %s AND p.role = 'owner'",
        ["acme"],
        OWNER_INDEX,
    ),
    "initplan": (
        "SELECT (SELECT count(*) FROM upstream_userprofile "
        "WHERE customer_id = %s AND role = 'owner') AS owners",
        [1],
        OWNER_INDEX,
    ),
    "subplan": (
        "SELECT c.id, (SELECT count(*) FROM upstream_userprofile p "
        "WHERE p.customer_id = c.id AND p.role = 'owner') FROM upstream_customer c",
        None,
        OWNER_INDEX,
    ),
    "cte": (
        "WITH owners AS MATERIALIZED (SELECT * FROM upstream_userprofile "
        "WHERE customer_id = %s AND role = 'owner') SELECT count(*) FROM owners",
        [1],
        OWNER_INDEX,
    ),
    "union_all": (
        "SELECT id FROM upstream_customer WHERE slug = %s UNION ALL "
        "SELECT id FROM upstream_userprofile WHERE customer_id = %s AND role = 'admin'",
        ["acme", 1],
        OWNER_INDEX,
    ),
    "backward": (
        "SELECT id FROM upstream_alertrule WHERE customer_id = %s AND enabled "
        "ORDER BY routing_priority ASC LIMIT 1",
        [1],
        RULE_INDEX,
    ),
    "update": (
        "UPDATE upstream_userprofile SET role = 'admin' WHERE customer_id = %s AND role = 'owner'",
        [1],
        OWNER_INDEX,
    ),
    "delete": (
        "DELETE FROM upstream_alertrule WHERE customer_id = %s AND enabled "
        "AND routing_priority > %s",
        [1, 5],
        RULE_INDEX,
    ),
}


#: The cases whose statement writes: the plan's root is the write (ModifyTable).
WRITES = frozenset({"update", "delete"})


@pytest.mark.parametrize("case", sorted(CASES))
def test_index_found_anywhere_in_plan(assert_uses_index, case):
    """Where the scan sits, not how well it serves (strict=False): in the join, the planner
    may hash-join and search the index by role alone, depending on the statistics earlier
    tests left (the regression catalogue judges service, on tables of its own)."""
    sql, params, index = CASES[case]
    plan = assert_uses_index((sql, params), index, strict=False)
    node = plan.find(index=index)[0]
    # Nested in every case: the scan is never the plan's root.
    assert node is not plan.root and node.depth > 0
    assert (plan.root.node_type == "ModifyTable") == (case in WRITES)
    assert node.raw["Scan Direction"] == ("Backward" if case == "backward" else "Forward")


def test_the_same_sql_fails_for_an_index_it_cannot_use(assert_uses_index):
    sql, params, _ = CASES["initplan"]
    with pytest.raises(QueryPlanAssertionError, match="alertrule_eval_priority_idx"):
        assert_uses_index((sql, params), RULE_INDEX)


@pytest.fixture
def partitioned_events():
    """A range-partitioned table whose parent index is attached to each partition's index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE qp_events (id int, customer_id int, created date) "
            "PARTITION BY RANGE (created)"
        )
        cursor.execute(
            "CREATE TABLE qp_events_2025 PARTITION OF qp_events "
            "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
        )
        cursor.execute(
            "CREATE TABLE qp_events_2026 PARTITION OF qp_events "
            "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
        )
        cursor.execute("CREATE INDEX qp_events_customer_idx ON qp_events (customer_id)")


def test_parent_index_of_partitioned_table_matches_partition_scans(
    assert_uses_index, partitioned_events
):
    plan = assert_uses_index(
        ("SELECT * FROM qp_events WHERE customer_id = %s", [3]), "qp_events_customer_idx"
    )
    # The plan names only the partitions' own indexes, never the parent's.
    assert "qp_events_customer_idx" not in plan.index_names
    assert {"qp_events_2025_customer_id_idx", "qp_events_2026_customer_id_idx"} <= plan.index_names


def test_partition_index_named_directly(assert_uses_index, partitioned_events):
    assert_uses_index(
        ("SELECT * FROM qp_events WHERE customer_id = %s AND created >= %s", [3, "2026-03-01"]),
        "qp_events_2026_customer_id_idx",
    )
    with pytest.raises(QueryPlanAssertionError):
        # Partition pruning leaves 2025 out: its index cannot be used.
        assert_uses_index(
            ("SELECT * FROM qp_events WHERE customer_id = %s AND created >= %s", [3, "2026-03-01"]),
            "qp_events_2025_customer_id_idx",
        )
