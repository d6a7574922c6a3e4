"""MariaDB ``EXPLAIN FORMAT=JSON`` / ``ANALYZE FORMAT=JSON`` -> the plugin's plan model.

    normalise(explain_json, sql=None, *, aliases=None) -> {"Plan": {...}}

The canonical vocabulary is PostgreSQL's EXPLAIN (FORMAT JSON) keys. Written against
MariaDB 10.11's output (sql/sql_explain.cc); MySQL's JSON differs and is not handled.

``table_name`` in MariaDB's JSON is the *alias* when the statement gives one (``m``,
``U0``, ``T3``), so the statement text (``sql``) or an ``aliases`` map is needed to name the
table; the JSON also says nothing of LIMIT, so a top-level LIMIT in ``sql`` puts a Limit
node on top (as PostgreSQL's plan would have).

Mapping (details and reasons in REPORT.md):

==============================================  =============================================
MariaDB                                         canonical node
==============================================  =============================================
table, access_type ALL (or system)              Seq Scan, Filter = attached_condition
table, access_type index                        Index Scan / Index Only Scan (using_index),
                                                no Index Cond (whole-index walk)
const, eq_ref, ref, ref_or_null, range,          Index Scan / Index Only Scan, Index Cond from
unique_subquery, index_subquery, fulltext       used_key_parts + ref / the range conditions
index_merge (union / sort_union)                Bitmap Heap Scan -> BitmapOr -> Bitmap Index Scan
index_merge (intersect / sort_intersect)        Bitmap Heap Scan -> BitmapAnd -> ...
nested_loop with n tables                       left-deep Nested Loop (Join Type from the SQL
                                                is not known: Inner)
block-nl-join (BNL / BNLH / BKA)                the inner table's node, "Join Buffer" recorded,
                                                its attached_condition a "Join Filter" on the loop
filesort / read_sorted_file                     Sort (Sort Key)
temporary_table                                 Materialize ("Temporary Table": true)
<derivedN> / <subqueryN> with materialized      Subquery Scan -> Materialize -> block
union_result (UNION)                            Unique -> Append; UNION ALL: Append
subqueries[] (expression_cache too)             child with Parent Relationship "SubPlan"
message ("No tables used", "Impossible ...")    Result (One-Time Filter "false" if impossible)
table with "update"/"delete"/no access_type     ModifyTable (Operation) over the scan
==============================================  =============================================

Every node keeps MariaDB's own fields under readable names ("Access Type", "Key",
"Possible Keys", "Used Key Parts", "Key Length", "Ref", "Rows Examined", "Filtered",
"Using Index", "Index Condition Pushdown", "Attached Condition", "Rowid Filter") and the
untouched table object under "MariaDB". Stdlib only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pytest_queryplan.dialects import sqlscan

_KEYED = frozenset(
    {
        "const",
        "system",
        "eq_ref",
        "ref",
        "ref_or_null",
        "range",
        "unique_subquery",
        "index_subquery",
        "fulltext",
    }
)
# Operators a range or ref access can search with; anything else on a key part is a Filter.
_SARGABLE_OPS = frozenset({"=", "<=>", "<", ">", "<=", ">=", "<>", "!=", "BETWEEN", "IN", "IS"})
_PSEUDO = re.compile(r"<([a-z_]+)>(?=\()")
_SUBQUERY_REF = re.compile(r"\bsubquery#(\d+)")
_UPPER_WORDS = frozenset(
    {"and", "or", "not", "is", "null", "in", "between", "xor", "true", "false", "exists"}
)


def normalise(
    explain_json: str | bytes | dict[str, Any],
    sql: str | None = None,
    *,
    aliases: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """The canonical ``{"Plan": root}`` tree for one statement's MariaDB JSON plan.

    ``explain_json``: the single cell ``EXPLAIN FORMAT=JSON`` (or ``ANALYZE FORMAT=JSON``)
    returns, as text or parsed. ``sql``: the statement, for alias -> table and a top-level
    LIMIT. ``aliases``: alias -> table, overriding what ``sql`` gives (None: ambiguous).
    """
    data = json.loads(explain_json) if isinstance(explain_json, (str, bytes)) else explain_json
    if aliases is None:
        aliases = sqlscan.aliases(sql) if sql else {}
    conv = _Converter(aliases)
    root = conv.block(data["query_block"])
    if (
        sql
        and sqlscan.has_top_level_limit(sql)
        and root["Node Type"] not in ("Limit", "ModifyTable")
    ):
        root = {"Node Type": "Limit", "Plans": [root]}
    if sql and root["Node Type"] != "ModifyTable":
        target = sqlscan.statement_target(sql)
        if target is not None:  # INSERT ... SELECT: MariaDB shows only the SELECT
            root = {
                "Node Type": "ModifyTable",
                "Operation": target[0],
                "Relation Name": target[1],
                "Alias": target[1],
                "Plans": [root],
            }
    stack = [root]
    while stack:  # each node says what MariaDB printed for it
        node = stack.pop()
        source = _source(node)
        if source:
            node["Source"] = source
        stack.extend(node.get("Plans", []))
    top: dict[str, Any] = {"Plan": root}
    optimization = data.get("query_optimization", {}).get("r_total_time_ms")
    if optimization is not None:
        top["Planning Time"] = optimization
    total = data["query_block"].get("r_total_time_ms")
    if total is not None:
        top["Execution Time"] = total
    return top


class _Converter:
    def __init__(self, aliases: Mapping[str, str | None]) -> None:
        self.aliases = aliases

    # -- query blocks -------------------------------------------------------------------
    def block(self, qb: dict[str, Any]) -> dict[str, Any]:
        if "union_result" in qb:
            node = self.union(qb["union_result"])
        else:
            node = self.body(qb)
        extras = {}
        for key, name in (
            ("having_condition", "Having Filter"),
            ("const_condition", "One-Time Filter"),
            ("outer_ref_condition", "Outer Ref Condition"),
            ("select_id", "Select Id"),
            ("operation", "Operation Kind"),
        ):
            if key in qb and not (key == "const_condition" and qb[key] == "1"):
                extras[name] = _condition(qb[key]) if key.endswith("condition") else qb[key]
        if "Having Filter" in extras and node["Node Type"] != "Aggregate":
            node = {"Node Type": "Aggregate", "Strategy": "Plain", "Plans": [node]}
        for key, value in extras.items():
            node.setdefault(key, value)
        subplans = []
        for sub in qb.get("subqueries", []):
            cache = sub.get("expression_cache")
            inner = cache["query_block"] if cache else sub["query_block"]
            child = self.block(inner)
            child["Parent Relationship"] = "SubPlan"
            child["Subplan Name"] = f"SubPlan {inner.get('select_id', '?')}"
            if cache:
                child["Expression Cache"] = {k: v for k, v in cache.items() if k != "query_block"}
            subplans.append(child)
        if subplans:
            node.setdefault("Plans", []).extend(subplans)
        return node

    def body(self, qb: dict[str, Any]) -> dict[str, Any]:
        """The part of a block (or of a filesort / temporary_table) that produces rows."""
        if "filesort" in qb:
            return self.filesort(qb["filesort"])
        if "read_sorted_file" in qb:
            return self.filesort(qb["read_sorted_file"]["filesort"])
        if "temporary_table" in qb:
            inner = self.body(qb["temporary_table"])
            return {"Node Type": "Materialize", "Temporary Table": True, "Plans": [inner]}
        if "buffer" in qb:
            # An UPDATE of a column of the key it reads by buffers the rows first ("Using
            # buffer"): the read beneath is what matters.
            inner = self.body(qb["buffer"])
            inner["Update Buffer"] = True
            return inner
        if "nested_loop" in qb:
            return self.nested_loop(qb["nested_loop"])
        if "table" in qb:
            return self.table(qb["table"])
        if "duplicates_removal" in qb:
            return {
                "Node Type": "Unique",
                "Duplicates Removal": True,
                "Plans": [self.nested_loop(qb["duplicates_removal"])],
            }
        return {"Node Type": "Result", "MariaDB": _scalars(qb)}

    def filesort(self, fs: dict[str, Any]) -> dict[str, Any]:
        inner = self.body(fs)
        node: dict[str, Any] = {"Node Type": "Sort", "Plans": [inner]}
        if "sort_key" in fs:
            node["Sort Key"] = [_condition(k.strip()) for k in _split_commas(fs["sort_key"])]
        for key in ("r_limit", "r_used_priority_queue", "r_sort_mode", "r_output_rows"):
            if key in fs:
                node["MariaDB " + key] = fs[key]
        return node

    def nested_loop(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        nodes = []
        join_filters: list[str | None] = []
        buffers: list[dict[str, Any] | None] = []
        for item in items:
            if "table" in item:
                nodes.append(self.table(item["table"]))
                join_filters.append(None)
                buffers.append(None)
            elif "block-nl-join" in item:
                bnl = item["block-nl-join"]
                nodes.append(self.table(bnl["table"]))
                join_filters.append(
                    _condition(bnl["attached_condition"]) if "attached_condition" in bnl else None
                )
                buffers.append(
                    {k: v for k, v in bnl.items() if k not in ("table", "attached_condition")}
                )
            elif "duplicates_removal" in item:
                nodes.append(
                    {
                        "Node Type": "Unique",
                        "Duplicates Removal": True,
                        "Plans": [self.nested_loop(item["duplicates_removal"])],
                    }
                )
                join_filters.append(None)
                buffers.append(None)
            else:
                nodes.append(self.body(item))
                join_filters.append(None)
                buffers.append(None)
        node = nodes[0]
        rest = zip(nodes[1:], join_filters[1:], buffers[1:], strict=False)
        for inner, join_filter, buffer in rest:
            node = {"Node Type": "Nested Loop", "Join Type": "Inner", "Plans": [node, inner]}
            if join_filter:
                node["Join Filter"] = join_filter
            if buffer:
                node["Join Buffer"] = buffer
        return node

    def union(self, ur: dict[str, Any]) -> dict[str, Any]:
        parts = [self.block(spec["query_block"]) for spec in ur.get("query_specifications", [])]
        append = {"Node Type": "Append", "Plans": parts}
        if "table_name" in ur:  # a temporary table removes duplicates: UNION (DISTINCT)
            return {
                "Node Type": "Unique",
                "Alias": ur["table_name"],
                "Plans": [append],
                "MariaDB": _scalars(ur),
            }
        return append

    # -- one table ----------------------------------------------------------------------
    def table(self, t: dict[str, Any]) -> dict[str, Any]:
        if "message" in t and "access_type" not in t:
            node: dict[str, Any] = {"Node Type": "Result", "Message": t["message"]}
            if t["message"].startswith("Impossible") or "no matching row" in t["message"]:
                node["One-Time Filter"] = "false"
            return node
        op = "Update" if t.get("update") else "Delete" if t.get("delete") else None
        if op is None and "access_type" not in t and "table_name" in t:
            op = "Insert"
        if op == "Insert":
            table = self.aliases.get(t["table_name"], t["table_name"])
            return {
                "Node Type": "ModifyTable",
                "Operation": "Insert",
                "Relation Name": table,
                "Alias": t["table_name"],
                "MariaDB": _scalars(t),
            }
        scan = self.scan(t)
        if op is not None:
            return {
                "Node Type": "ModifyTable",
                "Operation": op,
                "Relation Name": scan.get("Relation Name"),
                "Alias": scan.get("Alias"),
                "Plans": [scan],
            }
        return scan

    def scan(self, t: dict[str, Any]) -> dict[str, Any]:
        name = t.get("table_name", "?")
        access = t.get("access_type", "ALL")
        hashed = access.startswith("hash_")
        base_access = access[5:] if hashed else access
        attached = _conjuncts(t.get("attached_condition"))
        pushed = _conjuncts(t.get("index_condition"))
        node: dict[str, Any] = {}
        if name.startswith("<") and name.endswith(">"):
            # <derivedN>, <subqueryN>, <unionN,M>: a temporary table of this statement's own.
            node["Node Type"] = "Subquery Scan"
            node["Alias"] = name
            materialized = t.get("materialized")
            if materialized:
                inner = self.block(materialized["query_block"])
                node["Plans"] = [
                    {
                        "Node Type": "Materialize",
                        "Plans": [inner],
                        **({"Unique": True} if materialized.get("unique") else {}),
                    }
                ]
            filters = attached + pushed
        else:
            table = self.aliases.get(name, name)
            key = t.get("key")
            covering = bool(t.get("using_index"))
            if base_access in ("ALL", "system") or (key is None and base_access != "index_merge"):
                node["Node Type"] = "Seq Scan"
                filters = pushed + attached
            elif base_access == "index":
                node["Node Type"] = "Index Only Scan" if covering else "Index Scan"
                node["Index Name"] = key
                filters = pushed + attached
            elif base_access == "index_merge":
                node["Node Type"] = "Bitmap Heap Scan"
                filters = self.index_merge(node, t["index_merge"], name, pushed + attached)
            else:
                node["Node Type"] = "Index Only Scan" if covering else "Index Scan"
                node["Index Name"] = key
                cond, filters = _index_cond(t, name, pushed, attached)
                if cond:
                    node["Index Cond"] = cond
            if table is not None:
                node["Relation Name"] = table
            node["Alias"] = name
        if filters:
            node["Filter"] = _join_and(filters)
        rows, filtered = t.get("rows"), t.get("filtered")
        if rows is not None:
            node["Plan Rows"] = rows * (filtered if filtered is not None else 100) / 100
        if "r_rows" in t:
            node["Actual Rows"] = t["r_rows"] * (t.get("r_filtered", 100) or 0) / 100
            node["Actual Loops"] = t.get("r_loops")
        if "r_table_time_ms" in t:
            node["Actual Total Time"] = t["r_table_time_ms"] + t.get("r_other_time_ms", 0)
        for src, dst in (
            ("access_type", "Access Type"),
            ("key", "Key"),
            ("possible_keys", "Possible Keys"),
            ("used_key_parts", "Used Key Parts"),
            ("key_length", "Key Length"),
            ("ref", "Ref"),
            ("rows", "Rows Examined"),
            ("filtered", "Filtered"),
            ("using_index", "Using Index"),
            ("index_condition", "Index Condition Pushdown"),
            ("attached_condition", "Attached Condition"),
            ("rowid_filter", "Rowid Filter"),
        ):
            if src in t:
                node[dst] = t[src]
        if hashed:
            node["Hash Join"] = True
        node["MariaDB"] = _scalars(t)
        return node

    def index_merge(
        self, node: dict[str, Any], merge: dict[str, Any], alias: str, conds: list[str]
    ) -> list[str]:
        """Fill in ``node``'s BitmapOr/BitmapAnd; return what is left for its Filter."""
        kind = next(iter(merge))
        parts = []
        columns: set[str] = set()
        disjuncts = []
        for cond in conds:
            pieces = sqlscan.split_top(sqlscan.strip_parens(sqlscan.tokenize(cond)), "OR")
            if len(pieces) > 1:
                disjuncts.extend(sqlscan.render(p) for p in pieces)
        for entry in merge[kind]:
            inner_kind = next(iter(entry))
            rng = entry[inner_kind]
            if inner_kind != "range":  # nested merges: flatten
                sub: dict[str, Any] = {"Node Type": "Bitmap Heap Scan"}
                self.index_merge(sub, entry, alias, [])
                parts.extend(sub["Plans"][0]["Plans"])
                continue
            used = [c.lower() for c in rng.get("used_key_parts", [])]
            columns.update(used)
            mine = [d for d in disjuncts if _columns(d, alias) & set(used)]
            cond = (
                " OR ".join(f"({d})" for d in mine)
                if mine
                else " AND ".join(f"{c} IN (range)" for c in used)
            )
            parts.append(
                {
                    "Node Type": "Bitmap Index Scan",
                    "Index Name": rng["key"],
                    "Index Cond": cond,
                    "Parent Relationship": "Member",
                    "Used Key Parts": rng.get("used_key_parts", []),
                }
            )
        combine = "BitmapAnd" if "intersect" in kind else "BitmapOr"
        node["Plans"] = [{"Node Type": combine, "Plans": parts, "Index Merge": kind}]
        rest, recheck = [], []
        for cond in conds:
            (recheck if _columns(cond, alias) <= columns else rest).append(cond)
        if recheck:
            node["Recheck Cond"] = _join_and(recheck)
        return rest


# -- conditions -------------------------------------------------------------------------
def _index_cond(
    t: dict[str, Any], alias: str, pushed: list[str], attached: list[str]
) -> tuple[str | None, list[str]]:
    """The Index Cond (what the index searched) and the rest (the Filter).

    A conjunct on a used key part with a searchable operator counts as searched: MariaDB
    repeats such conditions in index_condition (pushdown) or attached_condition (a recheck)
    even when the ref/range access already applied them. Everything else, pushed down or
    not, is a Filter: checked row by row (pushdown only checks it on the index entry).
    """
    used = [c.lower() for c in t.get("used_key_parts", [])]
    refs = t.get("ref", [])
    searched: dict[str, list[str]] = {}
    rest: list[str] = []
    for cond in pushed + attached:
        col = _searched_column(cond, alias)
        if col is not None and col in used:
            if cond not in searched.setdefault(col, []):
                searched[col].append(cond)
        elif cond not in rest:
            rest.append(cond)
    parts: list[str] = []
    for i, col in enumerate(used):
        if col in searched:
            parts.extend(searched[col])
        elif i < len(refs):
            ref = _ref_text(refs[i])
            if t.get("access_type") == "ref_or_null":
                parts.append(f"({col} = {ref} OR {col} IS NULL)")
            else:
                parts.append(f"{col} = {ref}")
        else:
            parts.append(f"{col} IN (range)")
    return (_join_and(parts) if parts else None), rest


def _searched_column(cond: str, alias: str) -> str | None:
    """The key column ``cond`` compares with a searchable operator, or None."""
    tokens = sqlscan.strip_parens(sqlscan.tokenize(cond))
    i = 0
    if len(tokens) >= 3 and tokens[1][1] == "." and (sqlscan.unquote(tokens[0]) == alias):
        i = 2
    if i >= len(tokens) or tokens[i][0] not in ("ident", "qid"):
        return None
    if i + 1 >= len(tokens):
        return None
    col = sqlscan.unquote(tokens[i]).lower()
    op = tokens[i + 1][1].upper()
    if op == "NOT" and i + 2 < len(tokens) and tokens[i + 2][1].upper() in ("IN", "BETWEEN"):
        op = "<>"
    if op == "~~":  # LIKE: searchable only with a literal that does not start with a wildcard
        rhs = tokens[i + 2] if i + 2 < len(tokens) else ("", "")
        return col if rhs[0] == "str" and rhs[1][1:2] not in ("%", "_", "") else None
    if op in _SARGABLE_OPS:
        rhs = tokens[i + 2 :]
        if any(
            j >= 2
            and rhs[j - 1][1] == "."
            and sqlscan.unquote(rhs[j - 2]) == alias
            and sqlscan.unquote(tok).lower() == col
            for j, tok in enumerate(rhs)
        ):
            return None
        return col
    return None


def _condition(text: str) -> str:
    """MariaDB's condition text in the model's style: names unquoted (or "quoted"), the
    database prefix of a db.table.column dropped, keywords upper case, LIKE as ~~,
    trigcond(...) (an outer join's guard) unwrapped."""
    # Pseudo-functions MariaDB prints in angle brackets (<in_optimizer>(...), <exists>(...),
    # <cache>(...)) read as plain function names; subquery#N as PostgreSQL's "SubPlan N".
    text = _PSEUDO.sub(r"\1", text)
    text = _SUBQUERY_REF.sub(r"SubPlan \1", text)
    tokens = sqlscan.tokenize(text, backslash=True)
    out: list[sqlscan.Token] = []
    i = 0
    while i < len(tokens):
        kind, word = tokens[i]
        low = word.lower() if kind == "ident" else ""
        if low == "trigcond" and i + 1 < len(tokens) and tokens[i + 1][1] == "(":
            i += 1  # keep the bracket, drop the name
            continue
        if (
            kind in ("ident", "qid")
            and i + 4 < len(tokens)
            and tokens[i + 1][1] == "."
            and tokens[i + 3][1] == "."
            and tokens[i + 2][0] in ("ident", "qid")
            and tokens[i + 4][0] in ("ident", "qid")
        ):
            i += 2  # db.table.column -> table.column
            continue
        if low == "not" and i + 1 < len(tokens) and tokens[i + 1][1].lower() == "like":
            out.append(("op", "!~~"))
            i += 2
            continue
        if low == "like":
            out.append(("op", "~~"))
        elif low in _UPPER_WORDS:
            out.append((kind, word.upper()))
        else:
            out.append((kind, word))
        i += 1
    return sqlscan.render(out)


def _conjuncts(text: str | None) -> list[str]:
    if not text:
        return []
    tokens = sqlscan.tokenize(_condition(text))
    return [sqlscan.render(p) for p in sqlscan.flatten_and(tokens)]


def _join_and(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({p})" for p in parts)


def _columns(cond: str, alias: str) -> set[str]:
    return sqlscan.referenced_columns(sqlscan.tokenize(cond), alias)


def _ref_text(ref: str) -> str:
    if ref in ("const", "func"):
        return "?"
    parts = ref.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else ref


def _split_commas(text: str) -> list[str]:
    tokens = sqlscan.tokenize(text, backslash=True)
    parts, depth, current = [], 0, []
    for token in tokens:
        if token[1] == "(":
            depth += 1
        elif token[1] == ")":
            depth -= 1
        if token[1] == "," and depth == 0:
            parts.append(sqlscan.render(current))
            current = []
        else:
            current.append(token)
    if current:
        parts.append(sqlscan.render(current))
    return parts


def _scalars(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's own fields, without the nested plans (kept elsewhere in the tree)."""
    return {
        k: v
        for k, v in obj.items()
        if k not in ("materialized", "query_specifications", "query_block", "table", "nested_loop")
    }


def _source(node: dict[str, Any]) -> str | None:
    """MariaDB's own words for a node: its access type, key and used key parts."""
    access = node.get("Access Type")
    if access is not None:
        key = node.get("Key")
        parts = node.get("Used Key Parts")
        said = f"{access} {key}" if key else str(access)
        return f"{said} ({', '.join(parts)})" if parts and access != "index" else said
    if node["Node Type"] == "Sort":
        return "filesort"
    if node.get("Temporary Table"):
        return "temporary_table"
    return None
