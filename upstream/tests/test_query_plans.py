"""Phase 6's promise, proven with pytest-queryplan: the hot queries scan the new indexes.

Forced mode (the default) answers "can the planner serve this query from this index?"
whatever the table size; the volume tests at the bottom answer "does it, with realistic
data and fresh statistics?" in natural mode.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower

from pytest_queryplan import QueryPlanAssertionError
from upstream.alerts import services
from upstream.alerts.models import AlertRule
from upstream.api import permissions
from upstream.models import UserProfile

pytestmark = pytest.mark.django_db

OWNER_INDEX = "userprofile_customer_role_idx"
RULE_INDEX = "alertrule_eval_priority_idx"


@pytest.fixture
def customer(make_customer):
    return make_customer()


@pytest.fixture
def drift_event(customer, make_rule, make_event):
    make_rule(customer, routing_priority=5, metric="claims_denial_rate")
    make_rule(customer, routing_priority=1)
    make_rule(customer, routing_priority=9, enabled=False)
    return make_event(customer)


def test_owner_count_uses_composite_index(assert_uses_index, customer, make_profile):
    profile = make_profile(customer, role="owner")
    make_profile(customer, role="owner")
    # keys=: the index exists to search both; one that narrows by customer alone does not
    # do its job (field names or column names alike).
    plan = assert_uses_index(
        UserProfile.objects.filter(customer=customer, role="owner"),
        OWNER_INDEX,
        keys=["customer", "role"],
    )
    assert plan.find(relation="upstream_userprofile")
    # The real code path: ensure_not_last_owner runs .count() inside the block.
    with assert_uses_index(OWNER_INDEX, keys=["customer", "role"]):
        permissions.ensure_not_last_owner(profile)


def test_owner_count_rewritten_as_an_aggregate_filter_loses_a_key(
    assert_uses_index, customer, make_profile
):
    """Rewritten as Count("pk", filter=Q(role="owner")), the count still scans the index by
    customer and passes the plain strict check: nothing is left to a Filter, the role test
    moved into the aggregate. keys= names what the index is for, and catches it."""
    make_profile(customer, role="owner")
    rewrite = UserProfile.objects.filter(customer=customer)
    with assert_uses_index(OWNER_INDEX):  # what the check without keys= says
        rewrite.aggregate(n=Count("pk", filter=Q(role="owner")))
    with pytest.raises(QueryPlanAssertionError) as failure:
        with assert_uses_index(OWNER_INDEX, keys=["customer", "role"]):
            rewrite.aggregate(n=Count("pk", filter=Q(role="owner")))
    text = str(failure.value)
    assert "keys=: the Index Cond narrowed by customer_id; not searched: role" in text
    assert 'WHERE "upstream_userprofile"."role" = %s) AS "n"' in text  # in the FILTER


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(
            lambda c: UserProfile.objects.filter(customer=c, role__iexact="owner"), id="iexact"
        ),
        pytest.param(
            lambda c: UserProfile.objects.annotate(r=Lower("role")).filter(customer=c, r="owner"),
            id="Lower",
        ),
    ],
)
def test_owner_count_rewritten_with_a_function_loses_the_index(
    assert_uses_index, customer, make_profile, rewrite
):
    """The index exists to filter by both columns. Rewritten with a function on role, the
    count still scans it, but only by customer: every profile of the customer is read and
    role checked row by row. The strict check fails, naming the column and the fix."""
    make_profile(customer, role="owner")
    with pytest.raises(QueryPlanAssertionError) as failure:
        with assert_uses_index(OWNER_INDEX):
            rewrite(customer).count()
    text = str(failure.value)
    assert "the Index Cond searched customer_id; left to the Filter: role." in text
    assert "Hint:" in text and "role" in text
    # Not strict, the same query "uses" the index: the check this project had before.
    with assert_uses_index(OWNER_INDEX, strict=False):
        rewrite(customer).count()


def test_owner_count_through_role_change(assert_uses_index, customer, make_profile):
    owner = make_profile(customer, role="owner")
    other = make_profile(customer, role="owner")
    with assert_uses_index(OWNER_INDEX):
        permissions.change_role(owner, other, "viewer")
    other.refresh_from_db()
    assert other.role == "viewer"


@pytest.mark.queryplan(uses_index=RULE_INDEX, forbid=["Sort"], ordered=True)
def test_rule_evaluation_uses_partial_index(drift_event):
    alert = services.evaluate(drift_event)
    assert alert is not None and alert.rule.routing_priority == 5


def test_candidate_rules_need_no_sort(queryplan, drift_event):
    plan = queryplan.explain(services.candidate_rules(drift_event))
    assert plan.uses_index(RULE_INDEX)
    assert plan.find(node_type="Limit")
    assert not plan.find(node_type="Sort"), plan.render()


def test_candidate_rules_take_their_order_from_the_index(assert_uses_index, drift_event):
    """ordered=True: the index delivers the ORDER BY, so the LIMIT stops after ten entries.
    A tie-breaker the index lacks (pk) costs a sort of every enabled rule of the customer:
    PostgreSQL 15 plans a Sort, 16 and later an Incremental Sort on what the index did
    deliver. Both fail, and forbid=["Sort"] catches both."""
    plan = assert_uses_index(services.candidate_rules(drift_event), RULE_INDEX, ordered=True)
    assert plan.find(node_type="Limit")
    rewrite = AlertRule.objects.filter(customer=drift_event.customer, enabled=True).order_by(
        "-routing_priority", "pk"
    )[: services.MAX_RULES]
    assert_uses_index(rewrite, RULE_INDEX)  # served, by the check without ordered=
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(rewrite, RULE_INDEX, ordered=True)
    text = str(failure.value)
    assert "by routing_priority DESC, id above alertrule_eval_priority_idx" in text
    assert "Sort  <-- re-sorts the rows alertrule_eval_priority_idx delivered" in text
    with pytest.raises(QueryPlanAssertionError) as failure:
        with assert_uses_index(RULE_INDEX, ordered=True):
            list(rewrite)
    ((verdict, _),) = failure.value.failures  # the plan: a Sort (15) or Incremental Sort
    (query,) = verdict.queries
    assert {n.node_type for n in query.plan.nodes()} & {"Sort", "Incremental Sort"}


def test_seed_routing_query_cannot_use_partial_index(assert_uses_index, customer):
    """The seed's tests_routing query has no enabled=True, so it can never use the index.

    A partial index serves only queries whose WHERE clause implies its predicate
    (WHERE enabled); without it the disabled rules would be missing from the answer.
    The failure must say exactly that.
    """
    seed_query = AlertRule.objects.filter(customer=customer).order_by("-routing_priority")
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(seed_query, RULE_INDEX)
    text = str(failure.value)
    assert f'Expected the query to use index "{RULE_INDEX}"' in text
    assert "is a partial index" in text
    assert "WHERE enabled" in text
    assert "do not imply this predicate" in text
    # ...and the fix the message points at works:
    assert_uses_index(seed_query.filter(enabled=True), RULE_INDEX)


# --- realistic volume, natural planner -------------------------------------------------

VOLUME_SQL = [
    """INSERT INTO upstream_customer (name, slug)
       SELECT 'Volume ' || g, 'volume-' || g FROM generate_series(1, 1000) g""",
    """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                              email, is_staff, is_active, date_joined)
       SELECT '', false, 'volume-' || g, '', '', '', false, true, now()
       FROM generate_series(1, 50000) g""",
    # One enterprise tenant (volume-1) with 20,000 members and 3 owners; the other 999
    # customers have about 30 members each, one owner among them.
    """INSERT INTO upstream_userprofile (user_id, customer_id, role)
       SELECT u.id, c.id,
              CASE WHEN g < 20000 THEN (CASE WHEN g < 3 THEN 'owner' ELSE 'viewer' END)
                   WHEN g % 30 = 0 THEN 'owner' WHEN g % 30 < 4 THEN 'admin'
                   WHEN g % 30 < 12 THEN 'analyst' ELSE 'viewer' END
       FROM generate_series(0, 49999) g
       JOIN auth_user u ON u.username = 'volume-' || (g + 1)
       JOIN upstream_customer c ON c.slug = 'volume-' ||
            CASE WHEN g < 20000 THEN 1 ELSE (g - 20000) % 999 + 2 END""",
    # 20,000 rules, four in five enabled: the enterprise tenant (volume-1) routes with
    # 1,019 rules of distinct priorities, every other customer with 19.
    """INSERT INTO upstream_alertrule (customer_id, name, enabled, routing_priority, metric,
                                      min_severity, channel, destination)
       SELECT c.id, 'rule ' || r, r % 5 <> 0,
              CASE WHEN c.slug = 'volume-1' THEN r ELSE (r * 37) % 100 END,
              '', 0, 'email', 'ops@example.com'
       FROM upstream_customer c
       CROSS JOIN generate_series(1, 1019) r
       WHERE c.slug LIKE 'volume-%' AND (c.slug = 'volume-1' OR r <= 19)""",
    "ANALYZE upstream_customer, auth_user, upstream_userprofile, upstream_alertrule",
]


@pytest.fixture(scope="module")
def volume(django_db_setup, django_db_blocker) -> Iterator[None]:
    """1,000 customers, 50,000 profiles, 20,000 rules, set-based, then ANALYZE.

    Loaded inside an outer transaction that is rolled back after the module, so other
    tests never see these rows; each test's own transaction nests inside it.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        with connection.cursor() as cursor:
            for statement in VOLUME_SQL:
                cursor.execute(statement)
        yield
        transaction.set_rollback(True)


def test_volume_owner_count_natural_plan(assert_uses_index, volume):
    """Counting the 3 owners among an enterprise tenant's 20,000 members.

    For a 30-member customer the foreign-key index on customer_id is just as cheap (read
    30 rows, filter), and the planner rightly takes either; the composite index earns its
    keep on large customers, so that is where the natural plan must use it.
    """
    from upstream.models import Customer

    assert UserProfile.objects.count() == 50_000
    enterprise = Customer.objects.get(slug="volume-1")
    queryset = UserProfile.objects.filter(customer=enterprise, role="owner")
    plan = assert_uses_index(queryset, OWNER_INDEX, mode="natural")
    assert not plan.find(node_type="Seq Scan")
    assert queryset.count() == 3


def test_volume_rule_evaluation_natural_plan(assert_uses_index, volume):
    """The enterprise tenant's ten highest-priority enabled rules, straight off the index.

    With ~800 enabled rules to choose from, reading the partial index in order and
    stopping after ten beats fetching them all and sorting; for a customer with 19 rules
    both plans cost about the same, so the natural check is made where the index matters.
    """
    from upstream.models import Customer

    assert AlertRule.objects.count() == 20_000
    enterprise = Customer.objects.get(slug="volume-1")
    rules = AlertRule.objects.filter(customer=enterprise, enabled=True).order_by(
        "-routing_priority"
    )[: services.MAX_RULES]
    plan = assert_uses_index(rules, RULE_INDEX, mode="natural")
    assert not plan.find(node_type="Sort"), plan.render()
    priorities = [rule.routing_priority for rule in rules]
    assert priorities == [1019, 1018, 1017, 1016, 1014, 1013, 1012, 1011, 1009, 1008]
