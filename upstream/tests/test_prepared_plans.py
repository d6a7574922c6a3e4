"""Phase 6's indexes once the statements are prepared: generic mode.

With server-side binding (or a pooler that prepares) PostgreSQL may plan a statement
without its parameters' values. A partial index survives that only when the statement's
own text implies its predicate. ``alertrule_eval_priority_idx`` (``WHERE enabled``) does:
Django writes ``enabled=True`` as the bare column ``"enabled"``, no parameter. A partial
index on ``status = 'open'`` queried with ``.filter(status="open")`` does not: Django binds
``status = %s``, and the generic plan cannot prove the predicate.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.models.expressions import RawSQL

from pytest_queryplan import QueryPlanAssertionError
from upstream.alerts import services

pytestmark = pytest.mark.django_db

RULE_INDEX = "alertrule_eval_priority_idx"


@pytest.fixture
def drift_event(make_customer, make_rule, make_event):
    customer = make_customer()
    make_rule(customer, routing_priority=5, metric="claims_denial_rate")
    make_rule(customer, routing_priority=1)
    make_rule(customer, routing_priority=9, enabled=False)
    return make_event(customer)


@pytest.fixture
def order_model():
    """The plugin's test app has the parameter-bound partial index (tests.settings)."""
    if not apps.is_installed("tests.shop"):
        pytest.skip("needs the shop test app: run with tests.settings, the project default")
    from tests.shop.models import Order

    return Order


def test_rule_index_survives_a_generic_plan(assert_uses_index, queryplan, drift_event):
    candidates = services.candidate_rules(drift_event)
    sql, params = candidates.query.sql_with_params()
    # Why it survives: the predicate's column is in the SQL itself, not a parameter.
    assert '"upstream_alertrule"."enabled")' in sql and len(params) == 1
    plan = assert_uses_index(candidates, RULE_INDEX, mode="generic")
    scan = plan.find(index=RULE_INDEX)[0]
    assert scan.index_cond == "(customer_id = $1)"
    assert not plan.find(node_type="Sort")


@pytest.mark.queryplan(uses_index=RULE_INDEX, forbid=["Sort"], mode="generic")
def test_rule_evaluation_prepared_still_uses_the_partial_index(drift_event):
    alert = services.evaluate(drift_event)
    assert alert is not None and alert.rule.routing_priority == 5


def test_a_bound_predicate_column_loses_the_index_once_prepared(
    assert_uses_index, queryplan, order_model
):
    index = "order_open_customer_idx"
    open_orders = order_model.objects.filter(customer_id=7, status="open")
    assert queryplan.explain(open_orders, mode="forced").uses_index(index)  # with the values
    with pytest.raises(QueryPlanAssertionError) as failure:
        assert_uses_index(open_orders, index, mode="generic")
    text = str(failure.value)
    assert "once prepared, but its generic plan does not" in text
    assert "the statement: (status)::text = $2 ($2 is 'open')" in text
    # The first fix it names: the value as a literal in the SQL.
    literal = order_model.objects.filter(customer_id=7, status=RawSQL("'open'", []))
    assert queryplan.explain(literal, mode="generic").uses_index(index)
