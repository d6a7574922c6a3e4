"""The checks, as data: each says what was asked and judges explained queries into a Verdict.

Every source of checks (the ``assert_uses_index`` fixture, the marker, the suite-wide
guard, the TestCase mixin) builds these and hands them to one runner; they differ only in
how they collect queries. A check may ask the database through the :class:`Catalog`
interface while it judges, never builds text, and never imports a driver.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.checks.nodes import tables_read
from pytest_queryplan.core.checks.query import ExplainedQuery
from pytest_queryplan.core.checks.verdict import Kind, Mark, Offense, Reason, Verdict
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.catalog import IndexInfo
    from pytest_queryplan.core.checks.dialect import Catalog, Dialect
    from pytest_queryplan.core.checks.service import Service
    from pytest_queryplan.core.plan.node import PlanNode
    from pytest_queryplan.core.plan.tree import Plan


@dataclass(frozen=True)
class IndexUsed:
    """Some query (``every``: every query reading its table) is served by index ``name``.

    ``strict`` (the default): a scan of the index must *serve* the query (``service.py``,
    read by the dialect):
    search it with an Index Cond (or deliver ORDER BY under a LIMIT, or be a partial
    index), leave no condition on its key columns to a Filter, and not skip a btree's
    leading key. Every scan of the index in a query must serve it. ``strict=False``: the
    index appearing in the plan is enough.
    ``ordered``: the index also delivers the query's ORDER BY: no sort re-orders the
    scan's rows (a Sort, or an Incremental Sort that finishes what the index began).
    ``keys``: the scan's Index Cond searches these keys (column or field names, or
    ``"all"``), so a rewrite that keeps the leading key but drops another fails.
    ``block``: the queries were captured from running code, not one given target, so
    running no query on the index's table is a failure of its own; ``body``: that code
    was a test's body (the marker), not a ``with`` block.
    A failure may be asked again where the dialect's mode calls for it (generic plans).
    """

    name: str
    every: bool = False
    block: bool = False
    strict: bool = True
    body: bool = False
    ordered: bool = False
    keys: tuple[str, ...] | str | None = None

    @property
    def ran(self) -> str:
        """What ran the queries, as a failure text names it."""
        return "the test body" if self.body else "the block"

    def judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        verdict = self._judge(queries, catalog)
        return catalog.dialect.recheck(verdict, queries, catalog, self._judge)

    def _judge(self, queries: Sequence[ExplainedQuery], catalog: Catalog) -> Verdict:
        total = len(queries)
        if not self.every and not self.strict and not self.ordered and self.keys is None:
            proof = _users(queries, {self.name})
            if proof:  # the common, passing case costs no catalog query at all
                dialect = catalog.dialect
                return Verdict(
                    self, True, Kind.INDEX_USED, proof=proof, total=total, dialect=dialect
                )
        if not self.every and any(q.plan and self.name in q.plan.index_names for q in queries):
            # The index is in a plan: its key columns decide, no partition look-up needed.
            (info,) = catalog.index_info([self.name]) or (None,)
            if info is not None:
                wanted = resolve_keys(self.keys, info, catalog)
                found = self._served(queries, frozenset({self.name}), info, catalog.dialect, wanted)
                proof = found[0]
                if proof:  # the passing strict check: built with its dialect (no copy)
                    return Verdict(
                        self,
                        True,
                        Kind.INDEX_USED,
                        proof=proof,
                        total=total,
                        index=info,
                        dialect=catalog.dialect,
                    )
        names = catalog.attached_indexes(self.name)
        # A partitioned table's index: every partition read must be read through one of
        # the indexes attached to it (an ON ONLY index may have none on some).
        parts = catalog.partitions(self.name)
        infos = {info.name: info for info in catalog.index_info(names)}
        info = infos.get(self.name)
        read = tables_read(queries)
        if info is None:
            return Verdict(
                self,
                False,
                Kind.INDEX_MISSING,
                offenses=tuple(Offense(q) for q in queries),
                total=total,
                tables_read=read,
                existing=tuple(catalog.indexes_on(read)) if read else (),
            )
        index_tables = {i.table for i in infos.values()} | parts
        relevant = [q for q in queries if q.plan is None or q.plan.tables & index_tables]
        kept: tuple[tuple[str, str], ...] = ()
        if any(Mode(q.mode).asks_can_serve for q in relevant):
            kept = _without_competitors(relevant, names, index_tables, parts, catalog)
            self._without_sorts(relevant, names, index_tables, parts, catalog)
        facts = {"total": total, "index": info, "kept": kept, "tables_read": read}
        if self.block and not relevant:
            everything = tuple(Offense(q) for q in queries)
            return Verdict(self, False, Kind.NO_QUERY_ON_TABLE, offenses=everything, **facts)
        wanted = resolve_keys(self.keys, info, catalog)
        dialect = catalog.dialect
        proof, partly = self._served(relevant, names, info, dialect, wanted)
        notes: dict[int, tuple[str, str, str | None]] = {}
        if partly:
            notes, replanned, reasoned = self._join_retry(
                relevant, partly, names, info, catalog, wanted
            )
            if replanned:
                proof, partly = self._served(relevant, names, info, dialect, wanted)
            if reasoned:
                proof += tuple(reasoned[id(q)] for q in relevant if id(q) in reasoned)
                partly = {key: found for key, found in partly.items() if key not in reasoned}
            partly = {
                key: [_noted(found, notes) for found in services]
                for key, services in partly.items()
            }
        strays = {}
        if parts:
            attached = {i.table for i in infos.values()}
            for query in relevant:
                found = _strays(query.plan, names, parts, attached, self.name, dialect)
                if found:
                    strays[id(query)] = found
            proof = tuple(o for o in proof if id(o.query) not in strays)
        served = {id(offense.query) for offense in proof}
        offenders = [q for q in relevant if id(q) not in served]
        if proof and not (self.every and offenders):
            return Verdict(self, True, Kind.INDEX_USED, proof=proof, **facts)
        if not self.every:
            offenders = relevant
        if partly or any(id(q) in strays and q.plan.index_names & names for q in offenders):
            offenses = tuple(_partly(q, partly, strays) for q in offenders or queries)
            services = tuple(s for q in offenders for s in partly.get(id(q), ()))
            types = catalog.column_types(info.table)
            return Verdict(
                self,
                False,
                Kind.INDEX_PARTLY_USED,
                offenses=offenses,
                services=services,
                column_types=types,
                strays=tuple(m for q in offenders for m in strays.get(id(q), ())),
                **facts,
            )
        tables = {info.table} | parts
        offenses = tuple(_offense(q, tables, self.name, dialect) for q in offenders or queries)
        # An index for the first filtered sequential read of the table, if one would serve.
        reads = [o for o in offenses if any(m.reason == Reason.SEQ_SCAN for m in o.marks)]
        suggestions = dialect.suggest(reads, catalog)[:1]
        types = catalog.column_types(info.table) if reads else None
        return Verdict(
            self,
            False,
            Kind.INDEX_NOT_USED,
            offenses=offenses,
            suggestions=suggestions,
            column_types=types,
            **facts,
        )

    def _served(
        self,
        queries: Iterable[ExplainedQuery],
        names: frozenset[str],
        info: IndexInfo,
        dialect: Dialect,
        wanted: tuple[str, ...] = (),
    ) -> tuple[tuple[Offense, ...], dict[int, list[Service]]]:
        """The queries the index serves (its scans marked), and per other query that
        scans it the scans that did not serve. Every scan of the index in a query must
        serve it (a UNION's other branch, an InitPlan, a self-join's other side): one that
        serves does not excuse another that reads the index badly. Non-strict: any scan
        serves, but what ``ordered``/``keys`` asked still holds."""
        proof, partly = [], {}
        quick = not self.ordered and not wanted
        for query in queries:
            if query.plan is None or not query.plan.index_names & names:
                continue
            good, bad = [], []
            for node in dialect.index_scans(query.plan, names):
                if quick and (not self.strict or dialect.plainly_served(node, info)):
                    good.append(node)  # the common, passing case: no condition text to read
                    continue
                found = self._service(node, info, dialect, query, wanted)
                ok = found.serves if self.strict else found.asked
                if ok and self.strict:
                    # A btree searched without its leading key reads the whole index
                    # (PostgreSQL 18's skip scan jumps between leading values: the same).
                    ok = not (found.skips_leading_key and info.method == "btree")
                if ok:
                    good.append(node)
                else:
                    bad.append(found)
            if bad:
                partly[id(query)] = bad
            elif good:
                marks = tuple(Mark(n, Reason.USED, n.index_name) for n in good)
                proof.append(Offense(query, marks))
        return tuple(proof), partly

    def _without_sorts(
        self,
        queries: Sequence[ExplainedQuery],
        names: frozenset[str],
        tables: set[str],
        parts: frozenset[str],
        catalog: Catalog,
    ) -> None:
        """Forced mode, a statement with an ORDER BY, and a plan that sorts: the named
        index not scanned (a competitor that cannot be set aside, a unique constraint's,
        was cheaper with a Sort on top), or ``ordered=`` and a sort above its scan (a bitmap
        scan then a Sort looked cheaper on a few rows). Whether the index can deliver the
        order is not a question of row counts: ask again with sorting discouraged (and the
        competitors that can be set aside out of sight); a plan that scans the index with
        no sort above it replaces the first."""
        dialect = catalog.dialect
        settings = dialect.order_settings()
        if not settings:
            return
        for query in queries:
            plan = query.plan
            if plan is None or not Mode(query.mode).asks_can_serve:
                continue
            scans = dialect.index_scans(plan, names) if plan.index_names & names else []
            if scans and not (self.ordered and any(dialect.sorts_above(n) for n in scans)):
                continue
            if not dialect.has_order_by(query.sql):
                continue
            hide = sorted(_hideable(plan.index_names - names, {}, parts, tables, catalog))
            try:
                again = catalog.replan(query, hide=hide, settings=settings)
            except Exception:  # noqa: BLE001 - the adapter's refusal: the first answer stands
                continue
            found = dialect.index_scans(again, names) if again.index_names & names else []
            if found and not any(dialect.sorts_above(n) for n in found):
                query.plan = again

    def _join_retry(
        self,
        queries: Sequence[ExplainedQuery],
        partly: dict[int, list[Service]],
        names: frozenset[str],
        info: IndexInfo,
        catalog: Catalog,
        wanted: tuple[str, ...],
    ) -> tuple[dict[int, tuple[str, str, str | None]], bool, dict[int, Offense]]:
        """Forced mode, a scan of the index without its leading key, and that key compared
        in a join elsewhere in the plan (``customer_id = upstream_customer.id``): the index
        could be searched by a parameterised scan that the statistics made look dear. Ask
        again with the dialect's settings for it; a plan the index then serves replaces the
        first. When none does, the plan itself may prove the parameterised scan open to the
        planner (``Dialect.parameterised_search``): forced mode asks whether the index *can*
        serve, and row counts decide only whether the planner takes it, so the query is
        served, its scan marked with the condition that would search it. Returns, per
        offending scan, where the key sat and what was tried; whether any plan was
        replaced; and the queries served by that proof."""
        dialect = catalog.dialect
        attempts = dialect.join_settings()
        notes: dict[int, tuple[str, str, str | None]] = {}
        replanned = False
        reasoned: dict[int, Offense] = {}
        for query in queries:
            bad = partly.get(id(query), ())
            if not bad or not Mode(query.mode).asks_can_serve:
                continue
            where = {
                id(found.node): key
                for found in bad
                if found.skips_leading_key or found.full_walk
                if (key := dialect.join_key(found.node, info)) is not None
            }
            if not where:
                continue
            tried = []
            for statements, said in attempts:  # the first that gets the index served wins
                try:
                    plan = catalog.replan(query, settings=statements)
                except Exception:  # noqa: BLE001 - the adapter's refusal: try the next
                    continue
                tried.append(said)
                if self._served([replace_plan(query, plan)], names, info, dialect, wanted)[0]:
                    query.plan = plan
                    replanned = True
                    break
            else:
                # Where the plan proves a parameterised scan, per scan (asked once each).
                clauses = {
                    id(found.node): dialect.parameterised_search(found.node, info, query.sql)
                    for found in bad
                }
                proven = self._parameterised(query, bad, clauses, names, dialect)
                if proven is not None:
                    reasoned[id(query)] = proven
                    continue
                said = "; then ".join(tried)
                for node, key in where.items():
                    notes[node] = (key, said, clauses[node])
        return notes, replanned, reasoned

    def _parameterised(
        self,
        query: ExplainedQuery,
        bad: Sequence[Service],
        clauses: dict[int, str | None],
        names: frozenset[str],
        dialect: Dialect,
    ) -> Offense | None:
        """The query as served, when every scan of the index that did not serve it lacks
        only its leading key and the plan proves a parameterised scan could search that key
        (``clauses``, per scan: by what, or None; everything else the scan left, a key in a
        Filter, a key ``keys=`` asked for, still counts). Not for ``ordered=``: a
        parameterised scan's rows come in another order."""
        if self.ordered or query.plan is None:
            return None
        searched: dict[int, str] = {}
        for found in bad:
            clause = clauses[id(found.node)]
            if clause is None or not found.keys:
                return None
            lead = found.keys[0]
            as_parameterised = replace(
                found,
                skips_leading_key=False,
                full_walk=False,
                keys_in_cond=(lead, *(k for k in found.keys_in_cond if k != lead)),
                keys_unsearched=tuple(k for k in found.keys_unsearched if k != lead),
            )
            if not (as_parameterised.serves if self.strict else as_parameterised.asked):
                return None
            searched[id(found.node)] = clause
        marks = tuple(
            Mark(n, Reason.PARAMETERISED, n.index_name, searched[id(n)])
            if id(n) in searched
            else Mark(n, Reason.USED, n.index_name)
            for n in dialect.index_scans(query.plan, names)
        )
        return Offense(query, marks)

    def _service(
        self,
        node: PlanNode,
        info: IndexInfo,
        dialect: Dialect,
        query: ExplainedQuery,
        wanted: tuple[str, ...],
    ) -> Service:
        """The dialect's reading of one scan, with what this check asked filled in."""
        found = dialect.serve(node, info)
        facts: dict[str, Any] = {"place": dialect.scan_place(node)}
        ordered_sql: bool | None = None
        if found.ordered_limit:
            # An index walked whole pays under a LIMIT only when it delivers the
            # statement's ORDER BY; without one (``.exists()``) any index would do, and
            # the plan cannot tell the two apart.
            ordered_sql = dialect.has_order_by(query.sql)
            facts["ordered_limit"] = ordered_sql
            facts["unordered_limit"] = not ordered_sql
        if self.ordered:
            facts["sorts"] = dialect.sorts_above(node)
            facts["order_elsewhere"] = dialect.feeds_a_subplan(node)
            if ordered_sql is None:
                ordered_sql = dialect.has_order_by(query.sql)
            facts["unordered"] = not ordered_sql
        if wanted:
            facts["keys_unsearched"] = tuple(k for k in wanted if k not in found.keys_in_cond)
        return replace(found, **facts)


def replace_plan(query: ExplainedQuery, plan: Plan) -> ExplainedQuery:
    """The same statement with another plan, for judging it without changing the query."""
    return ExplainedQuery(query.sql, query.params, query.using, plan, mode=query.mode)


def _noted(found: Service, notes: dict[int, tuple[str, str, str | None]]) -> Service:
    note = notes.get(id(found.node))
    if note is None:
        return found
    where, tried, searchable = note
    return replace(found, join_condition=where, retried_with=tried, join_searchable=searchable)


def resolve_keys(
    keys: tuple[str, ...] | str | None, info: IndexInfo, catalog: Catalog
) -> tuple[str, ...]:
    """``keys=`` as the index's key columns: ``"all"`` is every key; a name is a key column
    (``customer_id``) or the model field's name for it (``customer``). Anything else is a
    usage error naming the index's keys, so a typo cannot make a check that never fails."""
    if keys is None:
        return ()
    if keys == "all":
        return info.columns
    bare = {column.strip('"'): column for column in info.columns}
    fields = {field: column for column, field in catalog.field_names(info.table).items()}
    resolved = []
    for name in keys:
        column = bare.get(name.strip('"')) or bare.get(fields.get(name, ""))
        if column is None:
            raise QueryPlanUsageError(
                f"keys=: {name!r} is not a key of index {info.name} (its keys: "
                f"{', '.join(info.columns)}; a model field's name is accepted too)."
            )
        resolved.append(column)
    return tuple(dict.fromkeys(resolved))


def _strays(
    plan: Plan | None,
    names: frozenset[str],
    parts: frozenset[str],
    attached: set[str],
    wanted: str,
    dialect: Dialect,
) -> list[Mark]:
    """The reads of the index's partitions that no index attached to it made: a sequential read,
    or another index (``Mark.detail``: "none-attached" when the index has nothing attached
    on that partition, as one created ON ONLY may not; else "other")."""
    found: list[Mark] = []
    for node in plan.nodes() if plan is not None else ():
        table = node.relation_name
        if table not in parts or node.node_type == "ModifyTable":
            continue
        detail = "other" if table in attached else "none-attached"
        if dialect.is_table_scan(node):
            found.append(Mark(node, Reason.SEQ_SCAN, wanted, detail))
            continue
        used = {node.index_name} if node.index_name else set()
        used |= {child.index_name for child in node.children if child.index_name}
        if used and not used & names:
            found.append(Mark(node, Reason.OTHER_INDEX, ", ".join(sorted(used)), detail))
    return found


def _partly(
    query: ExplainedQuery,
    partly: dict[int, list[Service]],
    strays: dict[int, list[Mark]] | None = None,
) -> Offense:
    marks = list((strays or {}).get(id(query), ()))
    for found in partly.get(id(query), ()):
        if found.narrowed and not found.skips_leading_key:
            reason = Reason.NOT_ASKED
        elif found.full_walk:
            reason = Reason.FULL_WALK
        elif found.skips_leading_key and not found.keys_in_filter:
            reason = Reason.SKIPPED_LEADING_KEY  # nothing left to a Filter: say what was
        else:
            reason = Reason.PARTLY_USED
        detail = found.keys[0] if reason == Reason.SKIPPED_LEADING_KEY and found.keys else None
        marks.append(Mark(found.node, reason, found.index_name, detail))
        if found.heap is not None and found.keys_in_filter:
            marks.append(Mark(found.heap, Reason.FILTER_LEFT, ", ".join(found.keys_in_filter)))
        marks += [Mark(sort, Reason.RESORTED, found.index_name) for sort in found.sorts]
    return Offense(query, tuple(marks))


def _users(queries: Iterable[ExplainedQuery], names: Iterable[str]) -> tuple[Offense, ...]:
    """The queries whose plan scans one of ``names``, with the scanning node marked."""
    wanted = set(names)
    found = []
    for query in queries:
        if query.plan is None or not query.plan.index_names & wanted:
            continue
        nodes = [n for n in query.plan.nodes() if n.index_name in wanted]
        found.append(Offense(query, tuple(Mark(n, Reason.USED, n.index_name) for n in nodes)))
    return tuple(found)


def _offense(query: ExplainedQuery, tables: set[str], wanted: str, dialect: Dialect) -> Offense:
    """Mark every node that reads the index's table (or its partitions) without the
    wanted index."""
    if query.plan is None:
        return Offense(query)
    marks = []
    for node in query.plan.nodes():
        if node.relation_name not in tables or node.node_type == "ModifyTable":
            continue
        if dialect.is_table_scan(node):
            marks.append(Mark(node, Reason.SEQ_SCAN, wanted))
        elif node.index_name and node.index_name != wanted:
            marks.append(Mark(node, Reason.OTHER_INDEX, node.index_name))
        elif node.node_type == "Bitmap Heap Scan":
            marks += [
                Mark(child, Reason.OTHER_INDEX, child.index_name)
                for child in node.children
                if child.index_name and child.index_name != wanted
            ]
    return Offense(query, tuple(marks))


def _without_competitors(
    queries: Sequence[ExplainedQuery],
    names: frozenset[str],
    tables: set[str],
    parts: frozenset[str],
    catalog: Catalog,
) -> tuple[tuple[str, str], ...]:
    """Forced (and generic) mode asks whether the index *can* serve the query. When the
    planner took another index of the same table instead (a cheaper-looking one, say a
    foreign-key index that leads the named one), the answer depends on statistics, not on
    the query: ask again with those competitors out of sight. A query whose plan then
    scans the named index gets that plan. Indexes backing a constraint cannot be set aside;
    one whose lock is not granted in time stays too, and the verdict says so (``kept``).
    On a partitioned table a partition's index cannot be dropped alone: the competitor is
    the partitioned index it is attached to (the top of its tree), which is set aside
    instead, with every partition's index attached to it.
    """

    def unserved(plan: Plan) -> bool:
        # A partition read without an attached index counts even when another used one.
        strays = _strays(plan, names, parts, set(), "", catalog.dialect) if parts else []
        return not plan.index_names & names or bool(strays)

    pending = [
        q
        for q in queries
        if q.plan is not None and Mode(q.mode).asks_can_serve and unserved(q.plan)
    ]
    used = {name for q in pending for name in q.plan.index_names} - names
    if not used:
        return ()
    roots = catalog.partition_roots(used) if parts else {}
    # One catalog look-up for every competitor of every query.
    candidates = {roots.get(name, name) for name in used} - names
    hideable = {
        i.name for i in catalog.index_info(candidates) if i.table in tables and not i.constraint
    }
    kept: dict[str, str] = {}
    for query in pending:
        hide = sorted(hideable & {roots.get(n, n) for n in query.plan.index_names})
        # With one competitor out of sight the planner may take the next (a foreign-key
        # index, then another index on customer_id): set that aside too, a bounded number
        # of times, each a rolled-back savepoint of its own.
        for _ in range(_COMPETITOR_ROUNDS):
            if not hide:
                break
            try:
                plan = catalog.replan(query, hide=hide)
            except Exception as exc:  # noqa: BLE001 - the adapter's refusal: the first answer stands
                reason = str(exc).splitlines()[0].split(" could not EXPLAIN the query: ", 1)[-1]
                kept.update(dict.fromkeys(hide, reason))
                break
            if plan.index_names & names and not (parts and unserved(plan)):
                query.plan = plan
                break
            more = _hideable(plan.index_names - names - set(hide), roots, parts, tables, catalog)
            hide = sorted({*hide, *more}) if more else []
    return tuple(sorted(kept.items()))


#: How many times forced mode sets competitors aside for one query (each time those the
#: last plan took instead, added to the ones already aside).
_COMPETITOR_ROUNDS = 3


def _hideable(
    used: set[str], roots: dict[str, str], parts: frozenset[str], tables: set[str], catalog: Catalog
) -> set[str]:
    """The indexes among ``used`` (a plan's) that forced mode may set aside: on the named
    index's tables, backing no constraint (a partition's index by its partitioned root)."""
    if not used:
        return set()
    if parts:
        roots = {**roots, **catalog.partition_roots(used)}
    candidates = {roots.get(name, name) for name in used}
    return {
        i.name for i in catalog.index_info(candidates) if i.table in tables and not i.constraint
    }
