"""Index hygiene judged over catalog entries: keys as written, unused and redundant indexes.

The entries are PostgreSQL's own ``pg_get_indexdef`` texts for upstream's tables (the
integration run in ``test_merge.py`` reads them from the live catalog).
"""

from __future__ import annotations

import pytest

from pytest_queryplan.core.checks.catalog import IndexInfo, key_items
from pytest_queryplan.core.report.hygiene import redundant, unused


def index(name: str, table: str, keys: str, *, unique: bool = False, where: str = "") -> IndexInfo:
    kind = "UNIQUE INDEX" if unique else "INDEX"
    definition = f"CREATE {kind} {name} ON public.{table} USING btree ({keys})"
    if where:
        definition += f" WHERE {where}"
    return IndexInfo(name, table, definition, predicate=where or None, unique=unique)


UPSTREAM = [
    index("upstream_userprofile_pkey", "upstream_userprofile", "id", unique=True),
    index("upstream_userprofile_user_id_key", "upstream_userprofile", "user_id", unique=True),
    index("upstream_userprofile_customer_id_bb264335", "upstream_userprofile", "customer_id"),
    index("userprofile_customer_role_idx", "upstream_userprofile", "customer_id, role"),
    index("upstream_customer_slug_key", "upstream_customer", "slug", unique=True),
    index("upstream_customer_slug_e0f295e5_like", "upstream_customer", "slug varchar_pattern_ops"),
    index(
        "alertrule_eval_priority_idx",
        "upstream_alertrule",
        "customer_id, routing_priority DESC",
        where="enabled",
    ),
]


@pytest.mark.parametrize(
    ("definition", "keys"),
    [
        ("CREATE INDEX a ON public.t USING btree (customer_id, role)", ("customer_id", "role")),
        (
            "CREATE INDEX a ON public.t USING btree (customer_id, routing_priority DESC) "
            "WHERE enabled",
            ("customer_id", "routing_priority DESC"),
        ),
        (
            "CREATE INDEX a ON public.t USING btree (slug varchar_pattern_ops)",
            ("slug varchar_pattern_ops",),
        ),
        ("CREATE INDEX a ON public.t USING btree (a) INCLUDE (b, c)", ("a",)),
        (
            "CREATE INDEX a ON public.t USING btree (lower((email)::text), (x + 1))",
            ("lower((email)::text)", "(x + 1)"),
        ),
        ('CREATE INDEX a ON public.t USING btree ("odd, name", b)', ('"odd, name"', "b")),
        ("CREATE INDEX a ON public.t", ()),
    ],
)
def test_key_items_as_written(definition: str, keys: tuple[str, ...]) -> None:
    assert key_items(definition) == keys


def test_the_foreign_key_index_next_to_the_composite_is_redundant() -> None:
    tables = {"upstream_userprofile", "upstream_customer", "upstream_alertrule"}
    found = redundant(UPSTREAM, tables)
    assert [(r.index.name, r.covered_by) for r in found] == [
        ("upstream_userprofile_customer_id_bb264335", ("userprofile_customer_role_idx",))
    ]


def test_a_pattern_ops_index_is_not_the_plain_index_it_shadows() -> None:
    # Same column, different operator class: LIKE 'x%' needs the one, = the other.
    assert redundant(UPSTREAM, {"upstream_customer"}) == []


def test_a_different_predicate_is_never_redundant() -> None:
    partial = index("rule_customer_enabled", "upstream_alertrule", "customer_id", where="enabled")
    plain = index("rule_customer", "upstream_alertrule", "customer_id")
    found = redundant([partial, plain, UPSTREAM[-1]], {"upstream_alertrule"})
    assert [r.index.name for r in found] == ["rule_customer_enabled"]
    assert found[0].covered_by == ("alertrule_eval_priority_idx",)


def test_twins_keep_the_unique_one_else_the_first_by_name() -> None:
    a = index("a_idx", "t", "x, y")
    b = index("b_idx", "t", "x, y")
    u = index("u_key", "t", "x, y", unique=True)
    assert [(r.index.name, r.covered_by) for r in redundant([b, a], {"t"})] == [
        ("b_idx", ("a_idx",))
    ]
    found = redundant([a, u], {"t"})
    assert [(r.index.name, r.covered_by) for r in found] == [("a_idx", ("u_key",))]


def test_only_tables_the_queries_touched_are_judged() -> None:
    assert redundant(UPSTREAM, {"upstream_customer"}) == []
    assert unused(UPSTREAM, set(), {"upstream_customer"}) == [UPSTREAM[5]]


def test_unused_leaves_out_unique_and_used_indexes() -> None:
    used = {"userprofile_customer_role_idx"}
    names = [i.name for i in unused(UPSTREAM, used, {"upstream_userprofile"})]
    assert names == ["upstream_userprofile_customer_id_bb264335"]


def test_entries_survive_json() -> None:
    entry = UPSTREAM[-1]
    assert IndexInfo.from_dict({**entry.to_dict(), "extra": 1}) == entry
    assert entry.shown == "alertrule_eval_priority_idx (customer_id, routing_priority DESC)"
