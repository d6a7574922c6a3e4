"""Phase 6's indexes, proven from Django ``TestCase`` classes with ``QueryPlanMixin``.

The same checks as ``test_query_plans.py``'s fixtures, for suites written as Django test
cases. This module runs under pytest (``pytest upstream``) and under Django's own runner:

    QUERYPLAN_TEST_DB_NAME=test_me python manage.py test upstream.tests.test_testcase_plans

(On a shared server give the test database a name of your own: Django's runner would
otherwise create ``test_postgres``, and drop it again, under every other run's feet.)
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.test import TestCase

from pytest_queryplan import QueryPlanAssertionError
from pytest_queryplan.testcase import QueryPlanMixin
from upstream.alerts import services
from upstream.alerts.models import AlertRule, Channel, DriftEvent
from upstream.api import permissions
from upstream.models import Customer, Role, UserProfile

OWNER_INDEX = "userprofile_customer_role_idx"
RULE_INDEX = "alertrule_eval_priority_idx"


class OwnerCountTests(QueryPlanMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.customer = Customer.objects.create(name="Acme", slug="acme")
        profiles = []
        for n, role in enumerate([Role.OWNER, Role.OWNER, Role.VIEWER]):
            user = User.objects.create(username=f"{role}-{n}")
            profiles.append(UserProfile.objects.create(user=user, customer=cls.customer, role=role))
        cls.owner = profiles[0]

    def test_owner_count_uses_composite_index(self) -> None:
        plan = self.assertUsesIndex(
            UserProfile.objects.filter(customer=self.customer, role="owner"),
            OWNER_INDEX,
            keys=["customer", "role"],
        )
        self.assertTrue(plan.find(relation="upstream_userprofile"))
        # The real code path: ensure_not_last_owner runs .count() inside the block.
        with self.assertUsesIndex(OWNER_INDEX, keys="all"):
            permissions.ensure_not_last_owner(self.owner)

    def test_a_key_moved_out_of_the_scan_fails_keys(self) -> None:
        rewrite = UserProfile.objects.filter(customer=self.customer)
        with self.assertRaises(QueryPlanAssertionError) as failure:
            with self.assertUsesIndex(OWNER_INDEX, keys=["customer_id", "role"]):
                rewrite.aggregate(n=Count("pk", filter=Q(role="owner")))
        self.assertIn("not searched: role", str(failure.exception))

    def test_a_rewritten_lookup_fails_naming_the_column(self) -> None:
        with self.assertRaises(QueryPlanAssertionError) as failure:
            with self.assertUsesIndex(OWNER_INDEX):
                UserProfile.objects.filter(customer=self.customer, role__iexact="owner").count()
        self.assertIn(
            "the Index Cond searched customer_id; left to the Filter: role.", str(failure.exception)
        )

    def test_rows_created_in_the_test_are_explained_in_its_transaction(self) -> None:
        customer = Customer.objects.create(name="Beta", slug="beta")
        with self.assertUsesIndex(OWNER_INDEX, every=True):
            self.assertEqual(UserProfile.objects.filter(customer=customer, role="owner").count(), 0)

    async def test_the_async_orm_is_checked_too(self) -> None:
        with self.assertUsesIndex(OWNER_INDEX):
            owners = await UserProfile.objects.filter(customer=self.customer, role="owner").acount()
        self.assertEqual(owners, 2)


class RuleEvaluationTests(QueryPlanMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        customer = Customer.objects.create(name="Acme", slug="acme")
        for priority, enabled in [(5, True), (1, True), (9, False)]:
            AlertRule.objects.create(
                customer=customer,
                name=f"rule {priority}",
                routing_priority=priority,
                enabled=enabled,
                channel=Channel.EMAIL,
                destination=f"team-{priority}@example.com",
            )
        cls.event = DriftEvent.objects.create(customer=customer, metric="m", severity=50)

    def test_rule_evaluation_uses_partial_index(self) -> None:
        with self.assertUsesIndex(RULE_INDEX, ordered=True):
            alert = services.evaluate(self.event)
        self.assertEqual(alert.rule.routing_priority, 5)

    def test_explain_query_returns_the_plan(self) -> None:
        plan = self.explainQuery(services.candidate_rules(self.event))
        self.assertEqual(plan.tables, {"upstream_alertrule"})
