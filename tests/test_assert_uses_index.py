"""The assert_uses_index and queryplan fixtures on real plans: verdicts, texts, usage errors."""

from __future__ import annotations

import pytest
from django.db import connection

from pytest_queryplan import Plan, QueryPlanAssertionError, QueryPlanUsageError
from upstream.alerts.models import AlertRule
from upstream.api import permissions
from upstream.models import Customer, UserProfile

pytestmark = pytest.mark.django_db

OWNER_INDEX = "userprofile_customer_role_idx"
RULE_INDEX = "alertrule_eval_priority_idx"


@pytest.fixture
def customer():
    return Customer.objects.create(name="Acme", slug="acme")


def owners(customer):
    return UserProfile.objects.filter(customer=customer, role="owner")


def test_accepts_queryset_sql_and_sql_with_params(assert_uses_index, customer):
    assert isinstance(assert_uses_index(owners(customer), OWNER_INDEX), Plan)
    sql = "SELECT id FROM upstream_userprofile WHERE customer_id = %s AND role = %s"
    assert_uses_index((sql, [customer.pk, "owner"]), OWNER_INDEX)
    assert_uses_index(
        (sql.replace("%s", "%(c)s", 1).replace("%s", "%(r)s"), {"c": customer.pk, "r": "owner"}),
        OWNER_INDEX,
    )
    assert_uses_index(
        "SELECT id FROM upstream_userprofile WHERE customer_id = 1 AND role = 'owner'",
        OWNER_INDEX,
    )


def test_missing_index_lists_existing_and_near_misses(assert_uses_index, customer):
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(owners(customer), "userprofile_customer_roles_idx")
    text = str(failure.value)
    assert text.startswith(
        'Index "userprofile_customer_roles_idx" does not exist in this database (alias '
        "'default'): the migration that creates it has not run in the test database, or"
        " something dropped it."
    )
    assert "Indexes on the tables the query reads (upstream_userprofile):\n" in text
    assert "    userprofile_customer_role_idx: CREATE INDEX userprofile_customer_role_idx" in text
    # Only a name close enough to be a typo: not every index of the table.
    assert "Did you mean: userprofile_customer_role_idx?" in text
    # What the query did instead: its SQL and its plan.
    assert "SQL:" in text and "Plan:" in text and "upstream_userprofile" in text


def test_an_unrelated_name_gets_no_did_you_mean(assert_uses_index, customer):
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(owners(customer), "book_title_idx")
    assert "Did you mean" not in str(failure.value)


def test_index_of_another_table(assert_uses_index, customer):
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(owners(customer), RULE_INDEX)
    assert (
        '"alertrule_eval_priority_idx" is an index on upstream_alertrule, which the query '
        "does not read (it reads: upstream_userprofile)."
    ) in str(failure.value)


def test_no_usable_index_suggests_one(assert_uses_index, customer):
    rules = AlertRule.objects.filter(destination="ops@example.com", min_severity__gte=50)
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(rules, "idx_alertrule_customer_enabled")
    text = str(failure.value)
    assert "Even with sequential scans discouraged the planner read upstream_alertrule" in text
    # Tried on the planner inside the rolled-back savepoint before it is shown.
    assert "Suggestion (tried: PostgreSQL searched it when it was created inside the rolled" in text
    # Equality columns first, identifiers quoted; the name fits Django's 30-character limit.
    assert (
        '    models.Index(fields=["destination", "min_severity"], '
        'name="destinati_min_sever_6fd8e6_idx")\n'
        '    CREATE INDEX CONCURRENTLY "destinati_min_sever_6fd8e6_idx" ON "upstream_alertrule" '
        '("destination", "min_severity");'
    ) in text
    assert "Seq Scan on upstream_alertrule  <-- sequential scan" in text


def test_compact_by_default_costs_with_verbose(customer):
    from pytest_queryplan.core.checks.defaults import Defaults
    from pytest_queryplan.db.assertions import assert_index_used

    query = AlertRule.objects.filter(customer=customer).order_by("-routing_priority")
    with pytest.raises(QueryPlanAssertionError) as compact:
        assert_index_used(query, RULE_INDEX)
    with pytest.raises(QueryPlanAssertionError) as verbose:
        assert_index_used(query, RULE_INDEX, defaults=Defaults(verbose=True))
    assert "cost=" not in str(compact.value)
    assert "run pytest with -v" in str(compact.value)
    assert "cost=" in str(verbose.value) and "rows=" in str(verbose.value)


def test_block_passes_when_one_query_uses_the_index(assert_uses_index, customer):
    profile = UserProfile.objects.create(user=_user("o1"), customer=customer, role="owner")
    UserProfile.objects.create(user=_user("o2"), customer=customer, role="owner")
    with assert_uses_index(OWNER_INDEX) as check:
        Customer.objects.get(pk=customer.pk)  # a query on another table is fine
        permissions.ensure_not_last_owner(profile)
    assert [q.plan.uses_index(OWNER_INDEX) for q in check.captured] == [False, True]


def test_block_every_names_the_offending_query(assert_uses_index, customer):
    with pytest.raises(QueryPlanAssertionError) as failure:
        with assert_uses_index(OWNER_INDEX, every=True):
            list(owners(customer))
            list(UserProfile.objects.filter(user_id=customer.pk))  # its own unique index
    text = str(failure.value)
    assert text.startswith(
        "Expected every query on upstream_userprofile to use index "
        '"userprofile_customer_role_idx"; 1 of the block\'s queries on it did not.'
    )
    assert "upstream_userprofile_user_id_key used instead" in text
    with assert_uses_index(OWNER_INDEX, every=True):
        list(owners(customer))


def test_block_that_never_reads_the_table_fails(assert_uses_index, customer):
    with pytest.raises(QueryPlanAssertionError) as failure:
        with assert_uses_index(OWNER_INDEX):
            Customer.objects.count()
    assert str(failure.value).startswith(
        'Expected the block to use index "userprofile_customer_role_idx", but it ran no '
        "query on upstream_userprofile (1 query in all)."
    )


def test_block_exception_propagates_unchanged(assert_uses_index, customer):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with assert_uses_index("no_such_index_at_all"):
            list(owners(customer))
            raise Boom


def test_queryplan_capture(queryplan, customer):
    with queryplan.capture() as captured:
        list(owners(customer))
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '8MB'")  # not explainable, not captured
    assert len(captured) == 1
    assert captured[0].params == (customer.pk, "owner")
    assert captured[0].plan.uses_index(OWNER_INDEX)
    assert "upstream_userprofile" in captured[0].sql


@pytest.mark.parametrize(
    "target, message",
    [
        (42, "Cannot explain a int: pass a Django QuerySet, an SQL string, or an (sql, params)"),
        ("   ", "The SQL to explain is empty."),
        (("SELECT %s", "x"), "must be a list, tuple or dict, not a string"),
        (Customer.objects.none(), "The Customer queryset can never match a row"),
        (Customer.objects.filter(id__in=[]), "The Customer queryset can never match a row"),
    ],
)
def test_bad_targets_are_usage_errors(assert_uses_index, target, message):
    with pytest.raises(QueryPlanUsageError) as error:
        assert_uses_index(target, OWNER_INDEX)
    assert message in str(error.value)


def test_usage_errors_for_names_aliases_and_modes(assert_uses_index, queryplan, customer):
    with pytest.raises(QueryPlanUsageError, match="Unknown database alias 'replica'"):
        assert_uses_index(owners(customer), OWNER_INDEX, using="replica")
    with pytest.raises(
        QueryPlanUsageError,
        match="'fast' is not a valid queryplan mode; use one of 'forced', 'natural'",
    ):
        assert_uses_index(owners(customer), OWNER_INDEX, mode="fast")
    with pytest.raises(QueryPlanUsageError, match="got SQL but no index name"):
        assert_uses_index("SELECT 1 FROM upstream_userprofile")
    with pytest.raises(QueryPlanUsageError, match="is missing the index name"):
        assert_uses_index(owners(customer))
    with pytest.raises(QueryPlanUsageError, match="index name must be a non-empty string"):
        assert_uses_index(owners(customer), "")
    with pytest.raises(QueryPlanUsageError) as error:
        assert_uses_index(owners(customer), OWNER_INDEX, keys=["customer", "rol"])
    assert str(error.value) == (
        "keys=: 'rol' is not a key of index userprofile_customer_role_idx (its keys: "
        "customer_id, role; a model field's name is accepted too)."
    )
    with pytest.raises(QueryPlanUsageError, match="ordered= takes True or False, not 'yes'"):
        assert_uses_index(owners(customer), OWNER_INDEX, ordered="yes")
    with pytest.raises(QueryPlanUsageError, match="every= applies only to the block form"):
        assert_uses_index(owners(customer), OWNER_INDEX, every=True)


def _user(name):
    from django.contrib.auth.models import User

    return User.objects.create(username=name)


def test_analyze_tables_per_call_overrides_the_ini(assert_uses_index):
    """A fresh table where every row has customer_id 1: without column statistics the
    planner guesses the filter is selective and takes the index; ANALYZEd, it knows better
    and reads the table whole."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE qp_skewed (id int, customer_id int)")
        cursor.execute("INSERT INTO qp_skewed SELECT g, 1 FROM generate_series(1, 10000) g")
        cursor.execute("CREATE INDEX qp_skewed_customer ON qp_skewed (customer_id)")
    target = ("SELECT * FROM qp_skewed WHERE customer_id = %s", [1])
    assert_uses_index(target, "qp_skewed_customer", mode="natural")
    with pytest.raises(QueryPlanAssertionError, match="read qp_skewed sequentially"):
        assert_uses_index(target, "qp_skewed_customer", mode="natural", analyze_tables=True)
    with pytest.raises(QueryPlanAssertionError, match="read qp_skewed sequentially"):
        with assert_uses_index("qp_skewed_customer", mode="natural", analyze_tables=True):
            with connection.cursor() as cursor:
                cursor.execute(*target)
    assert_uses_index(target, "qp_skewed_customer", analyze_tables=True)  # forced: it can


def test_forced_mode_sees_past_a_preferred_competitor(assert_uses_index, queryplan, customer):
    """Forced mode asks whether the index *can* serve the query. When the planner prefers
    another index of the same table (here a partial index made for exactly this query; in
    the wild often the foreign-key index, when statistics make it look cheaper), the answer
    must not depend on that preference: the competitor is dropped for one more EXPLAIN,
    inside the rolled-back savepoint, and comes back with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX qp_owners_only ON upstream_userprofile (customer_id) WHERE role = 'owner'"
        )
    planner_choice = queryplan.explain(owners(customer))
    assert planner_choice.index_names == {"qp_owners_only"}
    plan = assert_uses_index(owners(customer), OWNER_INDEX)
    assert plan.index_names == {OWNER_INDEX}
    with assert_uses_index(OWNER_INDEX):
        list(owners(customer))
    assert queryplan.explain(owners(customer)).index_names == {"qp_owners_only"}
    # Natural mode never hides anything: it reports the planner's own choice.
    with pytest.raises(QueryPlanAssertionError, match="mode: natural"):
        assert_uses_index(owners(customer), OWNER_INDEX, mode="natural")
