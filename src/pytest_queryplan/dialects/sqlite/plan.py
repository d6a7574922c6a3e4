"""SQLite ``EXPLAIN QUERY PLAN`` rows -> the plugin's plan model (PostgreSQL JSON vocabulary).

    normalise(rows, sql=None, *, aliases=None, filters=None, ...) -> {"Plan": {...}}

``rows`` are what ``cursor.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()``
returns: ``(id, parent, notused, detail)``. SQLite prints no conditions besides the
searched index terms, names the *alias* rather than the table, and says nothing of LIMIT,
so the statement's text (``sql``) is the second input: it gives alias -> table, the top
level LIMIT, and the WHERE / ON conditions each scan must check (its ``Filter``).

Mapping (details in REPORT.md):

=========================================================  ================================
SQLite detail                                              canonical node
=========================================================  ================================
SCAN t                                                     Seq Scan (Filter from the SQL)
SCAN t USING INDEX i                                       Index Scan, no Index Cond (walk)
SCAN t USING COVERING INDEX i                              Index Only Scan, no Index Cond
SEARCH t USING INDEX i (a=? AND b>?)                       Index Scan, Index Cond "(a=? AND b>?)"
SEARCH t USING COVERING INDEX i (a=?)                      Index Only Scan, Index Cond
SEARCH t USING COVERING INDEX i   (no terms: min/max)      Limit -> Index Only Scan
SEARCH t USING INTEGER PRIMARY KEY (rowid=?)               Index Scan using "<t> rowid"
SEARCH t USING [PARTIAL] AUTOMATIC [COVERING] INDEX (a=?)  Seq Scan + "Automatic Index": true
                                                           (no Index Name: not a schema index)
MULTI-INDEX OR / INDEX n / SEARCH ...                      Bitmap Heap Scan -> BitmapOr ->
                                                           Bitmap Index Scan per term
several SCAN/SEARCH at one level                           Nested Loop (left-deep), "LEFT-JOIN"
                                                           -> Join Type "Left"
USE TEMP B-TREE FOR ORDER BY                               Sort
USE TEMP B-TREE FOR RIGHT PART|LAST TERM OF ORDER BY       Incremental Sort
USE TEMP B-TREE FOR GROUP BY                               Aggregate (Strategy Sorted) -> Sort
USE TEMP B-TREE FOR DISTINCT                               Unique
[CORRELATED] SCALAR|LIST SUBQUERY n                        child, Parent Relationship SubPlan
                                                           (InitPlan if not correlated)
MATERIALIZE x / CO-ROUTINE x  + SCAN x                     Subquery Scan x -> (Materialize ->) plan
COMPOUND QUERY (UNION ALL / UNION / INTERSECT / EXCEPT)    Append / Unique->Append / SetOp->Append
MERGE (UNION [ALL]) LEFT / RIGHT                           (Unique ->) Merge Append
SCAN CONSTANT ROW                                          Result
anything else                                              Result with "SQLite Detail"
=========================================================  ================================

Every node keeps "SQLite Detail" (the row's text) and "SQLite Id". Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_queryplan.dialects import sqlscan

ROWID_INDEX = "{table} rowid"
PRIMARY_KEY_INDEX = "{table} primary key"  # WITHOUT ROWID tables' own b-tree

_SCAN = re.compile(
    r"^(?P<op>SCAN|SEARCH) (?P<name>\(subquery-\d+\)|\S+)"
    r"(?: USING (?P<how>(?:AUTOMATIC (?:PARTIAL )?)?(?:COVERING )?INDEX|INTEGER PRIMARY KEY"
    r"|PRIMARY KEY)(?: (?P<index>(?!\()\S+))?)?"
    r"(?: \((?P<cond>.*)\))?(?P<suffix>(?: (?:LEFT|RIGHT)-JOIN)*)$"
)
_SUBQUERY = re.compile(r"^(?P<corr>CORRELATED )?(?P<kind>SCALAR|LIST) SUBQUERY (?P<n>\d+)$")
_DEFINE = re.compile(r"^(?P<kind>MATERIALIZE|CO-ROUTINE) (?P<name>.+)$")
_BLOOM = re.compile(r"^BLOOM FILTER ON (?P<name>\S+) \((?P<cond>.*)\)$")
_COND_COLUMN = re.compile(r"(?:ANY\()?(?P<col><expr>|[A-Za-z_][\w$]*)\)?\s*(?:=|<|>|<=|>=|IS|IN)")


def normalise(
    rows: Sequence[Sequence[Any]],
    sql: str | None = None,
    *,
    aliases: Mapping[str, str | None] | None = None,
    filters: Mapping[str, str] | None = None,
    rowid_columns: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The canonical ``{"Plan": root}`` tree for one statement's EXPLAIN QUERY PLAN rows.

    ``sql``: the statement (placeholders allowed). Used for ``aliases`` (when not given),
    a top-level LIMIT (a Limit node on top) and each scan's Filter (when ``filters`` is
    not given). ``aliases``: alias -> table, overriding what ``sql`` says (None = the alias
    names two tables: the node then gets no Relation Name). ``filters``: alias ->
    condition text, used verbatim as those scans' Filter. ``rowid_columns``: table -> the
    column that aliases rowid (default "id", Django's AutoField), so a condition on it
    counts as searched by ``INTEGER PRIMARY KEY``.
    """
    rows = [tuple(r) for r in rows]
    if aliases is None:
        aliases = sqlscan.aliases(sql) if sql else {}
    builder = _Builder(rows, aliases)
    root = builder.level(0) or {"Node Type": "Result"}
    if filters is not None:
        for node in builder.scans:
            text = filters.get(node.get("Alias", ""))
            if text:
                node["Filter"] = text
    elif sql:
        _attribute_conditions(sql, builder.scans, rowid_columns or {})
    if sql and sqlscan.has_top_level_limit(sql) and root.get("Node Type") != "Limit":
        root = {"Node Type": "Limit", "Plans": [root]}
    target = sqlscan.statement_target(sql) if sql else None
    if target is not None:
        # SQLite prints no node for the write itself, only the reads it needs.
        modify: dict[str, Any] = {
            "Node Type": "ModifyTable",
            "Operation": target[0],
            "Relation Name": target[1],
            "Alias": target[1],
        }
        if root.get("Node Type") != "Result" or "SQLite Detail" in root:
            modify["Plans"] = [root]
        root = modify
    stack = [root]
    while stack:  # drop the builder's private keys from every node
        node = stack.pop()
        if "SQLite Detail" in node:
            node["Source"] = node["SQLite Detail"]
        for key in [k for k in node if k.startswith("_")]:
            del node[key]
        stack.extend(node.get("Plans", []))
    return {"Plan": root}


class _Builder:
    def __init__(self, rows: list[tuple], aliases: Mapping[str, str | None]) -> None:
        self.children: dict[int, list[tuple]] = {}
        for row in rows:
            self.children.setdefault(row[1], []).append(row)
        self.aliases = aliases
        self.scans: list[dict[str, Any]] = []  # every node that reads a table or index
        self.defined: dict[str, dict[str, Any]] = {}

    # -- one level: the rows sharing a parent -----------------------------------------
    def level(self, parent: int) -> dict[str, Any] | None:
        loop: list[dict[str, Any]] = []
        subplans: list[dict[str, Any]] = []
        modifiers: list[str] = []
        blooms: dict[str, str] = {}
        for row in self.children.get(parent, []):
            rid, detail = row[0], row[3]
            if detail == "COMPOUND QUERY":
                loop.append(self.compound(rid, detail))
            elif detail.startswith("MERGE ("):
                loop.append(self.merge(rid, detail))
            elif m := _DEFINE.match(detail):
                sub = self.level(rid) or {"Node Type": "Result"}
                if m["kind"] == "MATERIALIZE":
                    sub = {"Node Type": "Materialize", "Plans": [sub]}
                self.defined[m["name"]] = sub
            elif m := _SUBQUERY.match(detail):
                sub = self.level(rid) or {"Node Type": "Result"}
                init = not m["corr"] and m["kind"] == "SCALAR"
                sub["Parent Relationship"] = "InitPlan" if init else "SubPlan"
                sub["Subplan Name"] = f"{'InitPlan' if init else 'SubPlan'} {m['n']}"
                sub.setdefault("SQLite Detail", detail)
                subplans.append(sub)
            elif detail == "MULTI-INDEX OR":
                loop.append(self.multi_or(rid, detail))
            elif detail.startswith("USE TEMP B-TREE FOR "):
                modifiers.append(detail[len("USE TEMP B-TREE FOR ") :])
            elif detail == "SCAN CONSTANT ROW":
                loop.append(self._mark({"Node Type": "Result"}, row))
            elif m := _BLOOM.match(detail):
                blooms[m["name"]] = m["cond"]
            elif m := _SCAN.match(detail):
                node = self.scan(m, row)
                if node.get("Alias") in blooms:
                    node["Bloom Filter"] = "(" + blooms.pop(node["Alias"]) + ")"
                loop.append(node)
            else:
                node = self._mark({"Node Type": "Result"}, row)
                kids = self.level(rid)
                if kids is not None:
                    node["Plans"] = [kids]
                loop.append(node)
        if not loop and not subplans:
            return None
        root = self.nested_loop(loop) if loop else {"Node Type": "Result"}
        if subplans:
            root.setdefault("Plans", []).extend(subplans)
        for what in modifiers:
            root = _modify(root, what)
        return root

    def nested_loop(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        node = items[0]
        for inner in items[1:]:
            join = inner.pop("_join", None)
            node = {
                "Node Type": "Nested Loop",
                "Join Type": join or "Inner",
                "Plans": [node, inner],
            }
        items[0].pop("_join", None)
        return node

    def scan(self, m: re.Match, row: tuple) -> dict[str, Any]:
        name, how, index, cond = m["name"], m["how"], m["index"], m["cond"]
        node: dict[str, Any] = {}
        if name in self.defined or name.startswith("(subquery-"):
            node["Node Type"] = "Subquery Scan"
            node["Alias"] = name
            sub = self.defined.pop(name, None)
            if sub is not None:
                node["Plans"] = [sub]
            if how and how.startswith("AUTOMATIC"):
                node["Automatic Index"] = True
                node["Automatic Index Cond"] = f"({cond})" if cond else None
            return self._mark(node, row)
        table = self.aliases.get(name, name)  # None: the alias names two tables
        node["Node Type"] = "Seq Scan"
        if table is not None:
            node["Relation Name"] = table
        node["Alias"] = name
        limit = False
        if how is None:
            if m["op"] == "SEARCH":  # rowid b-tree seek without terms: min()/max() of the rowid
                node["Node Type"] = "Index Scan"
                node["Index Name"] = ROWID_INDEX.format(table=table or name)
                limit = cond is None
        elif how.startswith("AUTOMATIC"):
            node["Automatic Index"] = True  # built for this statement: no schema index
            node["Automatic Index Kind"] = how
            if cond:
                node["Automatic Index Cond"] = f"({cond})"
        elif how == "INTEGER PRIMARY KEY" or how == "PRIMARY KEY":
            template = ROWID_INDEX if how == "INTEGER PRIMARY KEY" else PRIMARY_KEY_INDEX
            node["Node Type"] = "Index Scan"
            node["Index Name"] = template.format(table=table or name)
        else:
            node["Node Type"] = "Index Only Scan" if "COVERING" in how else "Index Scan"
            node["Index Name"] = index
            limit = m["op"] == "SEARCH" and cond is None  # min()/max(): one entry read
        if cond and not node.get("Automatic Index"):
            node["Index Cond"] = f"({cond})"
        if m["suffix"]:
            node["_join"] = "Left" if "LEFT-JOIN" in m["suffix"] else "Right"
        self._mark(node, row)
        self.scans.append(node)
        if limit:
            node["Min/Max"] = True
            return {"Node Type": "Limit", "Plans": [node]}
        return node

    def multi_or(self, rid: int, detail: str) -> dict[str, Any]:
        parts = []
        alias = None
        for index_row in self.children.get(rid, []):
            for row in self.children.get(index_row[0], []):
                m = _SCAN.match(row[3])
                if not m:
                    continue
                node = self.scan(m, row)
                self.scans.remove(node)
                alias = node.get("Alias")
                node["Node Type"] = "Bitmap Index Scan"
                for key in ("Relation Name", "Alias"):
                    node.pop(key, None)
                node["Parent Relationship"] = "Member"
                parts.append(node)
        heap: dict[str, Any] = {"Node Type": "Bitmap Heap Scan"}
        if alias is not None:
            table = self.aliases.get(alias, alias)
            if table is not None:
                heap["Relation Name"] = table
            heap["Alias"] = alias
        heap["Plans"] = [{"Node Type": "BitmapOr", "Plans": parts}]
        heap["SQLite Detail"] = detail
        heap["SQLite Id"] = rid
        heap["_order"] = rid
        heap["_cond_columns"] = set().union(*(_cond_columns(p.get("Index Cond")) for p in parts))
        self.scans.append(heap)
        return heap

    def compound(self, rid: int, detail: str) -> dict[str, Any]:
        parts, ops = [], []
        for row in self.children.get(rid, []):
            sub = self.level(row[0]) or {"Node Type": "Result"}
            sub.setdefault("SQLite Detail", row[3])
            parts.append(sub)
            if row[3] != "LEFT-MOST SUBQUERY":
                ops.append(row[3])
        node: dict[str, Any] = {"Node Type": "Append", "Plans": parts, "SQLite Detail": detail}
        last = ops[-1] if ops else "UNION ALL"
        if last.startswith("INTERSECT") or last.startswith("EXCEPT"):
            command = "Intersect" if last.startswith("INTERSECT") else "Except"
            return {"Node Type": "SetOp", "Command": command, "Strategy": "Hashed", "Plans": [node]}
        if any(op.startswith("UNION USING") for op in ops):
            return {"Node Type": "Unique", "Plans": [node]}
        return node

    def merge(self, rid: int, detail: str) -> dict[str, Any]:
        parts = []
        for row in self.children.get(rid, []):
            sub = self.level(row[0]) or {"Node Type": "Result"}
            sub.setdefault("SQLite Detail", row[3])
            parts.append(sub)
        node = {"Node Type": "Merge Append", "Plans": parts, "SQLite Detail": detail}
        if detail == "MERGE (UNION)":
            return {"Node Type": "Unique", "Plans": [node]}
        return node

    @staticmethod
    def _mark(node: dict[str, Any], row: tuple) -> dict[str, Any]:
        node["SQLite Detail"] = row[3]
        node["SQLite Id"] = row[0]
        node["_order"] = row[0]
        return node


def _modify(root: dict[str, Any], what: str) -> dict[str, Any]:
    if what == "ORDER BY":
        return {
            "Node Type": "Sort",
            "Plans": [root],
            "SQLite Detail": "USE TEMP B-TREE FOR ORDER BY",
        }
    if what.endswith("OF ORDER BY"):  # RIGHT PART OF / LAST TERM OF: input partly sorted
        return {
            "Node Type": "Incremental Sort",
            "Plans": [root],
            "SQLite Detail": f"USE TEMP B-TREE FOR {what}",
        }
    if what == "GROUP BY":
        sort = {
            "Node Type": "Sort",
            "Plans": [root],
            "SQLite Detail": "USE TEMP B-TREE FOR GROUP BY",
        }
        return {"Node Type": "Aggregate", "Strategy": "Sorted", "Plans": [sort]}
    if what == "DISTINCT":
        return {
            "Node Type": "Unique",
            "Plans": [root],
            "SQLite Detail": "USE TEMP B-TREE FOR DISTINCT",
        }
    return {"Node Type": "Sort", "Plans": [root], "SQLite Detail": f"USE TEMP B-TREE FOR {what}"}


def _cond_columns(cond: str | None) -> set[str]:
    """Columns an index term list names: "(customer_id=? AND role>?)" -> {customer_id, role}."""
    if not cond:
        return set()
    return {m["col"].lower() for m in _COND_COLUMN.finditer(cond)}


def _normal_condition(tokens: list[sqlscan.Token]) -> str:
    """A condition as the plugin's condition reader expects: LIKE as ~~, no ESCAPE."""
    out: list[sqlscan.Token] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        up = text.upper() if kind == "ident" else ""
        if up == "ESCAPE" and i + 1 < len(tokens) and tokens[i + 1][0] == "str":
            i += 2
            continue
        if up == "NOT" and i + 1 < len(tokens) and tokens[i + 1][1].upper() == "LIKE":
            out.append(("op", "!~~"))
            i += 2
            continue
        if up == "LIKE":
            out.append(("op", "~~"))
        else:
            out.append((kind, text.upper() if up in _UPPER_WORDS else text))
        i += 1
    return sqlscan.render(out)


_UPPER_WORDS = frozenset({"AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "EXISTS"})


def _attribute_conditions(
    sql: str, scans: list[dict[str, Any]], rowid_columns: Mapping[str, str]
) -> None:
    """Give each scan the WHERE / ON conditions it has to check row by row.

    A condition naming several aliases is checked where the last of them is read (the
    inner side of the loop); an unqualified one belongs to the only table of its SELECT.
    A SEARCH consumes the conditions on the columns of its index terms; the rest are its
    Filter. When one alias is read by several nodes (Django reuses U0 in sibling
    subqueries), each of them gets the condition: more Filters, never fewer.
    """
    order: dict[str, int] = {}
    for node in scans:
        alias = node.get("Alias")
        if alias is not None:
            order[alias] = max(order.get(alias, -1), node["_order"])
    per_select = sqlscan.tables_per_select(sql)
    # One alias read in several SELECTs (UNION branches, Django's U0 in sibling
    # subqueries): pair the k-th SELECT naming it with the k-th node reading it, in
    # text order and plan order, when the counts agree.
    scope_of: dict[int, int] = {}
    for alias in order:
        nodes = sorted((n for n in scans if n.get("Alias") == alias), key=lambda n: n["_order"])
        scopes = sorted(s for s, names in per_select.items() if alias in names)
        if len(nodes) > 1 and len(nodes) == len(scopes):
            for node, scope in zip(nodes, scopes, strict=False):
                scope_of[id(node)] = scope
    wanted: dict[str, list[tuple[list[sqlscan.Token], int]]] = {}
    for tokens, refs, scope in sqlscan.conditions(sql):
        refs = {r for r in refs if r in order}
        if not refs:
            in_scope = per_select.get(scope, [])
            if (
                len(in_scope) == 1
                and in_scope[0] in order
                and sqlscan.referenced_columns(tokens, None)
            ):
                refs = {in_scope[0]}
            else:
                continue
        target = max(refs, key=lambda a: order[a])
        wanted.setdefault(target, []).append((tokens, scope))
    for node in scans:
        alias = node.get("Alias")
        conds = wanted.get(alias or "", [])
        if not conds:
            continue
        table = node.get("Relation Name") or alias
        covered = node.get("_cond_columns")
        if covered is None:
            covered = _cond_columns(node.get("Index Cond") or node.get("Automatic Index Cond"))
        if "rowid" in covered:
            covered = covered | {rowid_columns.get(table, "id").lower()}
        kept = []
        for tokens, scope in conds:
            if id(node) in scope_of and scope_of[id(node)] != scope:
                continue
            columns = sqlscan.referenced_columns(tokens, alias)
            if columns and columns <= covered:
                continue
            if "<expr>" in covered and any(
                t[1] == "(" and i and tokens[i - 1][0] == "ident" for i, t in enumerate(tokens)
            ):
                continue  # an expression index's term: assume it is this function call
            kept.append(_normal_condition(tokens))
        if kept:
            node["Filter"] = kept[0] if len(kept) == 1 else " AND ".join(f"({k})" for k in kept)
