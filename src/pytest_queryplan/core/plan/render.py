"""The plan renderer: a :class:`~pytest_queryplan.core.plan.tree.Plan` as an indented text tree.

This module owns the text a failure message shows for a plan. The layout is psql's
text ``EXPLAIN`` (``->  `` before every child, ``InitPlan 1`` / ``SubPlan 1`` headers,
conditions on indented lines below their node) without psql's one leading space, so a
reader sees the shape they know from ``EXPLAIN`` itself. Pure: stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pytest_queryplan.core.text.sql import collapse

if TYPE_CHECKING:
    from pytest_queryplan.core.plan.node import PlanNode

__all__ = ["MARK_ARROW", "render"]

#: Points from a node's line to its mark: ``->  Index Scan using i on t  <-- ...``.
MARK_ARROW = "<-- "

# The condition lines a node can carry, in the order psql prints them for the node
# types that have them. Sort Key and Group Key are lists in JSON.
CONDITION_KEYS = (
    "Hash Cond",
    "Merge Cond",
    "Index Cond",
    "Order By",
    "Recheck Cond",
    "Join Filter",
    "One-Time Filter",
    "Filter",
    "Sort Key",
    "Presorted Key",
    "Group Key",
)

# Indentation stops growing past this many levels: a 100,000-deep plan printed with
# psql's indentation would be tens of gigabytes. Deeper lines say their depth instead.
MAX_INDENT = 60


class _Rooted(Protocol):
    """A whole plan (``tree.Plan``, which imports this module): its root and top JSON."""

    root: PlanNode
    raw: dict[str, Any]


def render(
    plan: _Rooted | PlanNode,
    marks: Mapping[PlanNode, str] | None = None,
    verbose: bool = False,
) -> str:
    """Render ``plan`` (or the subtree under a node) as psql-style text.

    A node in ``marks`` gets its mark at the end of its line, after two spaces and
    ``<-- `` (unless the mark already starts with ``<--``), and its conditions (Index
    Cond, Filter, ...) on the lines below. ``verbose=True`` adds
    ``(cost=a..b rows=n)`` to every node, every node's conditions, and the planning
    and execution times when the plan was made with ANALYZE.
    """
    # A Plan has a root; a PlanNode is its own (no import of plan.py: it imports this module).
    whole = getattr(plan, "root", None)
    root = whole if whole is not None else plan
    marks = marks or {}
    lines: list[str] = []
    # ``indent`` counts two-space steps the way explain.c's es->indent does: a child's
    # "->  " takes two steps and its details one more, a subplan header one step.
    stack: list[tuple[PlanNode, int]] = [(root, 0)]
    while stack:
        node, indent = stack.pop()
        raw = node.raw
        subplan_name = raw.get("Subplan Name")
        if subplan_name is not None:
            lines.append(_pad(indent, node) + subplan_name)
            indent += 1
        if indent:
            line = _pad(indent, node) + "->  " + node.label
            indent += 2
        else:
            line = node.label
        indent += 1
        source = raw.get("Source")
        if source is not None:  # the vendor's own words, for a normalised plan
            line += f"  [{source}]"
        if verbose:
            line += _costs(raw)
        mark = marks.get(node)
        if mark is not None:
            # Callers may or may not write the arrow themselves; it must appear once.
            line += "  " + mark if mark.startswith("<--") else "  " + MARK_ARROW + mark
        lines.append(line)
        if verbose or mark is not None:
            detail_pad = _pad(indent, None)
            for key in CONDITION_KEYS:
                value = raw.get(key)
                if value is not None:
                    if isinstance(value, list):
                        value = ", ".join(str(item) for item in value)
                    lines.append(f"{detail_pad}{key}: {collapse(str(value))}")
        children = node.children
        if children:
            stack.extend([(child, indent) for child in reversed(children)])
    if verbose and whole is not None:
        for key in ("Planning Time", "Execution Time"):
            value = plan.raw.get(key)
            if value is not None:
                lines.append(f"{key}: {value:.3f} ms")
    return "\n".join(lines)


def _pad(indent: int, node: PlanNode | None) -> str:
    if indent <= MAX_INDENT:
        return "  " * indent
    if node is None:
        return "  " * MAX_INDENT
    return "  " * MAX_INDENT + f"[depth {node.depth}] "


def _costs(raw: dict[str, Any]) -> str:
    text = ""
    if "Total Cost" in raw:
        text = (
            f"  (cost={raw.get('Startup Cost', 0.0):.2f}..{raw['Total Cost']:.2f}"
            f" rows={raw.get('Plan Rows', 0):.0f})"
        )
    if "Actual Loops" in raw:
        if raw["Actual Loops"] == 0:
            text += " (never executed)"
        else:
            text += (
                f" (actual rows={_number(raw.get('Actual Rows', 0))} loops={raw['Actual Loops']})"
            )
    return text


def _number(value: float) -> str:
    # PostgreSQL 18 reports row counts averaged over loops with two decimals.
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
