"""A plan node's one-line label as psql's text ``EXPLAIN`` prints it, and identifier quoting.

Pure: works on a node's JSON dict only.
"""

from __future__ import annotations

import re
from typing import Any

# The key each kind of scan uses for the object it reads, in ExplainTargetRel's order.
_TARGET_KEYS = (
    "Relation Name",
    "Function Name",
    "CTE Name",
    "Tuplestore Name",
    "Table Function Name",
)

_AGG_NAMES = {
    "Plain": "Aggregate",
    "Sorted": "GroupAggregate",
    "Hashed": "HashAggregate",
    "Mixed": "MixedAggregate",
}

# psql prints "Hash Left Join" but "Hash Join" for inner joins; the stem is what precedes
# the join type.
_JOIN_STEMS = {"Nested Loop": "Nested Loop", "Hash Join": "Hash", "Merge Join": "Merge"}

_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*\Z")

# Keywords PostgreSQL's quote_identifier() wraps in quotes (every keyword that is not
# unreserved). Only labels use this, so a rare miss costs a pair of quotes, nothing more.
_QUOTED_KEYWORDS = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization between bigint
    binary bit boolean both case cast char character check coalesce collate collation
    column concurrently constraint create cross current_catalog current_date current_role
    current_schema current_time current_timestamp current_user dec decimal default
    deferrable desc distinct do else end except exists extract false fetch float for
    foreign freeze from full grant greatest group grouping having ilike in initially inner
    inout int integer intersect interval into is isnull join json json_array
    json_arrayagg json_exists json_object json_objectagg json_query json_scalar
    json_serialize json_table json_value lateral leading least left like limit localtime
    localtimestamp merge_action national natural nchar none normalize not notnull null
    nullif numeric offset on only or order out outer overlaps overlay placing position
    precision primary real references returning right row select session_user setof
    similar smallint some substring symmetric system_user table tablesample then time
    timestamp to trailing treat trim true union unique user using values varchar variadic
    verbose when where window with xmlattributes xmlconcat xmlelement xmlexists xmlforest
    xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
    """.split()
)


def quote_identifier(name: str) -> str:
    """Quote ``name`` the way EXPLAIN's text format does, so labels read like psql's."""
    if _PLAIN_IDENTIFIER.match(name) and name not in _QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def node_label(raw: dict[str, Any]) -> str:
    """The node's line as psql's text EXPLAIN prints it, without the cost part."""
    node_type = raw["Node Type"]
    name = node_type
    if node_type == "Aggregate":
        name = _AGG_NAMES.get(raw.get("Strategy", "Plain"), "Aggregate")
        mode = raw.get("Partial Mode")
        if mode == "Partial" or mode == "Finalize":
            name = f"{mode} {name}"
    elif node_type in _JOIN_STEMS:
        join_type = raw.get("Join Type", "Inner")
        if join_type != "Inner":
            name = f"{_JOIN_STEMS[node_type]} {join_type} Join"
    elif node_type == "ModifyTable":
        name = raw.get("Operation") or node_type
    elif node_type == "SetOp":
        name = "HashSetOp" if raw.get("Strategy") == "Hashed" else "SetOp"
        if raw.get("Command"):
            name = f"{name} {raw['Command']}"
    elif node_type == "Foreign Scan":
        operation = raw.get("Operation")
        if operation and operation != "Select":
            name = f"Foreign {operation}"
    elif node_type == "Custom Scan" and raw.get("Custom Plan Provider"):
        name = f"Custom Scan ({raw['Custom Plan Provider']})"

    parts = []
    if raw.get("Parallel Aware"):
        parts.append("Parallel ")
    if raw.get("Async Capable"):
        parts.append("Async ")
    parts.append(name)
    index_name = raw.get("Index Name")
    if index_name is not None:
        if node_type == "Bitmap Index Scan":
            parts.append(f" on {quote_identifier(index_name)}")
        else:
            if raw.get("Scan Direction") == "Backward":
                parts.append(" Backward")
            parts.append(f" using {quote_identifier(index_name)}")
    if "Alias" in raw:
        parts.append(" on")
        target = None
        for key in _TARGET_KEYS:
            target = raw.get(key)
            if target is not None:
                break
        schema = raw.get("Schema")
        if target is not None and schema is not None:
            parts.append(f" {quote_identifier(schema)}.{quote_identifier(target)}")
        elif target is not None:
            parts.append(f" {quote_identifier(target)}")
        alias = raw["Alias"]
        if target is None or alias != target:
            parts.append(f" {quote_identifier(alias)}")
    return "".join(parts)
