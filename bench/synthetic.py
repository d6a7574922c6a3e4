"""Synthetic EXPLAIN (FORMAT JSON) plans of any size, deep (a chain) or wide (one fan-out),
as JSON text and as the Python objects ``json.loads`` would decode that text into.

Built as strings, never through ``json.dumps``: encoding a 100,000-deep dict recurses.
CPython's C decoder stops at a fixed nesting depth from 3.12 on, whatever
``sys.setrecursionlimit`` says (measured: 991 levels at the default limit and 400,000+
raised on 3.11.7; 1,497 on 3.12.1; 9,998 on 3.13.0), and a chain nests two levels per
node: ``decode`` decodes a text or says this Python cannot (``deep_recursion`` raises the
limit, which is all 3.11 needs), and ``deep_decoded`` builds the chain's decoded form
without decoding nested text.
Nodes carry the fields PostgreSQL really emits, so parsing and rendering do real work.
The one index scan the lookups search for is the last node in walk order.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

INDEX = "synthetic_target_idx"
_DEEP_LIMIT = 1_000_000

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


def deep_decoded(nodes: int) -> list[dict[str, Any]]:
    """What ``json.loads(deep(nodes))`` returns, built without decoding nested text.

    The nodes come from one ``json.loads`` of a flat list of them, then each is linked
    under the one before: as from the nested text, every node is a fresh dict of fresh
    values, made root first, sharing the key strings one decode shares.
    """
    chain = json.loads(
        "[" + ", ".join([json.dumps(_JOIN)] * (nodes - 1) + [json.dumps(_INDEX_SCAN)]) + "]"
    )
    for parent, child in itertools.pairwise(chain):
        parent["Plans"] = [child]
    return [{"Plan": chain[0], "Planning Time": 0.1}]


def deep_nesting(nodes: int) -> int:
    """How deep ``deep(nodes)`` nests: the outer list and dict, a dict and a list per join,
    and the scan's dict."""
    return 2 * nodes + 1


def wide_decoded(nodes: int) -> list[dict[str, Any]]:
    """What ``json.loads(wide(nodes))`` returns (five levels deep at any size)."""
    return json.loads(wide(nodes))


SHAPES = {"deep": deep, "wide": wide}
DECODED = {"deep": deep_decoded, "wide": wide_decoded}


@contextmanager
def deep_recursion(enabled: bool) -> Iterator[None]:
    """Let the stdlib JSON decoder nest as deep as a chain plan (only it needs this)."""
    if not enabled:
        yield
        return
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(_DEEP_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def decode(text: str, nested: bool) -> Any:
    """``json.loads(text)``, or None when this Python's decoder cannot nest that deep."""
    try:
        with deep_recursion(nested):
            return json.loads(text)
    except RecursionError:
        return None
