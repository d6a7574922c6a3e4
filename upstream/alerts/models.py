"""Alert rules, drift events, and the alert a rule produced for an event.

Foreign keys to ``Customer`` are lazy strings so this module never imports
``upstream.models`` (which imports this one to register these models).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

SEVERITY_MAX = 100


class Channel(models.TextChoices):
    """Where an alert is delivered."""

    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    WEBHOOK = "webhook", "Webhook"


class AlertRule(models.Model):
    """Routes a customer's drift events on one metric, above a severity, to one destination.

    Enabled rules are evaluated in descending ``routing_priority``; see
    ``upstream.alerts.services.evaluate``.
    """

    customer = models.ForeignKey(
        "upstream.Customer", on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    routing_priority = models.PositiveIntegerField(default=0)
    metric = models.CharField(max_length=100, blank=True, help_text="Empty matches every metric.")
    min_severity = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(SEVERITY_MAX)]
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    destination = models.CharField(max_length=500, help_text="Address, channel name or URL.")

    class Meta:
        unique_together = ("customer", "name")
        indexes = [
            models.Index(fields=["customer", "enabled"], name="idx_alertrule_customer_enabled"),
            # Serves evaluate(): one customer's enabled rules, highest priority first,
            # read straight from the index with no sort.
            models.Index(
                fields=["customer", "-routing_priority"],
                name="alertrule_eval_priority_idx",
                condition=models.Q(enabled=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def matches(self, event: DriftEvent) -> bool:
        """Whether this rule wants ``event``: same metric (or any), severity at the threshold."""
        return (not self.metric or self.metric == event.metric) and (
            event.severity >= self.min_severity
        )


class DriftEvent(models.Model):
    """A detected drift of one of a customer's metrics, scored 0 (none) to 100 (severe)."""

    customer = models.ForeignKey(
        "upstream.Customer", on_delete=models.CASCADE, related_name="drift_events"
    )
    metric = models.CharField(max_length=100)
    severity = models.PositiveSmallIntegerField(validators=[MaxValueValidator(SEVERITY_MAX)])
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.metric} drift {self.severity}"


class Alert(models.Model):
    """The alert the winning rule produced for a drift event: at most one per event.

    Channel and destination are copied from the rule when the alert is made, so editing
    a rule later does not rewrite where past alerts went.
    """

    event = models.OneToOneField(DriftEvent, on_delete=models.CASCADE, related_name="alert")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    destination = models.CharField(max_length=500)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.rule} -> {self.channel}:{self.destination}"
