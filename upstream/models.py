"""The tenant and its people: customers, and each user's role inside one customer.

The alert models live in ``upstream.alerts.models`` but belong to this app (label
``upstream``); importing them here is what registers them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from upstream.alerts.models import Alert, AlertRule, DriftEvent  # noqa: F401


class Customer(models.Model):
    """A tenant: every profile, rule and event belongs to exactly one customer."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """What a user may do inside their customer, from most to least powerful."""

    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ANALYST = "analyst", "Analyst"
    VIEWER = "viewer", "Viewer"


class UserProfile(models.Model):
    """A user's membership of one customer, with their role there."""

    # unique=True (implied by OneToOneField) already gives this column an index.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=True,
        related_name="profile",
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        db_index=True,
        related_name="profiles",
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        indexes = [
            # Serves the permission checks' "owners of this customer" count
            # (upstream.api.permissions.ensure_not_last_owner).
            models.Index(fields=["customer", "role"], name="userprofile_customer_role_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.customer_id})"

    @property
    def is_owner(self) -> bool:
        """True for the customer's owners."""
        return self.role == Role.OWNER

    @property
    def is_admin(self) -> bool:
        """True for admins and owners: an owner has every right an admin has."""
        return self.role in (Role.OWNER, Role.ADMIN)
