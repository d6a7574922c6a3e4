"""Index suggestions: pure rules on Filter texts, and proof on a real server that they hold.

Every Filter text below is what PostgreSQL printed for the Django query next to it; the
live tests re-run each query on this run's server, check that the Filter is still that
text, create the suggested index both from its SQL and from its Django line, and check the
planner then narrows the scan with it (or, for a refusal, that the indexes the old
suggestions named do not help).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db.models import OuterRef, Q, Subquery

from pytest_queryplan.core.checks.catalog import IndexInfo
from pytest_queryplan.core.checks.names import NameRegistry
from pytest_queryplan.core.plan.tree import Plan, PlanNode, parse_plan
from pytest_queryplan.dialects.postgresql.expressions import parse, parse_prefix, to_sql
from pytest_queryplan.dialects.postgresql.suggest import (
    IndexSuggestion,
    NoSuggestion,
    explain_no_suggestion,
    propose,
)

TABLE = "qp_scratch"
# format_type() of each column, as the server reports it (the live test checks this).
TYPES = {
    "id": "bigint",
    "desc": "character varying(50)",
    "end": "integer",
    "start": "integer",
    "order": "integer",
    "name": "character varying(100)",
    "body": "text",
    "data": "jsonb",
    "tags": "integer[]",
    "during": "tstzrange",
    "is_removed": "boolean",
    "slug": "character varying(50)",
}
FIELDS = {column: column for column in TYPES} | {"desc": "kind", "end": "finish"}
PKEY = IndexInfo(
    name=f"{TABLE}_pkey",
    table=TABLE,
    definition=f"CREATE UNIQUE INDEX {TABLE}_pkey ON public.{TABLE} USING btree (id)",
    columns=("id",),
    unique=True,
    constraint=True,
)


@dataclass(frozen=True)
class Case:
    query: Callable[[Any], Any]  # the scratch model -> a QuerySet
    filter: str  # the Filter PostgreSQL prints for it
    expected: str  # the suggested CREATE INDEX, or the refusal's reason
    alias: str = TABLE


def _sql(name: str, keys: str, using: str = "") -> str:
    return f'CREATE INDEX CONCURRENTLY "{name}" ON "{TABLE}"{using} ({keys});'


SUGGESTED = {
    "prefix-varchar": Case(
        lambda m: m.objects.filter(name__startswith="abc"),
        "((name)::text ~~ 'abc%'::text)",
        _sql("scratch_name_like_idx", '"name" varchar_pattern_ops'),
    ),
    "prefix-text": Case(
        lambda m: m.objects.filter(body__startswith="abc"),
        "(body ~~ 'abc%'::text)",
        _sql("scratch_body_like_idx", '"body" text_pattern_ops'),
    ),
    "reserved-word": Case(
        lambda m: m.objects.filter(kind="231"),
        "((\"desc\")::text = '231'::text)",
        _sql("scratch_kind_idx", '"desc"'),
    ),
    "two-ranges": Case(
        lambda m: m.objects.filter(finish__gt=3, start__lt=5),
        '(("end" > 3) AND (start < 5))',
        _sql("scratch_finish_start_idx", '"end", "start"'),
    ),
    "equality-first": Case(
        lambda m: m.objects.filter(order=3, finish__gte=1),
        '(("end" >= 1) AND ("order" = 3))',
        _sql("scratch_order_finish_idx", '"order", "end"'),
    ),
    "at-most-three": Case(
        lambda m: m.objects.filter(start=1, finish=2, order=3, name="x"),
        '(("end" = 2) AND ((name)::text = \'x\'::text) AND ("order" = 3) AND (start = 1))',
        _sql("scratch_finish_name_order_idx", '"end", "name", "order"'),
    ),
    "equality-and-prefix": Case(
        lambda m: m.objects.filter(start=3, name__startswith="abc"),
        "(((name)::text ~~ 'abc%'::text) AND (start = 3))",
        _sql("scratch_start_name_like_idx", '"start", "name" varchar_pattern_ops'),
    ),
    "in-list": Case(
        lambda m: m.objects.filter(name__in=["a", "b"]),
        "((name)::text = ANY ('{a,b}'::text[]))",
        _sql("scratch_name_idx", '"name"'),
    ),
    "is-null": Case(
        lambda m: m.objects.filter(kind__isnull=True),
        '("desc" IS NULL)',
        _sql("scratch_kind_idx", '"desc"'),
    ),
    "jsonb-contains": Case(
        lambda m: m.objects.filter(data__contains={"a": 1}),
        "(data @> '{\"a\": 1}'::jsonb)",
        _sql("scratch_data_gin", '"data"', " USING gin"),
    ),
    "jsonb-has-key": Case(
        lambda m: m.objects.filter(data__has_key="a"),
        "(data ? 'a'::text)",
        _sql("scratch_data_gin", '"data"', " USING gin"),
    ),
    "array-overlap": Case(
        lambda m: m.objects.filter(tags__overlap=[1]),
        "(tags && '{1}'::integer[])",
        _sql("scratch_tags_gin", '"tags"', " USING gin"),
    ),
    "range-contains": Case(
        lambda m: m.objects.filter(during__contains=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        "(during @> '2024-01-01 00:00:00+00'::timestamp with time zone)",
        _sql("scratch_during_gist", '"during"', " USING gist"),
    ),
    "iexact": Case(
        lambda m: m.objects.filter(name__iexact="x"),
        "(upper((name)::text) = 'X'::text)",
        _sql("scratch_upper_name_idx", '(upper(("name")::text))'),
    ),
    "istartswith": Case(
        lambda m: m.objects.filter(name__istartswith="ab"),
        "(upper((name)::text) ~~ 'AB%'::text)",
        _sql("scratch_upper_name_like_idx", '(upper(("name")::text)) text_pattern_ops'),
    ),
}
REFUSED = {
    # Issue 21: a plain btree on a soft-delete flag serves almost nothing.
    "not-boolean": Case(
        lambda m: m.objects.filter(is_removed=False),
        "(NOT is_removed)",
        "boolean-only",
    ),
    "endswith": Case(
        lambda m: m.objects.filter(name__endswith="abc"),
        "((name)::text ~~ '%abc'::text)",
        "leading-wildcard",
    ),
    "icontains": Case(
        lambda m: m.objects.filter(name__icontains="ab"),
        "(upper((name)::text) ~~ '%AB%'::text)",
        "leading-wildcard",
    ),
    "not-equal": Case(
        lambda m: m.objects.exclude(name="x"),
        "((name)::text <> 'x'::text)",
        "not-equal",
    ),
    # django-treebeard's shape: the pattern is built from the outer row's column.
    "pattern-from-row": Case(
        lambda m: m.objects.annotate(
            n=Subquery(m.objects.filter(name__startswith=OuterRef("name")).values("pk")[:1])
        ),
        "((name)::text ~~ (replace(replace(replace((qp_scratch.name)::text, '\\'::text, "
        "'\\\\'::text), '%'::text, '\\%'::text), '_'::text, '\\_'::text) || '%'::text))",
        "pattern-from-row",
        alias="u0",
    ),
}
# Only the pure rules: an OR would be served by one index per branch (a BitmapOr).
PURE_ONLY = {
    "or": Case(
        lambda m: m.objects.filter(Q(name="a") | Q(start=1)),
        "(((name)::text = 'a'::text) OR (start = 1))",
        "or-condition",
    ),
}


def _propose(
    filter_text: str, existing: list[IndexInfo] | None = None, alias: str | None = TABLE
) -> IndexSuggestion | NoSuggestion:
    return propose(
        TABLE,
        filter_text,
        column_types=TYPES,
        field_names=FIELDS,
        existing=existing or [],
        names=NameRegistry(),
        alias=alias,
    )


@pytest.mark.parametrize("case", [*SUGGESTED.values()], ids=[*SUGGESTED])
def test_suggestion_sql(case: Case) -> None:
    found = _propose(case.filter, alias=case.alias)
    assert isinstance(found, IndexSuggestion), found
    assert found.as_sql() == case.expected
    assert len(found.name) <= 30


@pytest.mark.parametrize(
    "case", [*REFUSED.values(), *PURE_ONLY.values()], ids=[*REFUSED, *PURE_ONLY]
)
def test_refusal_reason(case: Case) -> None:
    found = _propose(case.filter, alias=case.alias)
    assert isinstance(found, NoSuggestion), found
    assert (found.reason, found.table) == (case.expected, TABLE)
    assert explain_no_suggestion(found).startswith(f"No index suggested for {TABLE}: ")


@pytest.mark.parametrize(
    "filter_text, alias, expected",
    [
        # EXPLAIN VERBOSE qualifies the scan's own columns with its alias.
        ("((t.name)::text ~~ 'abc%'::text)", "t", '"name" varchar_pattern_ops'),
        # Another row's column is a parameter an index scan can take (a nested loop).
        ("(start = t0.id)", "t", '"start"'),
        ("(5 < start)", None, '"start"'),
        ('("end" = (InitPlan 1).col1)', None, '"end"'),
        (
            '((start > 1) AND (start = 2) AND ("end" IS NOT NULL) AND ("order" < 3))',
            None,
            '"start", "order", "end"',
        ),
    ],
)
def test_keys_read_from_filter(filter_text: str, alias: str | None, expected: str) -> None:
    # (Issue 21's ORs one index serves are test_an_or_one_index_serves_gets_that_index.)
    found = _propose(filter_text, alias=alias)
    assert isinstance(found, IndexSuggestion), found
    assert found.as_sql().endswith(f'ON "{TABLE}" ({expected});')


@pytest.mark.parametrize(
    "filter_text, reason",
    [
        ("(name = body)", "column-comparison"),
        ("(data <@ '{}'::jsonb)", "not-indexable"),  # no built-in GIN class has <@ for jsonb
        ("((data -> 'a'::text) = '1'::jsonb)", "expression"),
        ("(start = (SubPlan 1))", "subquery"),
        ("(NOT (ANY (id = (hashed SubPlan 1).col1)))", "subquery"),
        ("(start < (random() * 10))", "volatile"),
        ("((name)::text ~~* 'ab%'::text)", "case-insensitive-pattern"),
        ("((name)::text ~ 'abc'::text)", "unanchored-regex"),
        ("((name)::text ~~ $1)", "pattern-unknown"),
        ("(random() < 0.5)", "no-column"),
        ("(id = 5)", "already-indexed"),
        ("((id = ANY ('{5,6}'::bigint[])) AND (start = 1))", "already-indexed"),
        ("(this is not ) an expression", "unparsed"),
        # Issue 21: a flag alone gets no plain btree; an OR of sub-plans, the UNION rewrite.
        ("(NOT flag)", "boolean-only"),
        ("((hashed SubPlan 1) OR (hashed SubPlan 2))", "or-subqueries"),
        (
            "((ANY (id = (hashed SubPlan 1).col1)) OR (ANY (id = (hashed SubPlan 2).col1)))",
            "or-subqueries",
        ),
        ("((start = 1) OR (name = 'x'))", "or-condition"),
    ],
)
def test_refusals(filter_text: str, reason: str) -> None:
    found = _propose(filter_text, existing=[PKEY])
    assert isinstance(found, NoSuggestion), found
    assert found.reason == reason
    if reason == "already-indexed":
        assert found.detail.startswith(f"{TABLE}_pkey (id) is unique")


def _stored_conditions() -> list[str]:
    """Every condition text in the plans tests/plans/ captured from real servers."""
    found: set[str] = set()
    for path in (Path(__file__).parent / "plans").glob("pg*/*.json"):
        stack = [json.loads(path.read_text())]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                found.update(v for k, v in item.items() if k.endswith(("Cond", "Filter")))
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return sorted(text for text in found if isinstance(text, str))


@pytest.mark.parametrize(
    "text",
    [case.filter for case in (*SUGGESTED.values(), *REFUSED.values())] + _stored_conditions(),
)
def test_parser_reads_postgresql_text_back(text: str) -> None:
    # Written back with PostgreSQL's own quoting and parentheses, the tree is the same text.
    assert to_sql(parse(text), always_quote=False) == text


@pytest.mark.parametrize(
    "item, key, rest",
    [
        ("upper((name)::text) text_pattern_ops", "upper((name)::text)", " text_pattern_ops"),
        ('"desc" DESC NULLS LAST', '"desc"', " DESC NULLS LAST"),
        ("((data -> 'a'::text))", "(data -> 'a'::text)", ""),
    ],
)
def test_index_key_items(item: str, key: str, rest: str) -> None:
    expr, after = parse_prefix(item)
    assert (to_sql(expr, always_quote=False), after) == (key, rest)


def test_existing_index_with_the_keys_is_named() -> None:
    like = IndexInfo(
        f"{TABLE}_slug_like",
        TABLE,
        f"CREATE INDEX {TABLE}_slug_like ON public.{TABLE} USING btree (slug varchar_pattern_ops)",
    )
    trio = IndexInfo(
        f"{TABLE}_trio",
        TABLE,
        f'CREATE INDEX {TABLE}_trio ON public.{TABLE} USING btree (start, "end", name)',
    )
    found = _propose("((slug)::text ~~ 'a%'::text)", [like])
    assert isinstance(found, NoSuggestion) and found.reason == "already-indexed"
    assert found.detail == f"{TABLE}_slug_like (slug varchar_pattern_ops) already has these keys"
    # Equality keys are served in any order; a default-opclass key does not serve a LIKE.
    found = _propose('(("end" = 2) AND (start = 1))', [trio])
    assert isinstance(found, NoSuggestion) and found.detail.startswith(f"{TABLE}_trio ")
    found = _propose("(((name)::text ~~ 'a%'::text) AND (start = 1) AND (\"end\" = 2))", [trio])
    assert isinstance(found, IndexSuggestion)
    assert [key.column for key in found.keys] == ["start", "end", "name"]


def _name(names: NameRegistry, table: str, keys: tuple[str, ...], suffix: str, **kw) -> str:
    return names.name_for((table, suffix, keys), table, list(keys), suffix, **kw)


def test_names_are_unique_short_and_stable() -> None:
    names = NameRegistry()
    table = "treebeard_mp_node_with_a_long_name"
    sets = [("path",), ("path", "depth"), ("path", "depth", "numchild"), ("depth", "path")]
    given = [_name(names, table, keys, "idx") for keys in sets]
    assert len(set(given)) == len(sets)
    assert all(len(name) <= 30 and name[0].isalpha() for name in given)
    assert _name(names, table, ("path",), "idx") == given[0]
    assert _name(names, table, ("path",), "gist") != given[0]
    # A name an index of the table already has is never handed out.
    taken = _name(names, "app_t", ("x",), "idx", reserved=["t_x_idx"])
    assert taken != "t_x_idx" and taken.endswith("_idx")
    # Through the PostgreSQL proposal: labels are slugs, so a leading digit gets an "x".
    found = propose(
        "app_1t",
        '("9x" = 1)',
        column_types={"9x": "integer"},
        field_names={},
        existing=[],
        names=names,
    )
    assert isinstance(found, IndexSuggestion) and found.name == "x1t_x9x_idx"


def test_django_line_mixes_opclasses_through_expressions() -> None:
    found = _propose("((start = 3) AND ((name)::text ~~ 'abc%'::text))")
    assert isinstance(found, IndexSuggestion)
    assert found.as_django() == (
        'models.Index(F("start"), OpClass(F("name"), name="varchar_pattern_ops"), '
        'name="scratch_start_name_like_idx")'
    )
    assert found.django_imports() == [
        "from django.contrib.postgres.indexes import OpClass",
        "from django.db.models import F",
    ]
    unverified = found.render().splitlines()
    assert unverified[0].startswith("Suggestion (unverified: ")
    assert found.render(verified=True).splitlines()[0] == (
        "Suggestion (tried: PostgreSQL searched it when it was created inside the rolled-back "
        "savepoint, on this test's data (an Index Cond on it: proof the planner can use it, "
        "not that it is faster); check it at production volume): a btree index on "
        'qp_scratch ("start", "name" varchar_pattern_ops):'
    )
    assert unverified[1:] == [
        "    # from django.contrib.postgres.indexes import OpClass",
        "    # from django.db.models import F",
        f"    {found.as_django()}",
        f"    {found.as_sql()}",
    ]


def _bare(table: str, condition: str, fields: dict[str, str] | None = None) -> object:
    """A proposal without catalog facts (no types, no existing indexes)."""
    return propose(
        table,
        condition,
        column_types={},
        field_names=fields or {},
        existing=(),
        names=NameRegistry(),
    )


def test_a_proposal_without_catalog_facts() -> None:
    found = _bare(
        "upstream_alertrule",
        "((min_severity >= 50) AND (customer_id = 1))",
        {"customer_id": "customer", "min_severity": "min_severity"},
    )
    assert isinstance(found, IndexSuggestion)
    assert found.as_django() == (
        'models.Index(fields=["customer", "min_severity"], name="customer_min_severi_6a82c4_idx")'
    )
    assert found.as_sql() == (
        'CREATE INDEX CONCURRENTLY "customer_min_severi_6a82c4_idx" '
        'ON "upstream_alertrule" ("customer_id", "min_severity");'
    )
    assert isinstance(_bare("t", "(random() < 0.5)"), NoSuggestion)


# --- On the server: the Filters above are real, and the suggestions are used. ---


@pytest.fixture
def scratch(db: None) -> Iterator[Any]:
    """A table with awkward column names, created in the test's transaction (rolled back)."""
    from django.contrib.postgres.fields import ArrayField, DateTimeRangeField
    from django.db import connection, models
    from django.test.utils import isolate_apps

    with isolate_apps("upstream"):

        class Scratch(models.Model):
            kind = models.CharField(max_length=50, null=True, db_column="desc")
            finish = models.IntegerField(null=True, db_column="end")
            start = models.IntegerField(null=True)
            order = models.IntegerField(null=True)
            name = models.CharField(max_length=100)
            body = models.TextField()
            data = models.JSONField(null=True)
            tags = ArrayField(models.IntegerField(), null=True)
            during = DateTimeRangeField(null=True)
            is_removed = models.BooleanField(default=False)
            slug = models.SlugField(unique=True)  # a unique and a _like index, as Django makes

            class Meta:
                app_label = "upstream"
                db_table = TABLE

        with connection.schema_editor() as editor:
            editor.create_model(Scratch)
        _run("SET LOCAL enable_seqscan = off")
        yield Scratch


def _run(sql: str, params: Any = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def _explain(sql: str, params: Any, verbose: bool = False) -> Plan:
    options = "VERBOSE, FORMAT JSON" if verbose else "FORMAT JSON"
    return parse_plan(_run(f"EXPLAIN ({options}) {sql}", params)[0])


def _filtered_read(plan: Plan) -> PlanNode:
    nodes = [n for n in plan.nodes() if n.relation_name and n.filter and not n.index_cond]
    assert nodes, plan.render()
    return nodes[0]


def _narrowed_by(plan: Plan, name: str) -> bool:
    return any(node.index_name == name and node.index_cond for node in plan.nodes())


def _live_propose(node: PlanNode, fields: dict[str, str]) -> IndexSuggestion | NoSuggestion:
    from pytest_queryplan.dialects import get_backend

    backend = get_backend("default")
    table = node.relation_name or ""
    return propose(
        table,
        node.filter or "",
        column_types=backend.column_types(table),
        field_names=fields,
        existing=backend.indexes_on([table]),
        names=NameRegistry(),
        alias=node.alias,
    )


def _create_from_sql(found: IndexSuggestion, model: Any) -> None:
    # CONCURRENTLY cannot run inside a transaction; the index is the same without it.
    _run(found.as_sql().replace("CREATE INDEX CONCURRENTLY ", "CREATE INDEX ", 1))


def _create_from_django(found: IndexSuggestion, model: Any) -> None:
    from django.db import connection

    namespace: dict[str, Any] = {}
    exec("\n".join(["from django.db import models", *found.django_imports()]), namespace)
    index = eval(found.as_django(), namespace)
    with connection.schema_editor() as editor:
        editor.add_index(model, index)


@pytest.mark.parametrize("case", [*SUGGESTED.values()], ids=[*SUGGESTED])
def test_suggestion_is_used_by_the_planner(scratch: Any, case: Case) -> None:
    from django.db import transaction

    from pytest_queryplan.dialects import get_backend

    backend = get_backend("default")
    fields = {field.column: field.name for field in scratch._meta.concrete_fields}
    assert (backend.column_types(TABLE), fields) == (TYPES, FIELDS)
    sql, params = case.query(scratch).query.sql_with_params()
    node = _filtered_read(_explain(sql, params))
    # Django 6.1 quotes its subquery aliases ("U0"), so EXPLAIN keeps their case.
    assert node.filter == case.filter
    assert (node.alias or "").lower() == (case.alias or "").lower()
    found = _live_propose(node, fields)
    assert isinstance(found, IndexSuggestion), found
    assert found.as_sql() == case.expected
    # EXPLAIN VERBOSE qualifies the columns; the suggestion is the same.
    assert _live_propose(_filtered_read(_explain(sql, params, verbose=True)), fields) == found
    definitions = []
    for create in (_create_from_sql, _create_from_django):
        with transaction.atomic():
            create(found, scratch)
            plan = _explain(sql, params)
            assert _narrowed_by(plan, found.name), plan.render()
            (definition,) = _run("SELECT pg_get_indexdef(%s::regclass)", [found.name])
            definitions.append(definition)
            # Once it exists, the same Filter names it instead of suggesting it again.
            again = _live_propose(node, fields)
            assert isinstance(again, NoSuggestion), again
            assert again.reason == "already-indexed"
            assert again.detail.startswith(f"{found.name} (")
            transaction.set_rollback(True)
    assert definitions[0] == definitions[1]  # the Django line builds the same index


@pytest.mark.parametrize("case", [*REFUSED.values()], ids=[*REFUSED])
def test_refused_filters_gain_nothing_from_the_old_suggestions(scratch: Any, case: Case) -> None:
    sql, params = case.query(scratch).query.sql_with_params()
    node = _filtered_read(_explain(sql, params))
    # Django 6.1 quotes its subquery aliases ("U0"), so EXPLAIN keeps their case.
    assert node.filter == case.filter
    assert (node.alias or "").lower() == (case.alias or "").lower()
    found = _live_propose(node, {})
    assert isinstance(found, NoSuggestion), found
    assert found.reason == case.expected
    tried = {
        "qp_try_plain": '("name")',
        "qp_try_like": '("name" varchar_pattern_ops)',
        "qp_try_upper": '((upper(("name")::text)) text_pattern_ops)',
    }
    for name, keys in tried.items():
        _run(f'CREATE INDEX "{name}" ON "{TABLE}" {keys}')
    plan = _explain(sql, params)
    assert not any(_narrowed_by(plan, name) for name in tried), plan.render()


def test_existing_unique_like_and_primary_key_are_named(scratch: Any) -> None:
    """The model-utils and treebeard findings: no index on id, none on a column that has
    a unique and a _like index already, when the planner reads the table anyway."""
    from django.db import transaction

    from pytest_queryplan.dialects import get_backend

    existing = get_backend("default").indexes_on([TABLE])
    like = next(i.name for i in existing if i.name.endswith("_like"))
    unique = next(i.name for i in existing if i.unique and "slug" in i.definition)
    queries = {
        like: scratch.objects.filter(slug__startswith="a"),
        unique: scratch.objects.filter(slug="a"),
        f"{TABLE}_pkey": scratch.objects.filter(pk=5),
    }
    with transaction.atomic():
        # As on a small table, where the planner prefers reading it whole.
        for setting in ("seqscan = on", "indexscan = off", "bitmapscan = off"):
            _run(f"SET LOCAL enable_{setting}")
        for name, query in queries.items():
            node = _filtered_read(_explain(*query.query.sql_with_params()))
            found = _live_propose(node, {})
            assert isinstance(found, NoSuggestion), found
            assert (found.reason, found.detail.split(" (")[0]) == ("already-indexed", name)
        transaction.set_rollback(True)


def test_ltree_containment_gets_gist_not_btree(db: None) -> None:
    (available,) = _run("SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'ltree')")
    if not available:
        pytest.skip("the ltree extension is not available on this server")
    _run("CREATE EXTENSION IF NOT EXISTS ltree")
    _run("CREATE TABLE qp_scratch_tree (id bigint PRIMARY KEY, path ltree NOT NULL)")
    _run("SET LOCAL enable_seqscan = off")
    sql, params = "SELECT id FROM qp_scratch_tree WHERE path <@ %s::ltree", ["top.science"]
    node = _filtered_read(_explain(sql, params))
    assert node.filter == "(path <@ 'top.science'::ltree)"
    found = _live_propose(node, {})
    assert isinstance(found, IndexSuggestion), found
    assert found.as_sql() == (
        'CREATE INDEX CONCURRENTLY "scratch_tree_path_gist" ON "qp_scratch_tree" '
        'USING gist ("path");'
    )
    _run("CREATE INDEX qp_try_btree ON qp_scratch_tree (path)")
    assert not _narrowed_by(_explain(sql, params), "qp_try_btree")
    _create_from_sql(found, None)
    assert _narrowed_by(_explain(sql, params), found.name)


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        # Issue 21: four ltree <@ on one column (treebeard) are one GiST's BitmapOr; here
        # a range column's @>, and a btree's = on one column.
        (
            "((during @> '2024-01-01'::timestamptz) OR (during @> '2025-01-01'::timestamptz))",
            '"during") USING gist',
        ),
        ("((start = 1) OR (start = 2) OR (start > 9))", '"start"'),
    ],
)
def test_an_or_one_index_serves_gets_that_index(filter_text: str, expected: str) -> None:
    found = _propose(filter_text)
    assert isinstance(found, IndexSuggestion), found
    sql = found.as_sql()
    assert sql.endswith(f"({expected.split(')')[0]});") or expected.replace('")', '"') in sql
    assert ("USING gist" in sql) == ("gist" in expected)


def test_a_boolean_filter_is_judged_by_the_statistics() -> None:
    from pytest_queryplan.dialects.postgresql.suggest import boolean_advice

    unknown = boolean_advice("(NOT is_removed)")
    assert "Where the rows it keeps are few, a partial index" in unknown
    most = boolean_advice("(NOT is_removed)", 950, 1000)
    assert "expects 950 of 1000 rows (95%) to pass it: no index would help" in most
    few = boolean_advice("(is_flagged)", 12, 1000)
    assert few.endswith(
        "so a partial index (condition: (is_flagged)) on the columns the "
        "query searches or orders by would serve it"
    )
