"""Role changes inside a customer: who may change whose role, and the last-owner rule.

Pure Django, no HTTP: views call ``change_role`` and turn ``RoleChangeDenied`` into a 403.

The rules:

- Nobody acts across customers: actor and target must belong to the same customer.
- Owners may give anyone in their customer any role, themselves included.
- Admins may change analysts and viewers only, to admin, analyst or viewer (never owner).
- Analysts and viewers may change nothing.
- A customer always keeps at least one owner.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from upstream.models import Customer, Role, UserProfile

# Roles an admin may touch, and may hand out.
ADMIN_MANAGEABLE_ROLES = frozenset({Role.ANALYST, Role.VIEWER})
ADMIN_GRANTABLE_ROLES = frozenset({Role.ADMIN, Role.ANALYST, Role.VIEWER})


class RoleChangeDenied(PermissionDenied):
    """The actor may not make this role change."""


class OtherCustomerDenied(RoleChangeDenied):
    """Actor and target belong to different customers."""


class LastOwnerDenied(RoleChangeDenied):
    """The change would leave the customer without an owner."""


def ensure_not_last_owner(profile: UserProfile) -> None:
    """Raise ``LastOwnerDenied`` if ``profile`` is its customer's only owner.

    Call it before demoting or removing ``profile``. Non-owners pass without a query.
    """
    if profile.role != Role.OWNER:
        return
    owners = UserProfile.objects.filter(customer=profile.customer, role="owner").count()
    if owners <= 1:
        raise LastOwnerDenied(
            f"{profile.user} is the only owner of {profile.customer}; "
            "make someone else an owner first."
        )


def check_can_change_role(actor: UserProfile, target: UserProfile, new_role: str) -> None:
    """Raise ``RoleChangeDenied`` unless ``actor`` may give ``target`` the role ``new_role``.

    Checks rights only; the last-owner rule needs the database and lives in
    ``ensure_not_last_owner``. Raises ``ValueError`` for a role that does not exist.
    """
    if new_role not in Role.values:
        raise ValueError(f"unknown role {new_role!r}; expected one of {', '.join(Role.values)}")
    if actor.customer_id != target.customer_id:
        raise OtherCustomerDenied("Users can only manage roles inside their own customer.")
    if actor.role == Role.OWNER:
        return
    if actor.role == Role.ADMIN:
        if target.role not in ADMIN_MANAGEABLE_ROLES:
            raise RoleChangeDenied(f"Admins cannot change the role of a {target.role}.")
        if new_role not in ADMIN_GRANTABLE_ROLES:
            raise RoleChangeDenied(f"Admins cannot grant the {new_role} role.")
        return
    raise RoleChangeDenied(f"A {actor.role} cannot change roles.")


def change_role(actor: UserProfile, target: UserProfile, new_role: str) -> UserProfile:
    """Give ``target`` the role ``new_role`` on behalf of ``actor``, and save it.

    Role changes inside one customer are serialised by locking the customer row, so two
    owners demoting each other at the same time cannot both succeed and leave none.
    Both profiles are re-read under that lock: the decision uses current roles, not the
    ones the caller loaded earlier. Returns ``target``, updated.
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=target.customer_id)
        actor.refresh_from_db(fields=["role", "customer"])
        target.refresh_from_db(fields=["role", "customer"])
        if target.customer_id == customer.pk:
            target.customer = customer  # already loaded: spares the owner count a query
        check_can_change_role(actor, target, new_role)
        if new_role != Role.OWNER:
            ensure_not_last_owner(target)
        target.role = new_role
        target.save(update_fields=["role"])
    return target
