"""Alert routing: which rule, if any, a drift event goes to, and the Alert that records it.

First match wins. A customer's enabled rules are tried from the highest
``routing_priority`` down; the first rule that matches the event (``AlertRule.matches``)
routes it, and the rules below it are not consulted. An event therefore produces at most
one alert (``Alert.event`` is one-to-one). A low-priority rule with an empty metric and
``min_severity=0`` acts as a catch-all. Disabled rules are never evaluated.
"""

from __future__ import annotations

from django.db.models import QuerySet

from upstream.alerts.models import Alert, AlertRule, DriftEvent

# Only a customer's MAX_RULES highest-priority enabled rules are evaluated; a rule ranked
# lower never fires. evaluate() runs for every drift event, and this bound keeps its cost
# fixed however many rules a customer piles up: with the LIMIT, PostgreSQL reads the first
# entries of alertrule_eval_priority_idx and stops, instead of fetching and sorting all of
# the customer's enabled rules.
MAX_RULES = 10


def candidate_rules(drift_event: DriftEvent) -> QuerySet[AlertRule]:
    """The rules ``evaluate`` considers for ``drift_event``, highest priority first."""
    return AlertRule.objects.filter(customer=drift_event.customer, enabled=True).order_by(
        "-routing_priority"
    )[:MAX_RULES]


def route(drift_event: DriftEvent) -> AlertRule | None:
    """The rule that wins ``drift_event`` (first match in priority order), or None.

    Rules with equal priority are tried oldest first (lowest id), whatever order the
    database returned them in. Which of several tied rules at the MAX_RULES boundary makes
    the cut is up to the database: give rules distinct priorities if that matters.
    """
    rules = sorted(candidate_rules(drift_event), key=lambda r: (-r.routing_priority, r.pk))
    return next((rule for rule in rules if rule.matches(drift_event)), None)


def evaluate(drift_event: DriftEvent) -> Alert | None:
    """Route ``drift_event`` and record the resulting Alert; None when no rule matches.

    Evaluating an event that already has an alert returns that alert unchanged: the
    first routing decision stands even if the rules changed since.
    """
    rule = route(drift_event)
    if rule is None:
        return None
    alert, _ = Alert.objects.get_or_create(
        event=drift_event,
        defaults={"rule": rule, "channel": rule.channel, "destination": rule.destination},
    )
    return alert
