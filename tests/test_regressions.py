"""The regression catalogue: issue 9's proof, on real models, queries and servers.

For every way a query commonly loses its index (``regression_cases.py``), the broken
query must FAIL ``assert_uses_index`` with its own explanation (``regression_texts.py``),
in the target form and in the block form, and its fixed twin must PASS. The same queries
then run as plain tests in one inner pytest run with ``--queryplan-guard=fail``, whose
JSON report says which of them the guard flags. Forced mode and strict, the defaults,
throughout; every test makes its rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet

from pytest_queryplan import (
    AssertUsesIndex,
    Plan,
    QueryPlanAssertionError,
    QueryPlanUsageError,
    parse_plan,
)
from tests import regression_cases as cases
from tests.conftest import REPO_ROOT, write_ini
from tests.regression_cases import BY_NAME, CATALOGUE, Query, Regression
from tests.regression_texts import (
    EXPECT,
    GUARD_CATCHES,
    GUARD_MISSES,
    GUARD_WARNS,
    REFUSE,
    SEQ_READ_CAUSES,
)
from tests.shop.models import Order

FORMS = ("target", "block")


def _pairs(regressions: tuple[Regression, ...]) -> list[object]:
    """(regression, form): the target form explains the QuerySet's own SELECT, so it
    applies where code lists the rows; the block form runs the query as code does."""
    return [
        pytest.param(regression, form, id=f"{regression.name}-{form}")
        for regression in regressions
        for form in FORMS
        if form == "block" or {"list", "first_row"} & set(regression.forms)
    ]


@pytest.fixture
def shop_rows(db: None) -> None:
    """The rows every catalogue test plans against, made inside the test's transaction."""
    cases.make_rows()


def check(
    assert_uses_index: AssertUsesIndex, regression: Regression, query: Query, form: str
) -> Plan | None:
    """Assert that ``query``'s index serves it, in the target form or the block form."""
    queryset = query.prepare()
    options = dict(regression.options)
    if form == "target":
        if "first_row" in regression.forms:
            queryset = queryset.order_by()[:1]
        return assert_uses_index(queryset, query.index, **options)
    with assert_uses_index(query.index, **options):
        cases.run(queryset, regression.forms[-1])
    return None


def test_every_class_has_its_explanation() -> None:
    assert set(EXPECT) == {r.name for r in CATALOGUE} - {"first_walk"}
    assert set(REFUSE) | set(SEQ_READ_CAUSES) <= set(EXPECT)
    assert len({r.title for r in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize(
    ("regression", "form"), _pairs(tuple(r for r in CATALOGUE if r.name != "first_walk"))
)
def test_broken_query_fails_with_its_explanation(
    assert_uses_index: AssertUsesIndex, shop_rows: None, regression: Regression, form: str
) -> None:
    if regression.name == "startswith":
        _assert_like_needs_an_opclass()
    with pytest.raises(QueryPlanAssertionError) as failure:
        check(assert_uses_index, regression, regression.broken, form)
    text = str(failure.value)
    texts = EXPECT[regression.name]
    for wanted in texts.get("both", ()) + texts.get(form, ()):
        assert wanted in text
    for unwanted in REFUSE.get(regression.name, ()):
        assert unwanted not in text


@pytest.mark.parametrize(("regression", "form"), _pairs(CATALOGUE))
def test_fixed_twin_passes(
    assert_uses_index: AssertUsesIndex, shop_rows: None, regression: Regression, form: str
) -> None:
    if regression.name == "not_equal" and connection.pg_version < 170000:
        # The fix, IN on the index's second key: PostgreSQL 17 and later search it; older
        # servers (measured: 15) leave it to the Filter for these rows, and the failure
        # says so. The fix that holds everywhere is one value (not_in's twin).
        with pytest.raises(QueryPlanAssertionError) as failure:
            check(assert_uses_index, regression, regression.fixed, form)
        text = str(failure.value)
        assert "    Filter: ((status)::text = ANY ('{closed,lost,sold}'::text[]))" in text
        assert "before PostgreSQL 17 the planner often does so for a key after the first" in text
        return
    plan = check(assert_uses_index, regression, regression.fixed, form)
    assert plan is None or regression.fixed.index in plan.index_names


def _assert_like_needs_an_opclass() -> None:
    """Under the C collation a plain btree *can* search a LIKE prefix: the startswith
    class does not exist there, and the catalogue says so rather than pass vacuously."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        (collation,) = cursor.fetchone()
    assert collation not in ("C", "POSIX"), f"collation {collation}: btrees serve LIKE prefixes"


def test_first_walk_is_the_guards_to_catch(
    assert_uses_index: AssertUsesIndex, shop_rows: None
) -> None:
    """``.first()`` on a filter no index serves: ORDER BY id LIMIT 1 walks the whole pkey
    and filters every row; the guard warns of it (below), its own kind. The strict
    assertion accepts the pkey *by its rule*: the walk delivers the query's ORDER BY under
    a LIMIT, and price is no key of the pkey. Naming the index the query was meant to use fails."""
    broken = BY_NAME["first_walk"].broken
    with assert_uses_index("shop_book_pkey") as walked:
        cases.run(broken.build(), "first")
    (query,) = walked.captured
    assert query.plan is not None
    (walk,) = [node for node in query.plan.nodes() if node.index_name == "shop_book_pkey"]
    assert walk.index_cond is None and walk.filter == "(price = 5)"
    with pytest.raises(QueryPlanAssertionError) as failure:
        with assert_uses_index("book_order_idx"):
            cases.run(broken.build(), "first")
    assert "shop_book_pkey used instead" in str(failure.value)


def test_partial_predicate_with_a_bound_parameter(
    assert_uses_index: AssertUsesIndex, shop_rows: None
) -> None:
    """The partial index's column compared with a bound parameter (``status = %s``).

    Provable with plain EXPLAIN: the verdict for the value bound. The driver binds it
    before PostgreSQL plans (on the client by Django's default; psycopg 3's server-side
    binding sends an unnamed statement, planned with the value), so the planner sees
    ``'open'`` and uses the index, or ``'closed'`` and cannot.
    Not provable without a generic mode: whether a *generic* plan, where ``status = $2``
    (a statement prepared and run often enough), uses it. It cannot: only a constant
    implies a predicate. The last lines show that on this server, outside the plugin.
    """

    def orders(status: str) -> QuerySet[Order]:
        return Order.objects.filter(customer_id=3, status=status)

    sql, params = orders("open").query.sql_with_params()
    assert '"shop_order"."status" = %s' in sql and "open" in params  # bound, not pasted
    plan = assert_uses_index(orders("open"), cases.ORDER_OPEN)
    assert cases.ORDER_OPEN in plan.index_names
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(orders("closed"), cases.ORDER_OPEN)
    assert "the query: ((status)::text = 'closed'::text)" in str(failure.value)

    generic = _generic_plan(sql, params)
    assert cases.ORDER_OPEN not in generic.index_names
    conditions = [(node.filter or "") + (node.index_cond or "") for node in generic.nodes()]
    assert any("status)::text = $2" in condition for condition in conditions)


def _generic_plan(sql: str, params: tuple[object, ...]) -> Plan:
    """The plan PostgreSQL reuses for every value: the statement PREPAREd with ``$n``
    placeholders, explained under ``plan_cache_mode = force_generic_plan`` in a savepoint
    that is rolled back (the prepared statement itself is deallocated)."""
    numbered = sql
    for number in range(1, len(params) + 1):
        numbered = numbered.replace("%s", f"${number}", 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE queryplan_generic AS {numbered}")
        try:
            with transaction.atomic():  # a failing EXPLAIN must not block the DEALLOCATE
                marks = ", ".join(["%s"] * len(params))
                cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE queryplan_generic ({marks})", params)
                output = cursor.fetchone()[0]
        finally:
            cursor.execute("DEALLOCATE queryplan_generic")
        transaction.set_rollback(True)
    return parse_plan(output)


def test_the_querysets_own_alias_decides(
    assert_uses_index: AssertUsesIndex, shop_rows: None
) -> None:
    """Issue 16: a QuerySet is compiled and explained on the alias it runs on, its own
    (``.using()``); a using= that names another is a usage error, not a check of the
    query on a database it never reaches. (tests/test_pytest_integration.py shows the
    alias winning against a second database of another vendor.)"""
    query = BY_NAME["lower"].fixed
    with pytest.raises(QueryPlanUsageError) as error:
        assert_uses_index(query.build().using("default"), query.index, using="replica")
    assert str(error.value).startswith(
        "The Book queryset runs on database 'default' (.using('default')), but "
        "using='replica' was given"
    )
    plan = assert_uses_index(query.build().using("default"), query.index)
    assert query.index in plan.index_names


# A partitioned table, as issue 16's research built it: one partitioned index attached
# everywhere, one created ON ONLY the parent and attached on the 2025 partition alone.
PARTITIONED = (
    "CREATE TABLE shop_event (id bigint, customer_id int, severity smallint,"
    " created timestamptz) PARTITION BY RANGE (created)",
    "CREATE TABLE shop_event_2025 PARTITION OF shop_event"
    " FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "CREATE TABLE shop_event_2026 PARTITION OF shop_event"
    " FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "CREATE INDEX event_customer_created_idx ON shop_event (customer_id, created)",
    "CREATE INDEX event_customer_severity_idx ON ONLY shop_event (customer_id, severity)",
    "CREATE INDEX event_2025_customer_severity_idx ON shop_event_2025 (customer_id, severity)",
    "ALTER INDEX event_customer_severity_idx ATTACH PARTITION event_2025_customer_severity_idx",
    "INSERT INTO shop_event SELECT g, g % 20, g % 100,"
    " '2025-01-01'::timestamptz + g * interval '8 hours' FROM generate_series(1, 2000) g",
    "ANALYZE shop_event",
)
EVENTS = ("SELECT id FROM shop_event WHERE customer_id = %s", [3])


@pytest.mark.parametrize("form", FORMS)
def test_every_partition_read_uses_an_index_attached_to_the_named_one(
    assert_uses_index: AssertUsesIndex, db: None, form: str
) -> None:
    """Issue 16: a partitioned index serves only when every partition the query reads is
    read through an index attached to it. The ON ONLY index has nothing attached on 2026:
    that partition is named, with the fix; attached there, it serves. The partitioned
    index that a partition's other index competes with is set aside by its top (a
    partition's attached index cannot be dropped alone), and then serves."""

    def check(index: str) -> Plan | None:
        if form == "target":
            return assert_uses_index(EVENTS, index)
        with assert_uses_index(index), connection.cursor() as cursor:
            cursor.execute(*EVENTS)
        return None

    with connection.cursor() as cursor:
        for statement in PARTITIONED:
            cursor.execute(statement)
    with pytest.raises(QueryPlanAssertionError) as failure:
        check("event_customer_severity_idx")
    text = str(failure.value)
    assert "Partition shop_event_2026 (alias shop_event_2) was read with " in text
    assert (
        "    event_customer_severity_idx has no index attached on shop_event_2026 (an index"
        " created ON ONLY the parent, not attached everywhere)" in text
    )
    # PostgreSQL attaches one level at a time: on a sub-partition, the fix names the parent
    # partition's index, not the top one (which would be refused).
    assert "ALTER INDEX event_customer_severity_idx ATTACH PARTITION <the new index>" in text
    assert "attaches one level at a time" in text
    check("event_customer_created_idx")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX event_2026_customer_severity_idx ON shop_event_2026"
            " (customer_id, severity)"
        )
        cursor.execute(
            "ALTER INDEX event_customer_severity_idx"
            " ATTACH PARTITION event_2026_customer_severity_idx"
        )
    plan = check("event_customer_severity_idx")
    if plan is not None:
        assert {n.index_name for n in plan.nodes() if n.index_name} == {
            "event_2025_customer_severity_idx",
            "event_2026_customer_severity_idx",
        }


@pytest.mark.parametrize("statistics", ["analysed", "stale-volume", "many-customers"])
def test_a_leading_key_only_in_a_join_is_asked_again(
    assert_uses_index: AssertUsesIndex, db: None, statistics: str
) -> None:
    """Issue 16: ``filter(role="owner", customer__name=...)`` compares customer_id only in
    the join. Forced mode may drive from the index by role alone (the other table's read by
    name is a whole pk walk once sequential scans are off, which makes the parameterised
    scan look dear), a read without the leading key; the check then asks again
    (``PostgreSQL.join_settings``) and the index serves, searched by (customer_id =
    upstream_customer.id AND role). Two statistics states, each made here so the test does
    not depend on what earlier tests left in pg_class (row counts survive a rollback):
    these rows analysed, and stale counts claiming 50,000 profiles (upstream's volume
    analysed in a rolled-back savepoint), where only the second retry finds the scan. The
    retry itself is unit-tested on stored plans (``tests/unit/test_issue16.py``)."""
    from upstream.models import UserProfile

    make_owners(statistics)
    owners = UserProfile.objects.filter(role="owner", customer__name="Customer 3")
    plan = assert_uses_index(owners, OWNER_INDEX)
    (scan,) = plan.find(index=OWNER_INDEX)
    if statistics == "many-customers":
        # Measured on 15 and 18: 20,000 customers against 60 profiles make driving from
        # the index by role the cheaper plan under every setting tried; the plan itself
        # proves the parameterised scan (an inner join on the bare key), so it passes.
        assert scan.index_cond == "((role)::text = 'owner'::text)"
    else:
        assert scan.index_cond == (
            "((customer_id = upstream_customer.id) AND ((role)::text = 'owner'::text))"
        )
    # The same rows and statistics, the index's table the preserved side of a LEFT JOIN:
    # every owner is returned whatever the customer, so customer_id cannot narrow the read.
    with pytest.raises(QueryPlanAssertionError) as failure:
        with assert_uses_index(OWNER_INDEX):
            with connection.cursor() as cursor:
                cursor.execute(OWNERS_WITH_THEIR_CUSTOMER, ["Customer 3", "owner"])
    text = str(failure.value)
    assert "no scan of userprofile_customer_role_idx can take it as a parameter" in text


@pytest.mark.parametrize(
    ("sql", "served"),
    [
        # The statement's ORDER BY sorts what the subquery's LIMIT kept: the walk of the
        # covering index, price filtered, was ordered by nothing (it passed before).
        (
            "SELECT * FROM (SELECT customer_id FROM shop_book WHERE price = %s LIMIT 1) s"
            " ORDER BY customer_id",
            False,
        ),
        ("SELECT customer_id FROM shop_book WHERE price = %s ORDER BY customer_id LIMIT 1", True),
    ],
)
def test_only_the_statements_own_limit_makes_a_walk_ordered(
    assert_uses_index: AssertUsesIndex, shop_rows: None, sql: str, served: bool
) -> None:
    """Issue 16, family 5 seen again: an ordered walk under a LIMIT serves only when the
    LIMIT is the statement's and the walk delivers its ORDER BY."""
    cases.add_covering_index()

    def run() -> None:
        with assert_uses_index("book_customer_cover_price"):
            with connection.cursor() as cursor:
                cursor.execute(sql, [5])

    if served:
        run()
        return
    with pytest.raises(QueryPlanAssertionError) as failure:
        run()
    assert "book_customer_cover_price read whole" in str(failure.value)


@pytest.mark.parametrize(
    ("shape", "served"), [("in", True), ("in-grouped", False), ("in-distinct", False)]
)
def test_the_join_proof_stops_at_a_subquery_kept_whole(
    assert_uses_index: AssertUsesIndex, db: None, shape: str, served: bool
) -> None:
    """The customers with an owner, under the many-customers statistics: the profiles'
    index is read by role inside ``id__in=``, customer_id compared only in the join. A plain
    ``IN`` is a semi join the planner may turn around (the lookup made unique is its own
    Aggregate): served. Grouped or DISTINCT, the subquery is computed whole before any join
    condition can reach it: customer_id never narrows the read, and the proof must not say
    it could (it did before the proof stopped at those nodes)."""
    from django.db.models import Count

    from upstream.models import Customer, UserProfile

    make_owners("many-customers")
    owners = UserProfile.objects.filter(role="owner").values("customer_id")
    if shape == "in-grouped":
        owners = owners.annotate(n=Count("id")).filter(n__gte=1).values("customer_id")
    elif shape == "in-distinct":
        owners = owners.distinct()
    with_owners = Customer.objects.filter(name="Customer 3", id__in=owners)
    if served:
        assert_uses_index(with_owners, OWNER_INDEX)
        return
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(with_owners, OWNER_INDEX)
    assert "searched without its leading key customer_id" in str(failure.value)


@pytest.fixture
def rules_analysed(db: None) -> list[Any]:
    """30 customers with 20 alert rules each (three in four enabled), analysed: counts
    under which a Sort over another index looks cheaper than the one that orders."""
    from django.db.models import F  # noqa: F401 - the parametrised orders use it

    from upstream.models import AlertRule, Customer

    customers = [Customer.objects.create(name=f"C{i}", slug=f"c-{i}") for i in range(30)]
    AlertRule.objects.bulk_create(
        AlertRule(
            customer=customer,
            name=f"r{j}",
            enabled=j % 4 != 0,
            routing_priority=j % 13,
            channel="email",
            destination="ops@example.com",
        )
        for customer in customers
        for j in range(20)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE upstream_alertrule, upstream_customer")
    return customers


RULE_INDEX = "alertrule_eval_priority_idx"


@pytest.mark.parametrize("order", ["-routing_priority", "routing_priority", "desc-nulls-first"])
def test_an_index_that_delivers_the_order_is_asked_for_it(
    assert_uses_index: AssertUsesIndex, rules_analysed: list[Any], order: str
) -> None:
    """Found by a second run of issue 16's checks: on these counts the planner takes the
    unique (customer, name) constraint's index, which forced mode cannot set aside, and
    sorts; or a bitmap scan of the named index, and sorts. Both failed, plain and
    ``ordered=True``, though the index delivers this ORDER BY (forward, backward, or with
    the NULLS FIRST a DESC key has). Forced mode now asks again with sorting discouraged."""
    from django.db.models import F

    from upstream.models import AlertRule

    ordering: Any = F("routing_priority").desc(nulls_first=True) if "nulls" in order else order
    rules = AlertRule.objects.filter(customer=rules_analysed[3], enabled=True).order_by(ordering)
    assert_uses_index(rules, RULE_INDEX)
    plan = assert_uses_index(rules, RULE_INDEX, ordered=True)
    assert not plan.find(node_type="Sort")


@pytest.mark.parametrize("shape", ["related-field", "subplan"])
def test_an_order_the_index_cannot_deliver_still_fails(
    assert_uses_index: AssertUsesIndex, rules_analysed: list[Any], shape: str
) -> None:
    """The twins: asking again with sorting discouraged leaves a Sort where the index
    cannot deliver the ORDER BY (another table's column); and an index read only in a
    correlated subquery delivers no order to the statement's ORDER BY (it passed before)."""
    from django.db.models import OuterRef, Subquery

    from upstream.models import AlertRule, Customer

    if shape == "related-field":
        rules = AlertRule.objects.filter(customer=rules_analysed[3], enabled=True)
        target: Any = rules.order_by("customer__name")
        said = "sorted again"
    else:
        top = AlertRule.objects.filter(customer=OuterRef("pk"), enabled=True).values("name")
        target = Customer.objects.annotate(top=Subquery(top[:1])).order_by("name")
        said = "is read in SubPlan 1, a subquery whose rows are not the statement's"
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(target, RULE_INDEX, ordered=True)
    assert said in str(failure.value)


def make_owners(statistics: str) -> None:
    """20 customers with an owner, an admin and a viewer each, under the planner statistics
    named: "analysed" (these rows), "stale-volume" (upstream's 50,000 profiles analysed in a
    rolled-back savepoint, the counts kept), "many-customers" (20,000 customers the same
    way, then these profiles analysed)."""
    from django.contrib.auth.models import User

    from upstream.models import Customer, UserProfile

    if statistics == "stale-volume":
        from upstream.tests.test_query_plans import VOLUME_SQL

        with transaction.atomic():
            with connection.cursor() as cursor:
                for statement in VOLUME_SQL:
                    cursor.execute(statement)
            transaction.set_rollback(True)
    elif statistics == "many-customers":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(MANY_CUSTOMERS)
            cursor.execute("ANALYZE upstream_customer")
            transaction.set_rollback(True)
    for number in range(20):
        customer = Customer.objects.create(name=f"Customer {number}", slug=f"c-{number}")
        for role in ("owner", "admin", "viewer"):
            user = User.objects.create(username=f"{role}-{number}")
            UserProfile.objects.create(user=user, customer=customer, role=role)
    if statistics == "analysed":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE upstream_customer, upstream_userprofile")
    elif statistics == "many-customers":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE upstream_userprofile")


#: 20,000 customers, inserted and analysed in a savepoint that is rolled back: the row
#: count stays in pg_class (ANALYZE writes it in place).
MANY_CUSTOMERS = """INSERT INTO upstream_customer (name, slug)
    SELECT 'Many ' || g, 'many-' || g FROM generate_series(1, 20000) g"""
OWNERS_WITH_THEIR_CUSTOMER = """SELECT p.id, c.name FROM upstream_userprofile p
    LEFT JOIN upstream_customer c ON p.customer_id = c.id AND c.name = %s
    WHERE p.role = %s"""


OWNER_INDEX = "userprofile_customer_role_idx"


@pytest.mark.parametrize("name", sorted(SEQ_READ_CAUSES))
def test_a_sequential_read_names_why_the_key_could_not_be_searched(
    assert_uses_index: AssertUsesIndex, shop_rows: None, name: str
) -> None:
    query = BY_NAME[name].broken
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(query.prepare(), query.index)
    text = str(failure.value)
    assert "Seq Scan on shop_book" in text  # the premise: a sequential read
    assert "its leading columns are in the WHERE clause" not in text
    assert SEQ_READ_CAUSES[name] in text


INNER = """
import pytest

from tests import regression_cases as cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    cases.make_rows()  # in a fixture: the guard watches the test body only


@pytest.mark.parametrize("twin", ["broken", "fixed"])
@pytest.mark.parametrize(("name", "form"), cases.guard_runs())
def test_query(rows, name, form, twin):
    query = getattr(cases.BY_NAME[name], twin)
    cases.run(query.prepare(), form)
"""


def test_guard_flags_the_full_reads_of_the_catalogue(django_pytester: pytest.Pytester) -> None:
    """Every broken and fixed query as a plain test, no assertion: the guard flags the
    filtered full reads (sequential, or an index walked whole), and nothing else. An index
    searched on one key with another left to the Filter is not a full read; that, a
    partial index passed over for another, and an ORDER BY are the assertion's to catch.
    An index walked in the ORDER BY up to the LIMIT (``.first()``) is a warning of its own
    kind, with the (filter, order) index suggested and tried."""
    django_pytester.makepyfile(test_inner=INNER)
    write_ini(django_pytester, settings="tests.settings")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-guard=fail", "--queryplan-report=r.json"
    )
    runs = {f"{name}-{form}" for name, form in cases.guard_runs()}
    assert GUARD_CATCHES | GUARD_MISSES | GUARD_WARNS <= runs
    result.assert_outcomes(passed=2 * len(runs) - len(GUARD_CATCHES), failed=len(GUARD_CATCHES))
    report = json.loads((django_pytester.path / "r.json").read_text())
    flagged = {test for f in report["findings"] for test in f["tests"]}
    named = {f"test_inner.py::test_query[{run}-broken]" for run in GUARD_CATCHES | GUARD_WARNS}
    assert flagged == named
    warned = {test for f in report["findings"] if f["level"] == "warn" for test in f["tests"]}
    assert warned == {f"test_inner.py::test_query[{run}-broken]" for run in GUARD_WARNS}
    assert set(report["failed_tests"]) == flagged - warned
    kinds = {(f["kind"], f["level"]) for f in report["findings"]}
    assert kinds == {("filtered-full-read", "fail"), ("ordered-walk-filtered", "warn")}
    (walk,) = [f for f in report["findings"] if f["kind"] == "ordered-walk-filtered"]
    assert '"price", "order"' not in walk["advice"]  # the pkey's key after the Filter's
    assert 'models.Index(fields=["price", "id"], name="book_price_id_idx")' in walk["advice"]
    assert "tried: PostgreSQL searched it" in walk["advice"]
    assert "delivering the ORDER BY without a sort" in walk["advice"]
    assert {f["table"] for f in report["findings"]} == {"shop_book"}
    filters = {test: f["filter"] for f in report["findings"] for test in f["tests"]}
    assert filters["test_inner.py::test_query[first_walk-first-broken]"] == "(price = ?)"
    skipped = "test_inner.py::test_query[leading_column-list-broken]"
    assert filters[skipped] == "((status)::text = ?::text)"
    # The line that ran each query is the catalogue's (application code, outside the inner
    # run's rootdir, so its path stays absolute), not the test's.
    catalogue = str(REPO_ROOT / "tests" / "regression_cases.py")
    assert {f["sites"][0]["path"] for f in report["findings"]} == {catalogue}
    result.stdout.fnmatch_lines(
        [
            "*WARN ordered-walk-filtered shop_book: (price = ?) at *regression_cases.py:*",
            "*Suggestion (tried: PostgreSQL searched it*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*<-- book_customer_status_idx searched without its leading key customer_id: the whole*"]
    )
