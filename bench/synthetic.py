"""Synthetic EXPLAIN (FORMAT JSON) text of any size, deep (a chain) or wide (one fan-out).

Built as strings, never through ``json.dumps``: encoding a 100,000-deep dict recurses.
Nodes carry the fields PostgreSQL really emits, so parsing and rendering do real work.
The one index scan the lookups search for is the last node in walk order.
"""

from __future__ import annotations

import json

INDEX = "synthetic_target_idx"

_JOIN = {
    "Node Type": "Nested Loop",
    "Parent Relationship": "Outer",
    "Parallel Aware": False,
    "Async Capable": False,
    "Join Type": "Inner",
    "Startup Cost": 0.29,
    "Total Cost": 16.64,
    "Plan Rows": 1,
    "Plan Width": 40,
    "Inner Unique": True,
}
_APPEND = {
    "Node Type": "Append",
    "Parallel Aware": False,
    "Async Capable": False,
    "Startup Cost": 0.0,
    "Total Cost": 1234.5,
    "Plan Rows": 1000,
    "Plan Width": 40,
}
_SEQ = {
    "Node Type": "Seq Scan",
    "Parent Relationship": "Member",
    "Parallel Aware": False,
    "Async Capable": False,
    "Relation Name": "upstream_alertrule",
    "Alias": "upstream_alertrule",
    "Startup Cost": 0.0,
    "Total Cost": 24.5,
    "Plan Rows": 5,
    "Plan Width": 40,
    "Filter": "(customer_id = 42)",
}
_INDEX_SCAN = {
    "Node Type": "Index Scan",
    "Parent Relationship": "Outer",
    "Parallel Aware": False,
    "Async Capable": False,
    "Scan Direction": "Forward",
    "Index Name": INDEX,
    "Relation Name": "upstream_userprofile",
    "Alias": "upstream_userprofile",
    "Startup Cost": 0.29,
    "Total Cost": 8.31,
    "Plan Rows": 1,
    "Plan Width": 40,
    "Index Cond": "((customer_id = 42) AND ((role)::text = 'owner'::text))",
}


def _open(node: dict[str, object]) -> str:
    """A node's JSON up to and including the opening of its "Plans" list."""
    return json.dumps(node)[:-1] + ', "Plans": ['


def deep(nodes: int) -> str:
    """A chain: ``nodes - 1`` joins, each the only child of the one above, then the scan."""
    joins = nodes - 1
    return (
        '[{"Plan": '
        + _open(_JOIN) * joins
        + json.dumps(_INDEX_SCAN)
        + "]}" * joins
        + ', "Planning Time": 0.1}]'
    )


def wide(nodes: int) -> str:
    """One Append over ``nodes - 1`` scans: sequential scans, the index scan last."""
    if nodes == 1:
        return '[{"Plan": ' + json.dumps(_INDEX_SCAN) + "}]"
    leaves = [json.dumps(_SEQ)] * (nodes - 2) + [json.dumps(_INDEX_SCAN)]
    return '[{"Plan": ' + _open(_APPEND) + ", ".join(leaves) + "]}}]"


SHAPES = {"deep": deep, "wide": wide}
