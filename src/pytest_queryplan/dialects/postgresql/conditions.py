"""Whether a scan of an index *serves* the query, judged from the plan's condition text.

This module owns that rule and the reading of EXPLAIN condition text it needs. A scan
serves when it has an Index Cond (or, without one, delivers ORDER BY under a Limit, or
reads a partial index) and no condition on a key column of the index is left to a Filter:
the scan's own, or the Bitmap Heap Scan's above a Bitmap Index Scan (a Recheck Cond is no
Filter). It also finds *filtered full reads*. Pure: stdlib only. Condition text is
tokenized (literals, quoted names, brackets), so ``'a AND b'`` or ``"desc"`` cannot mislead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from pytest_queryplan.core.checks.service import Cause, Service
from pytest_queryplan.core.plan.node import PlanNode
from pytest_queryplan.core.plan.tree import Plan

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo

# Whitespace matches no group and is dropped; "other" catches what EXPLAIN never prints.
_TOKEN = re.compile(
    r"""\s+|(?P<str>'(?:[^']|'')*')|(?P<qid>"(?:[^"]|"")*")|(?P<num>\d+(?:\.\d+)?)
    |(?P<param>\$\d+)|(?P<ident>[A-Za-z_][A-Za-z0-9_$]*)|(?P<cast>::)|(?P<punct>[()\[\],.])
    |(?P<op>[-+*/<>=~!@#%^&|?]+)|(?P<other>.)""",
    re.VERBOSE,
)
# Uppercase words followed by "(" that are syntax rather than a function wrapping a column.
_NOT_CALLS = frozenset({"ANY", "ALL", "SOME", "ARRAY", "ROW", "EXISTS", "IN", "NOT", "AND", "OR"})
_PATTERN_OPS = frozenset({"~~", "~~*", "~", "~*"})
_NEGATIONS = frozenset({"<>", "!=", "<> ALL", "!= ALL", "NOT", "IS DISTINCT FROM", "!~~", "!~"})
# Casts among these relabel the same bytes; a btree on the column still applies.
_TEXT_TYPES = frozenset({"text", "character varying", "varchar"})
# Nodes that pass their input's order on unchanged (a join, its outer input's).
_JOINS = ("Nested Loop", "Merge Join")
_ORDER_KEEPING = frozenset({*_JOINS, "Result", "Unique", "LockRows", "Subquery Scan",
    "Gather Merge", "Merge Append", "ProjectSet", "Materialize", "Group", "WindowAgg"})  # fmt: skip

#: How a plan's node sits under another of a different query level.
_OTHER_LEVEL = frozenset({"InitPlan", "SubPlan", "Subquery"})

Token = tuple[str, str]  # (kind, text)
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")


class _Condition:
    """One condition's tokens, with each bracket's partner, and what can be read from them."""

    def __init__(self, text: str) -> None:
        found = [match for match in _TOKEN.finditer(text) if match.lastgroup]
        self.text, self.spans = text, [match.span() for match in found]
        self.tokens: list[Token] = [(match.lastgroup or "", match.group()) for match in found]
        self.partner: dict[int, int] = {}
        stack: list[int] = []
        for i, (_, token) in enumerate(self.tokens):
            if token in ("(", "["):
                stack.append(i)
            elif token in (")", "]") and stack:
                j = stack.pop()
                self.partner[i], self.partner[j] = j, i

    def text_of(self, lo: int, hi: int) -> str:
        return self.text[self.spans[lo][0] : self.spans[hi - 1][1]]

    def strip(self, lo: int, hi: int) -> tuple[int, int]:
        """Drop parentheses that wrap the whole of ``tokens[lo:hi]``."""
        while hi - lo > 1 and self.tokens[lo][1] == "(" and self.partner.get(lo) == hi - 1:
            lo, hi = lo + 1, hi - 1
        return lo, hi

    def outside(self, lo: int, hi: int) -> Iterator[int]:
        """Indexes in ``[lo, hi)`` not inside a bracket pair (the opening one included)."""
        while lo < hi:
            yield lo
            lo = self.partner.get(lo, lo) + 1 if self.tokens[lo][1] in ("(", "[") else lo + 1

    def split(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Token ranges of the AND-ed parts of ``tokens[lo:hi]``, nested ANDs flattened."""
        lo, hi = self.strip(lo, hi)
        ands = [i for i in self.outside(lo, hi) if self.tokens[i] == ("ident", "AND")]
        if not ands:
            return [(lo, hi)] if hi > lo else []
        bounds = [lo - 1, *ands, hi]
        return [part for a, b in pairwise(bounds) for part in self.split(a + 1, b)]

    def is_call(self, i: int) -> bool:
        """Whether token ``i`` is the "(" that opens a function call's arguments."""
        kind, name = self.tokens[i - 1] if i and self.tokens[i][1] == "(" else ("", "")
        return kind == "ident" and name not in _NOT_CALLS and (name.islower() or name.isupper())

    def type_end(self, i: int) -> int:
        """The index just past the type name that starts at ``i`` (after a ``::``)."""
        tokens = self.tokens  # type names are lowercase or quoted; keywords are uppercase
        while i < len(tokens) and tokens[i][0] in ("qid", "ident") and not tokens[i][1].isupper():
            i += 1
        while i < len(tokens) and tokens[i][1] in ("(", "[") and i in self.partner:
            i = self.partner[i] + 1
        return i

    def normal(self, alias: str | None) -> list[tuple[str, int]]:
        """(text, index) of each token but parentheses: names unquoted, ``alias.`` dropped,
        a cast as one token (``::text``), so ``upper(role::text)`` is ``upper((role)::text)``."""
        out: list[tuple[str, int]] = []
        i = 0
        while i < len(self.tokens):
            token, step = self.tokens[i], 1
            if token[1] == "." and out and alias is not None and out[-1][0] == alias:
                out.pop()
            elif token[0] == "cast":
                step = self.type_end(i + 1) - i
                out.append(("::" + self.text_of(i + 1, i + step), i))
            elif token[1] not in ("(", ")"):
                out.append((_name(token), i))
            i += step
        return out

    def references(self, key: str, alias: str | None) -> list[tuple[int, int, str]]:
        """(first token, last token, the cast right after it or "") wherever ``key`` occurs:
        not as a function's name, nor qualified by another relation's alias."""
        want = [text for text, _ in _Condition(key).normal(None)]
        have = self.normal(alias)
        texts, n, found = [*(text for text, _ in have), ""], len(want), []
        for i in range(len(have) - n + 1):
            last = have[i + n - 1][1]
            called = last + 1 < len(self.tokens) and self.tokens[last + 1][1] == "("
            if texts[i : i + n] == want and not called and (i == 0 or texts[i - 1] != "."):
                cast = texts[i + n][2:] if texts[i + n].startswith("::") else ""
                found.append((have[i][1], last, cast))
        return found

    def operator(self) -> str:
        """The outermost operator: ``=``, ``<> ALL``, ``~~``, ``IS NOT NULL``, ``OR``, ``NOT``."""
        words = [self.tokens[i] for i in self.outside(*self.strip(0, len(self.tokens)))]
        if ("ident", "OR") in words or words[:1] == [("ident", "NOT")]:
            return "OR" if ("ident", "OR") in words else "NOT"
        for n, (kind, text) in enumerate(words):
            if kind == "op":
                follows = words[n + 1][1] if n + 1 < len(words) else ""
                return f"{text} {follows}" if follows in ("ANY", "ALL", "SOME") else text
            if text == "IS":
                return " ".join(t for k, t in words[n:] if k == "ident" and t.isupper())
        return ""

    def classify(self, key: str, alias: str | None, own: str | None) -> tuple[str, str] | None:
        """(kind, detail) when this Filter condition is on ``key`` (whose column's type is
        ``own`` when known), else None."""
        found = self.references(key, alias)
        if not found:
            return None
        (first, last, cast), operator = found[0], self.operator()
        calls = [j for j, k in self.partner.items() if j < first <= last < k and self.is_call(j)]
        # Same type but for its typmod, or varchar read as text: a relabel, not a real cast.
        bases = {re.sub(r"\(.*", "", name) for name in (cast, own or "text")}
        if operator == "OR":
            return "other", "OR"
        if calls and _column(key) is not None:
            return "function", self.tokens[min(calls) - 1][1].lower()
        if cast and len(bases) > 1 and not bases <= _TEXT_TYPES:
            return "cast", f"{own} -> {cast}" if own else cast
        if operator in _PATTERN_OPS or operator in _NEGATIONS:
            return ("pattern" if operator in _PATTERN_OPS else "operator"), operator
        return "other", operator


def conjuncts(text: str | None) -> list[str]:
    """The AND-ed sub-conditions of an EXPLAIN condition, outer parentheses removed; only
    top-level ANDs split, so an OR (or NOT) stays one sub-condition, whole."""
    cond = _Condition(text or "")
    return [cond.text_of(lo, hi) for lo, hi in cond.split(0, len(cond.tokens))]


def _name(token: Token) -> str:
    return token[1][1:-1].replace('""', '"') if token[0] == "qid" else token[1]


def _column(key: str) -> str | None:
    """The column a key names, unquoted; None for an expression key."""
    tokens = _Condition(key).tokens
    return _name(tokens[0]) if len(tokens) == 1 else None


def heap_of(node: PlanNode) -> PlanNode | None:
    """The Bitmap Heap Scan above a Bitmap Index Scan (through BitmapAnd/BitmapOr)."""
    parent = node.parent if node.node_type == "Bitmap Index Scan" else None
    while parent is not None and parent.node_type in ("BitmapAnd", "BitmapOr"):
        parent = parent.parent
    return parent if parent is not None and parent.node_type == "Bitmap Heap Scan" else None


def under_limit(node: PlanNode) -> bool:
    """Whether the scan's rows reach the statement's own Limit in the scan's order (no Sort
    between). A subquery's Limit does not count: the statement's ORDER BY is not its order
    (``SELECT ... FROM (SELECT ... LIMIT 1) s ORDER BY ...``: a Sort, a join or a Subquery
    Scan above it; a SubPlan's or InitPlan's Limit sits across their boundary)."""
    child, parent = node, node.parent
    while parent is not None and parent.node_type != "Limit":
        kind, outer = parent.node_type, parent.children[0] is child
        grouped = kind == "Aggregate" and parent.raw.get("Strategy") == "Sorted"
        if child.parent_relationship in _OTHER_LEVEL:
            return False
        if not (kind in _ORDER_KEEPING or grouped) or (kind in _JOINS and not outer):
            return False
        child, parent = parent, parent.parent
    if parent is None or child.parent_relationship in _OTHER_LEVEL:
        return False
    while parent.parent is not None:  # only a projection may sit above the statement's Limit
        if parent.parent_relationship in _OTHER_LEVEL or parent.parent.node_type != "Result":
            return False
        parent = parent.parent
    return True


def ordered_walk(node: PlanNode) -> bool:
    """An index walked whole (no Index Cond) whose rows reach a Limit in its order: it
    delivers an ORDER BY and stops at the LIMIT (the statement must have the ORDER BY)."""
    walks = node.node_type in ("Index Scan", "Index Only Scan")
    return walks and node.index_cond is None and under_limit(node)


def service(
    node: PlanNode,
    keys: Sequence[str],
    *,
    partial: bool = False,
    column_types: Mapping[str, str] | None = None,
    method: str = "btree",
) -> Service:
    """Judge one scan of an index; ``keys`` are its key columns or expressions, as the
    catalog gives them (``pg_get_indexdef(oid, k, true)``); ``column_types`` (column to
    type, optional) names both sides of a cast and tells a relabel from a real cast."""
    keys = tuple(keys)
    heap = heap_of(node)
    alias = node.alias or (heap.alias if heap is not None else None)
    filter_text = heap.filter if heap is not None else node.filter
    cond_parts = [_Condition(text) for text in conjuncts(node.index_cond)]
    in_cond = tuple(k for k in keys if any(c.references(k, alias) for c in cond_parts))
    causes: list[Cause] = []
    filtered: set[str] = set()
    for text in conjuncts(filter_text):
        condition, on_keys = _Condition(text), []
        for key in keys:
            column = _column(key)
            own = (column_types or {}).get(column) if column else None
            found = condition.classify(key, alias, own)
            if found is not None:
                on_keys.append((key, column, found))
        # A condition on keys the Index Cond already searched narrows rows the index
        # found (a week day within a searched range, ``<>`` on a searched column, a
        # LIKE's recheck after its prefix range, a GIN key's other operator): nothing was
        # left to the Filter that the index should have searched. Only an unsearched key
        # in it is.
        for key, column, (kind, detail) in on_keys:
            if key not in in_cond:
                causes.append(Cause(column or key, kind, text, detail))
                filtered.add(key)
    full_walk = node.index_cond is None
    walks = node.node_type in ("Index Scan", "Index Only Scan")
    return Service(
        index_name=node.index_name or "",
        node=node,
        heap=heap,
        index_cond=node.index_cond,
        filter=filter_text,
        keys=keys,
        keys_in_cond=in_cond,
        keys_in_filter=tuple(k for k in keys if k in filtered),
        full_walk=full_walk,
        ordered_limit=full_walk and walks and under_limit(node),
        partial=partial,
        causes=tuple(causes),
        skips_leading_key=bool(keys) and bool(in_cond) and keys[0] not in in_cond,
        method=method,
    )


def skips_leading_key(node: PlanNode, info: IndexInfo) -> bool:
    """A btree scan whose Index Cond does not search the index's first key: the whole index
    is read (PostgreSQL 18's skip scan jumps between leading values; plain EXPLAIN prints
    the same plan on 15 and 18). The fast answer first: the leading column named."""
    if info.method != "btree" or not node.index_cond or not info.columns:
        return False
    pattern = _named(info.columns[0])
    if pattern is not None and pattern.search(node.index_cond):
        return False
    return service(
        node, info.columns, partial=info.is_partial, method=info.method
    ).skips_leading_key


def index_scans(plan: Plan, names: Collection[str]) -> list[PlanNode]:
    """Every scan of an index named in ``names`` (a partitioned index's attached ones too,
    when the caller includes them), in plan order."""
    wanted = {names} if isinstance(names, str) else set(names)
    return [node for node in plan.nodes() if node.index_name in wanted]


def plainly_served(node: PlanNode, info: IndexInfo) -> bool:
    """Served without reading the conditions: an Index Cond that names the leading key
    (any key, for a method without one), and no Filter on the scan or its heap. Anything
    else goes through ``service``, which reads them."""
    if not node.index_cond or node.filter is not None:
        return False
    heap = heap_of(node)
    if heap is not None and heap.filter is not None:
        return False
    if info.method != "btree":
        return True
    pattern = _named(info.columns[0] if info.columns else "")
    # None: an expression key; let service() compare it.
    return pattern is not None and pattern.search(node.index_cond) is not None


@functools.lru_cache(maxsize=256)
def _named(column: str) -> re.Pattern[str] | None:
    """The column as a whole name (bare or quoted, not another relation's) in a condition."""
    if not _PLAIN_NAME.fullmatch(column):
        return None
    return re.compile(rf'(?<![\w."])"?{re.escape(column)}"?(?![\w"])')


_RETURNS = re.compile(r" \(returns [^)]*\)$")


def scan_place(node: PlanNode) -> str | None:
    """Where a scan sits, for a failure that must name one scan among several of the same
    index: the nearest InitPlan, SubPlan or CTE ("InitPlan 1", the same on 15 and 18), the
    branch of an Append (a UNION's, or a partition's), and the alias it reads the table as.
    None for a scan of the statement's own main query under its table's own name."""
    start = heap_of(node) or node
    parts: list[str] = []
    child, parent = start, start.parent
    while parent is not None:
        name = child.subplan_name
        if name and not any(part.startswith(("InitPlan", "SubPlan", "CTE")) for part in parts):
            parts.append(_RETURNS.sub("", name))
        if child.parent_relationship == "Member" and not any("branch" in p for p in parts):
            number = next(i for i, c in enumerate(parent.children, 1) if c is child)
            parts.insert(0, f"branch {number} of {parent.node_type}")
        child, parent = parent, parent.parent
    alias = start.alias
    if alias and (parts or alias != start.relation_name):
        parts.append(f"alias {alias}")
    return ", ".join(parts) or None


# Where a join compares a relation's column with another's.
_JOIN_CONDITIONS = ("Index Cond", "Join Filter", "Hash Cond", "Merge Cond", "Recheck Cond")


def join_key(node: PlanNode, info: IndexInfo) -> str | None:
    """Where the index's leading key is compared with another relation's column when the
    scan itself does not search it: ``"<node>: <condition>"`` from another node of the plan
    (a pk lookup's ``(id = upstream_userprofile.customer_id)``, a Hash Cond), or None.
    The key is then reachable through a parameterised scan the planner did not choose."""
    column = _column(info.columns[0]) if info.method == "btree" and info.columns else None
    start = heap_of(node) or node
    alias = start.alias or start.relation_name
    if column is None or not alias:
        return None
    pattern = re.compile(
        rf'(?<![\w."]){re.escape(alias)}\."?{re.escape(column)}"?(?![\w"])'
        rf'|(?<![\w."])"{re.escape(alias)}"\."?{re.escape(column)}"?(?![\w"])'
    )
    for other in _other_nodes(node, start):
        for key in _JOIN_CONDITIONS:
            text = other.raw.get(key)
            if text and pattern.search(text):
                return f"{other.label}: {key} {text}"
    return None


# Which child of a join may be read by a scan parameterised by the other child's rows, by
# join type (PostgreSQL prints the outer child first): either child of an inner join; only
# the nullable side of an outer join; the looked-up side of a semi or anti join. A FULL
# join allows neither.
_PARAMETERISABLE = {
    "Inner": (0, 1),
    "Left": (1,),
    "Semi": (1,),
    "Anti": (1,),
    "Right": (0,),
    "Right Semi": (0,),
    "Right Anti": (0,),
}
#: How a child sits under its parent within one query level (not a SubPlan, an InitPlan,
#: a subquery's scan or an Append's member: a parameter cannot reach across those).
_SAME_LEVEL = frozenset({"Outer", "Inner"})
_SCANS = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"})
#: The nodes a join's parameter passes through on its way down to a scan. Anything else
#: between (an Aggregate, a Unique, a Limit, a WindowAgg, a SetOp, a Sort: a grouped,
#: DISTINCT, limited or ordered subquery the planner kept whole, whose Subquery Scan may
#: have been removed from the plan; a Gather's workers) computes its rows before any join
#: condition can reach the scan. A Sort under a Merge Join is left out with them: the
#: proof then fails, and the check keeps the plan's own answer.
_PASS_THROUGH = frozenset(
    {"Nested Loop", "Hash Join", "Merge Join", "Hash", "Memoize", "Materialize"}
)
#: Nodes the planner adds itself below a join (a semi join's lookup made unique, a merge
#: join's sorted input): they pass a parameter when no subquery of the statement is kept
#: whole (``rules.keeps_subqueries_whole``).
_PLANNERS_OWN = frozenset({"Aggregate", "Unique", "Sort", "Incremental Sort"})


def _other_nodes(node: PlanNode, start: PlanNode) -> Iterator[PlanNode]:
    """Every node of ``node``'s plan, top down, but the scan itself (``node``, and
    ``start``, its Bitmap Heap Scan where it has one)."""
    root = node
    while root.parent is not None:
        root = root.parent
    stack = [root]
    while stack:
        other = stack.pop()
        stack.extend(reversed(other.children))
        if other is not node and other is not start:
            yield other


def parameterised_search(
    node: PlanNode, info: IndexInfo, *, planners_own: bool = False
) -> str | None:
    """The condition a parameterised scan of ``info`` would search its leading key by, when
    the plan proves PostgreSQL's planner can build that scan whatever the statistics, or None.

    The proof, read from the plan: another node compares the index's leading column, bare
    (no cast or function on it), with ``=`` to a column of another table read in the same
    query level (``id = upstream_userprofile.customer_id`` in a primary-key lookup, or a
    Hash Cond), and the join that brings the two together lets this scan's side be
    parameterised by the other's (an inner join; the nullable side of an outer join; the
    inner side of a semi or anti join). For such a clause the planner always makes an index
    path searched by it (a btree, the column as its leading key), and either table of an
    inner join can be read first: whether it picks that path is a question of row counts,
    which forced mode does not ask. Between the scan and that join only nodes a parameter
    passes may stand (:data:`_PASS_THROUGH`); ``planners_own``, when the statement has no
    subquery kept whole, adds the Aggregate, Unique and Sort nodes the planner makes itself
    (a semi join's lookup made unique). Returns ``"customer_id = upstream_customer.id"``."""
    column = _column(info.columns[0]) if info.method == "btree" and info.columns else None
    start = heap_of(node) or node
    alias = start.alias or start.relation_name
    if column is None or not alias or not _plain_leading_key(info.definition):
        return None
    passes = _PASS_THROUGH | (_PLANNERS_OWN if planners_own else frozenset())
    for holder in _other_nodes(node, start):
        for key in _JOIN_CONDITIONS:
            for part in conjuncts(holder.raw.get(key)):
                other = _equated(part, alias, column)
                if other is None:
                    continue
                other_alias, other_text = other
                scan = _scan_of(holder, other_alias)
                if scan is not None and scan is not start and _joinable(start, scan, passes):
                    if other_alias is None and _PLAIN_NAME.fullmatch(other_text):
                        other_text = f"{scan.alias or scan.relation_name}.{other_text}"
                    return f"{column} = {other_text}"
    return None


#: What may follow a key column in an index's definition without changing which
#: comparisons it can search (its order only).
_ORDER_WORDS = frozenset({"ASC", "DESC", "NULLS", "FIRST", "LAST"})


def _plain_leading_key(definition: str) -> bool:
    """Whether the first key of ``CREATE INDEX ... USING btree (key, ...)`` is a column with
    the column's own collation and the default operator class: an equi-join compares it
    with those (a ``COLLATE "C"`` key or ``text_pattern_ops`` is searched by other rules)."""
    cond = _Condition(definition)
    tokens = cond.tokens
    using = next((i for i, t in enumerate(tokens) if t == ("ident", "USING")), None)
    if using is None or using + 2 >= len(tokens) or tokens[using + 2][1] != "(":
        return False
    lo, hi = using + 3, cond.partner.get(using + 2, using + 2)
    end = next((i for i in cond.outside(lo, hi) if tokens[i][1] == ","), hi)
    words = tokens[lo:end]
    if not words or words[0][0] not in ("ident", "qid"):
        return False
    return all(kind == "ident" and text in _ORDER_WORDS for kind, text in words[1:])


def _equated(part: str, alias: str, column: str) -> tuple[str | None, str] | None:
    """(the other side's alias, None for the holder's own table; its text) when ``part``
    is ``alias.column = <another table's column>`` either way round."""
    cond = _Condition(part)
    lo, hi = cond.strip(0, len(cond.tokens))
    ops = [i for i in cond.outside(lo, hi) if cond.tokens[i][0] == "op"]
    if len(ops) != 1 or cond.tokens[ops[0]][1] != "=":
        return None
    sides = [cond.strip(lo, ops[0]), cond.strip(ops[0] + 1, hi)]
    for mine, theirs in (sides, sides[::-1]):
        if _ref(cond, *mine) != (alias, column):
            continue
        ref = _ref(cond, *theirs, cast_ok=True)
        if ref is None or ref[0] == alias:
            return None
        return ref[0], cond.text_of(*theirs)
    return None


def _ref(
    cond: _Condition, lo: int, hi: int, cast_ok: bool = False
) -> tuple[str | None, str] | None:
    """(alias or None, column) when ``tokens[lo:hi]`` is a plain column reference (with a
    cast after it when ``cast_ok``: the other side may be cast, the index's key may not)."""
    tokens = cond.tokens
    if cast_ok:
        at = next((i for i in range(lo, hi) if tokens[i][0] == "cast"), None)
        if at is not None and cond.type_end(at + 1) == hi:
            lo, hi = cond.strip(lo, at)
    names = tokens[lo:hi]
    if len(names) == 1 and _is_name(names[0]):
        return None, _name(names[0])
    if len(names) == 3 and names[1][1] == "." and _is_name(names[0]) and _is_name(names[2]):
        return _name(names[0]), _name(names[2])
    return None


def _is_name(token: Token) -> bool:
    """A column's or a relation's name (EXPLAIN prints keywords, NULL, TRUE, in capitals)."""
    return token[0] == "qid" or (token[0] == "ident" and not token[1].isupper())


def _scan_of(holder: PlanNode, alias: str | None) -> PlanNode | None:
    """The scan of a table that ``alias`` names in ``holder``'s condition: the holder
    itself for its own unqualified column, else a scan below it in the same query level."""
    if alias is None:
        return holder if holder.node_type in _SCANS and holder.relation_name else None
    stack = [holder]
    while stack:
        current = stack.pop()
        if current.node_type in _SCANS and current.relation_name:
            if (current.alias or current.relation_name) == alias:
                return current
        stack.extend(c for c in current.children if c.parent_relationship in _SAME_LEVEL)
    return None


def _joinable(mine: PlanNode, theirs: PlanNode, passes: frozenset[str]) -> bool:
    """Whether the join that brings two scans together lets ``mine`` be parameterised by
    ``theirs``: both reach it within one query level, through no FULL join, ``mine`` only
    through nodes a parameter passes (``passes``), on a side
    :data:`_PARAMETERISABLE` allows."""
    above: dict[int, PlanNode] = {}  # ancestor id -> the child of it on mine's path
    child, parent = mine, mine.parent
    while parent is not None:
        if child.parent_relationship not in _SAME_LEVEL:
            break
        above[id(parent)] = child
        if parent.node_type not in passes:
            break  # the scan's rows are computed whole below here: no parameter reaches it
        child, parent = parent, parent.parent
    child, parent = theirs, theirs.parent
    while parent is not None and child.parent_relationship in _SAME_LEVEL:
        if id(parent) in above:
            if parent.node_type not in _JOIN_NODES:
                return False
            sides = _PARAMETERISABLE.get(parent.raw.get("Join Type", ""), ())
            mine_side = above[id(parent)]
            return (
                len(parent.children) == 2
                and parent.children.index(mine_side) in sides
                and (_no_full_join(mine, parent) and _no_full_join(theirs, parent))
            )
        # The other side may be aggregated, made unique (a semi join's lookup) or limited
        # before the join: its rows, whatever made them, can drive a parameterised scan.
        child, parent = parent, parent.parent
    return False


_JOIN_NODES = frozenset({"Nested Loop", "Hash Join", "Merge Join"})


def _no_full_join(node: PlanNode, top: PlanNode) -> bool:
    current = node.parent
    while current is not None and current is not top:
        if current.raw.get("Join Type") == "Full":
            return False
        current = current.parent
    return True
