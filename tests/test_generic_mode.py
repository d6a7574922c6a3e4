"""Generic mode: the plan a statement gets once prepared, asked of a real server.

PostgreSQL 16+ answers ``EXPLAIN (GENERIC_PLAN)``; 12-15 ``PREPARE`` under
``plan_cache_mode = force_generic_plan`` and ``EXPLAIN EXECUTE``. The same file runs on
both (embedded 18, ``DATABASE_URL`` 15) and on both drivers, so the assertions that
differ say which path they are about. The shop app's ``order_open_customer_idx``
(``customer_id`` WHERE ``status = 'open'``) is the partial index a bound ``status``
parameter cannot prove.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest
from django.db import connection, connections
from django.db.models.expressions import RawSQL

from pytest_queryplan import QueryPlanAssertionError, QueryPlanUsageError
from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.core.plan.tree import parse_plan
from pytest_queryplan.dialects import server_binding_aliases
from pytest_queryplan.dialects.postgresql import POSTGRESQL
from pytest_queryplan.dialects.postgresql.backend import GENERIC_STATEMENT, PostgreSQLBackend
from pytest_queryplan.dialects.postgresql.drivers.psycopg2 import param_types as literal_types
from pytest_queryplan.dialects.postgresql.generic_text import server_binding_line
from pytest_queryplan.dialects.postgresql.placeholders import PlaceholderError, numbered
from tests.conftest import write_ini
from tests.shop.models import Book, Order
from tests.test_drivers import (  # noqa: F401 - fixtures
    IDLE,
    INTRANS,
    counted,
    is_psycopg3,
    nothing_parsed_yet,
)

OPEN_INDEX = "order_open_customer_idx"


def open_orders():
    return Order.objects.filter(customer_id=3, status="open")


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def leftover_statements() -> int:
    return scalar(
        "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [GENERIC_STATEMENT]
    )


def conditions(plan) -> str:
    return " ".join(c for n in plan.nodes() for c in (n.index_cond, n.recheck_cond, n.filter) if c)


# --- placeholders, types and texts: no database --------------------------------------


def test_placeholders_become_numbered_parameters_only_in_code():
    sql = (
        "SELECT '%%s, it''s 100%%', E'\\' %s', \"a%%b\", $$ %s $$ /* %s /* %s */ */ "
        "FROM t WHERE a = %s -- %s\n AND b LIKE '%%' || %s"
    )
    result = numbered(sql, [0, 1, 2, 3, 4, 5, 6])
    # Each placeholder takes its value as the driver would; only code gets a $n.
    assert result.sql == (
        "SELECT '%s, it''s 100%', E'\\' %s', \"a%b\", $$ %s $$ /* %s /* %s */ */ "
        "FROM t WHERE a = $1 -- %s\n AND b LIKE '%' || $2"
    )
    assert result.values == (4, 6)
    assert result.typed(["integer", None]).endswith("a = $1::integer -- %s\n AND b LIKE '%' || $2")


def test_named_placeholders_share_their_number():
    result = numbered("SELECT %(a)s, %(b)s, %(a)s", {"a": 1, "b": "x", "unused": 2})
    assert (result.sql, result.keys, result.values) == ("SELECT $1, $2, $1", ("a", "b"), (1, "x"))
    # Without parameters the driver reads no placeholder, and neither does generic mode.
    assert numbered("SELECT 5 %% 2", None).sql == "SELECT 5 %% 2"
    assert numbered("SELECT 5 %% 2", ()).sql == "SELECT 5 % 2"


@pytest.mark.parametrize(
    ("sql", "params", "error"),
    [
        ("SELECT %d", [1], "'%d' at character 8 is not a placeholder"),
        ("SELECT 100 %", [], "'%' at character 12 is not a placeholder"),
        ("SELECT %s", [1, 2], "1 placeholders and 2 parameters"),
        ("SELECT %(a)s", [1], "mixes positional and named placeholders"),
        ("SELECT %(a)s", {}, "No parameter named 'a'"),
    ],
)
def test_placeholders_the_driver_would_refuse(sql, params, error):
    with pytest.raises(PlaceholderError, match=error):
        numbered(sql, params)


def test_psycopg2_parameters_are_typed_as_the_server_types_its_literals():
    aware = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    values = [1, 2**40, 2**70, True, 1.5, decimal.Decimal("1"), aware, uuid.uuid4(), "x", None]
    assert literal_types(values) == [
        "integer",
        "bigint",
        "numeric",
        "boolean",
        "numeric",
        "numeric",
        "timestamptz",
        "uuid",
        None,
        None,
    ]


def test_generic_is_a_mode_everywhere_modes_are_parsed():
    assert Mode.parse("generic", "mode=") is Mode.GENERIC
    assert "generic" in Mode.choices() and POSTGRESQL.modes == set(Mode)
    assert all(POSTGRESQL.mode_text(mode) for mode in Mode)
    with pytest.raises(QueryPlanUsageError, match="'forced', 'natural', 'generic'"):
        Mode.parse("prepared", "mode=")


def test_the_summary_says_once_when_a_connection_binds_on_the_server():
    assert server_binding_line([], "forced") is None
    assert server_binding_line(["default"], "generic") is None
    assert server_binding_line(["default"], "forced") == (
        "server-side binding on 'default': its statements are prepared, and PostgreSQL plans "
        "them without their values after five executions; checks ran in forced mode, with "
        "the values. Run with --queryplan-mode=generic to check the plans production gets."
    )


# --- the plan and its safety, on a real server ------------------------------------------


@pytest.mark.django_db
def test_the_generic_plan_has_parameters_where_the_values_were(queryplan):
    generic = queryplan.explain(open_orders(), mode="generic")
    forced = queryplan.explain(open_orders(), mode="forced")
    assert "$1" in conditions(generic) and "$2" in conditions(generic)
    assert "'open'" not in conditions(generic)
    assert OPEN_INDEX not in generic.index_names
    assert OPEN_INDEX in forced.index_names


@pytest.mark.django_db
@pytest.mark.parametrize("analyze", [False, True], ids=["plan", "analyze"])
def test_generic_mode_leaves_the_session_as_it_was(queryplan, analyze):
    before = [scalar("SHOW enable_seqscan"), scalar("SHOW plan_cache_mode")]
    plan = queryplan.explain(open_orders(), mode="generic", analyze=analyze)
    assert plan.tables == {Order._meta.db_table}
    assert (plan.execution_time is not None) == analyze
    assert [scalar("SHOW enable_seqscan"), scalar("SHOW plan_cache_mode")] == before
    assert before == ["on", "auto"]
    assert leftover_statements() == 0
    assert int(connection.connection.info.transaction_status) == INTRANS  # the test's, open


@pytest.mark.django_db
def test_a_failure_after_prepare_still_deallocates(queryplan):
    """A value EXECUTE cannot take fails after PREPARE ran: the rollback to the savepoint
    does not undo a PREPARE, so the statement must be deallocated by hand."""
    target = ("SELECT id FROM shop_order WHERE customer_id = %s", ["not a number"])
    # EXPLAIN ANALYZE always runs the prepared statement (GENERIC_PLAN cannot run it).
    with pytest.raises(QueryPlanUsageError, match="invalid input syntax for type integer"):
        queryplan.explain(target, mode="generic", analyze=True)
    assert leftover_statements() == 0
    if connection.pg_version >= 160000:  # no value is needed to plan it
        assert queryplan.explain(target, mode="generic").tables == {"shop_order"}
    else:
        with pytest.raises(QueryPlanUsageError, match="invalid input syntax"):
            queryplan.explain(target, mode="generic")
    assert leftover_statements() == 0
    assert scalar("SELECT count(*) FROM shop_order") == 0  # the transaction is usable


@pytest.mark.django_db
def test_a_leftover_prepared_statement_is_cleared(queryplan):
    """An interrupted run may leave the statement behind: the next call fails on it once,
    clears it, and the one after works."""
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE {GENERIC_STATEMENT} AS SELECT 1")
    with pytest.raises(QueryPlanUsageError, match="already exists"):
        queryplan.explain(open_orders(), mode="generic", analyze=True)
    assert leftover_statements() == 0
    again = queryplan.explain(open_orders(), mode="generic", analyze=True)
    assert again.tables == {Order._meta.db_table} and again.execution_time is not None


@pytest.mark.django_db
@pytest.mark.parametrize("analyze", [False, True], ids=["plan", "analyze"])
def test_a_syntax_error_leaves_the_transaction_usable(queryplan, analyze):
    with pytest.raises(QueryPlanUsageError, match="syntax error"):
        target = ("SELEC id FROM shop_order WHERE id = %s", [1])
        queryplan.explain(target, mode="generic", analyze=analyze)
    assert leftover_statements() == 0
    assert scalar("SELECT count(*) FROM shop_order") == 0


@pytest.mark.django_db
def test_literals_comments_and_named_placeholders_reach_the_server_intact(queryplan):
    plan = queryplan.explain(
        (
            "SELECT id, '100%%s' FROM shop_order /* %%s */ "
            "WHERE customer_id = %(c)s AND (total = %(c)s OR status = %(s)s)",
            {"c": 3, "s": "open"},
        ),
        mode="generic",
    )
    assert "$1" in conditions(plan) and "$2" in conditions(plan) and "$3" not in conditions(plan)


@pytest.mark.django_db
def test_a_statement_without_parameters_plans_as_in_forced_mode(assert_uses_index):
    sql = "SELECT id FROM shop_order WHERE customer_id = 3 AND status = 'open'"
    assert_uses_index((sql, None), OPEN_INDEX, mode="generic")
    assert_uses_index((sql, ()), OPEN_INDEX, mode="generic")


def test_types_and_plan_are_the_ones_server_side_binding_gets(db):
    """Django with server-side binding prepares the statement itself (psycopg's
    prepare_threshold=0: at once). PostgreSQL's record of it gives the types psycopg
    declared, and its generic plan: generic mode must match both."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if not is_psycopg3:
        pytest.skip("server-side binding needs psycopg 3")
    import psycopg
    from psycopg import sql

    default = connections["default"]
    options = {**default.settings_dict["OPTIONS"], "server_side_binding": True}
    settings = {**default.settings_dict, "OPTIONS": {**options, "prepare_threshold": 0}}
    binding = type(default)(settings, alias=default.alias)
    try:
        query = open_orders().query.get_compiler(connection=binding).as_sql()
        backend = PostgreSQLBackend(binding)
        ours = backend.param_types(list(query[1]))
        with binding.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(*query)
            # Found by its text: psycopg sent the very $n text generic mode explains.
            cursor.execute(
                "SELECT name, parameter_types::text[] FROM pg_prepared_statements "
                "WHERE NOT from_sql AND statement = %s",
                [numbered(*query).sql],
            )
            name, declared = cursor.fetchone()
        with psycopg.ClientCursor(binding.connection) as raw:
            execute = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}(%s, %s)").format(
                sql.Identifier(name)
            )
            raw.execute(execute, list(query[1]))
            theirs = raw.fetchone()[0]
        assert ours[0] == declared[0] == "integer"  # Django's Int4 for an IntegerField
        assert ours[1] is None and declared[1] == "text"  # a str: the server infers it
        mine = parse_plan(backend.explain(*query, mode=Mode.GENERIC))
        expected = parse_plan(theirs)
        shape = [(n.node_type, n.index_name, n.filter) for n in mine.nodes()]
        assert shape == [(n.node_type, n.index_name, n.filter) for n in expected.nodes()]
    finally:
        binding.close()


# --- the check, and the failure that explains it ---------------------------------------


@pytest.mark.django_db
def test_a_partial_index_lost_once_prepared(assert_uses_index):
    assert_uses_index(open_orders(), OPEN_INDEX)  # fine with its values (forced mode)
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(open_orders(), OPEN_INDEX, mode="generic")
    lines = str(failure.value).splitlines()
    assert lines[0] == (
        f'Expected the query to use index "{OPEN_INDEX}" once prepared, but its generic plan '
        "does not: with its values bound the planner uses the index (forced mode), without "
        "them it cannot."
    )
    assert lines[1] == f"({POSTGRESQL.mode_text(Mode.GENERIC)})"
    assert (
        "    the predicate says (status)::text = 'open'::text; the statement: "
        "(status)::text = $2 ($2 is 'open')"
    ) in lines
    text = "\n".join(lines)
    assert """.filter(status=RawSQL("'open'", [])) writes status = ('open')""" in text
    assert "an index without the predicate" in text and "(customer_id, status)." in text
    proof = text.split("With its values (forced mode) the planner used it:\n")[1]
    assert f"{OPEN_INDEX} on shop_order  <-- uses {OPEN_INDEX}" in proof.split("\n\n")[0]
    assert "Index Cond: (customer_id = 3)" in proof.split("\n\n")[0]
    assert "Plan:\n" in text and "(customer_id = $1)" in text.split("Plan:\n")[1]


@pytest.mark.django_db
def test_the_fixes_the_failure_names_survive_a_generic_plan(assert_uses_index):
    literal = Order.objects.filter(customer_id=3, status=RawSQL("'open'", []))
    assert_uses_index(literal, OPEN_INDEX, mode="generic")
    # A full index on both columns serves the statement with its parameters.
    full = Book.objects.filter(customer_id=3, status="open")
    assert_uses_index(full, "book_customer_status_idx", mode="generic")


@pytest.mark.django_db
def test_a_like_prefix_lost_once_prepared(assert_uses_index):
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(
            Book.objects.filter(sku__startswith="ab"), "book_sku_like_idx", mode="generic"
        )
    text = str(failure.value)
    assert "once prepared" in text
    assert "    (sku)::text ~~ $1 ($1 is 'ab%'): a pattern match searches an index only" in text
    assert """.filter(sku__startswith=RawSQL("'ab'", []))""" in text
    fixed = Book.objects.filter(sku__startswith=RawSQL("'ab'", []))
    assert_uses_index(fixed, "book_sku_like_idx", mode="generic")


@pytest.mark.django_db
def test_a_query_that_fails_with_its_values_too_gets_forced_modes_failure(assert_uses_index):
    closed = Order.objects.filter(customer_id=3, status="closed")
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(closed, OPEN_INDEX, mode="generic")
    text = str(failure.value)
    assert "once prepared" not in text
    assert f"({POSTGRESQL.mode_text(Mode.FORCED)})" in text
    assert "the query: ((status)::text = 'closed'::text)" in text


@pytest.mark.django_db
def test_the_block_form_in_generic_mode(assert_uses_index):
    with pytest.raises(QueryPlanAssertionError, match="a query in the block to use index"):
        with assert_uses_index(OPEN_INDEX, mode="generic"):
            assert open_orders().count() == 0
    with assert_uses_index(OPEN_INDEX, mode="generic"):
        Order.objects.filter(customer_id=3, status=RawSQL("'open'", [])).exists()


# --- every place a mode is chosen: call, marker, ini, flag, TestCase mixin ---------------

EVERYWHERE = """
import pytest
from django.test import TestCase
from pytest_queryplan.dialects import server_binding_aliases
from pytest_queryplan.testcase import QueryPlanMixin
from tests.shop.models import Order

INDEX = "order_open_customer_idx"


def orders():
    return Order.objects.filter(customer_id=3, status="open")


@pytest.mark.django_db
def test_call(assert_uses_index):
    assert_uses_index(orders(), INDEX)


@pytest.mark.django_db
@pytest.mark.queryplan(uses_index=INDEX)
def test_marker():
    list(orders())


@pytest.mark.django_db
@pytest.mark.queryplan(uses_index=INDEX, mode="generic")
def test_marker_generic():
    list(orders())


class Case(QueryPlanMixin, TestCase):
    def test_mixin(self):
        self.assertUsesIndex(orders(), INDEX)


def test_binding(pytestconfig):
    expected = pytestconfig.getoption("binding")
    assert server_binding_aliases() == ([expected] if expected else [])
"""


@pytest.fixture
def everywhere(django_pytester: pytest.Pytester) -> pytest.Pytester:
    django_pytester.makepyfile(test_everywhere=EVERYWHERE)
    django_pytester.makeconftest(
        "def pytest_addoption(parser):\n    parser.addoption('--binding', default='')\n"
    )
    return django_pytester


def test_the_mode_comes_from_the_flag_the_ini_or_the_marker(everywhere):
    write_ini(everywhere, settings="tests.settings")
    forced = everywhere.runpytest_subprocess("--binding=")
    forced.assert_outcomes(passed=4, failed=1)
    forced.stdout.fnmatch_lines(["*test_marker_generic*", "*once prepared*"])
    flag = everywhere.runpytest_subprocess("--binding=", "--queryplan-mode=generic")
    flag.assert_outcomes(passed=1, failed=4)
    # Counted in the failure texts only: how much of them the short summary repeats
    # depends on the terminal's width.
    headlines = [line for line in flag.outlines if line.startswith("E ")]
    assert sum(f'use index "{OPEN_INDEX}" once prepared' in line for line in headlines) == 4
    write_ini(everywhere, settings="tests.settings", extra=["queryplan_mode = generic"])
    ini = everywhere.runpytest_subprocess("--binding=")
    ini.assert_outcomes(passed=1, failed=4)


SERVER_BINDING_SETTINGS = """
from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES = {
    "default": {
        **DATABASES["default"],
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), "server_side_binding": True},
    }
}
"""


def test_a_server_side_binding_connection_is_named(everywhere):
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    everywhere.makepyfile(binding_settings=SERVER_BINDING_SETTINGS)
    write_ini(everywhere, settings="binding_settings")
    expected = "default" if is_psycopg3 else ""  # psycopg2 never binds on the server
    result = everywhere.runpytest_subprocess(f"--binding={expected}", "-k", "binding or call")
    result.assert_outcomes(passed=2)
    assert server_binding_aliases() == []  # this run's own connection binds on the client


# --- what it costs on the wire ----------------------------------------------------------

# (transaction, autocommit) trips. 16+: the savepoint, then GENERIC_PLAN in the simple
# protocol (its $n must reach the server without values); psycopg2 as for any EXPLAIN.
# 12-15: the PREPARE path as one EXPLAIN, and the DEALLOCATE as another.
GENERIC_TRIPS = {
    ("psycopg", True): (2, 2),
    ("psycopg", False): (2, 2),
    ("psycopg2", True): (3, 2),
    ("psycopg2", False): (6, 4),
}


@pytest.mark.parametrize("state", ["transaction", "autocommit"])
def test_round_trips_per_generic_explain(counted, state):  # noqa: F811
    proxy, backend, wrapper = counted
    if state == "transaction":
        wrapper.set_autocommit(False)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    sql, params = open_orders().query.sql_with_params()
    trips = proxy.count(lambda: backend.explain(sql, params, mode=Mode.GENERIC))
    driver = "psycopg" if is_psycopg3() else "psycopg2"
    expected = GENERIC_TRIPS[driver, wrapper.pg_version >= 160000]
    assert trips == expected[state == "autocommit"]
    status = int(wrapper.connection.info.transaction_status)
    assert status == (INTRANS if state == "transaction" else IDLE)
    if state == "transaction":
        wrapper.rollback()


BINDING_SETTINGS = """
from tests.settings import *  # noqa: F403

DATABASES["default"]["OPTIONS"] = {"server_side_binding": True}  # noqa: F405
"""


def test_a_server_binding_run_says_so_once_in_its_summary(
    django_pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("psycopg", reason="server-side binding is psycopg 3's")
    django_pytester.makepyfile(
        binding_settings=BINDING_SETTINGS,
        test_binding="""
        import pytest
        from upstream.models import Customer

        @pytest.mark.django_db
        def test_lookup():
            assert not Customer.objects.filter(slug="x").exists()
        """,
    )
    write_ini(django_pytester, settings="binding_settings")
    forced = django_pytester.runpytest_subprocess("--queryplan-guard=warn")
    forced.assert_outcomes(passed=1)
    assert forced.stdout.str().count("server-side binding on 'default'") == 1
    generic = django_pytester.runpytest_subprocess(
        "--queryplan-guard=warn", "--queryplan-mode=generic"
    )
    generic.assert_outcomes(passed=1)
    assert "server-side binding" not in generic.stdout.str()
