"""Role changes: every role's rights, the last-owner rule, and isolation between customers."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied

from upstream.api.permissions import (
    LastOwnerDenied,
    OtherCustomerDenied,
    RoleChangeDenied,
    change_role,
    ensure_not_last_owner,
)
from upstream.models import Role, UserProfile

pytestmark = pytest.mark.django_db

ROLES = [role.value for role in Role]

# Written out rather than derived, so a change to the rules has to change this table too.
# (actor role, target role, new role) triples that are allowed; every other one is denied.
ALLOWED = {("owner", target, new) for target in ROLES for new in ROLES} | {
    ("admin", target, new)
    for target in ("analyst", "viewer")
    for new in ("admin", "analyst", "viewer")
}


def role_in_db(profile: UserProfile) -> str:
    return UserProfile.objects.get(pk=profile.pk).role


@pytest.mark.parametrize(
    ("role", "is_owner", "is_admin"),
    [
        ("owner", True, True),
        ("admin", False, True),
        ("analyst", False, False),
        ("viewer", False, False),
    ],
)
def test_role_properties(make_customer, make_profile, role, is_owner, is_admin):
    profile = make_profile(make_customer(), role)
    assert (profile.is_owner, profile.is_admin) == (is_owner, is_admin)


@pytest.mark.parametrize(
    ("actor_role", "target_role", "new_role"), list(itertools.product(ROLES, repeat=3))
)
def test_rights_of_every_role(make_customer, make_profile, actor_role, target_role, new_role):
    customer = make_customer()
    # Two spare owners, so the last-owner rule never decides these cases.
    make_profile(customer, Role.OWNER)
    make_profile(customer, Role.OWNER)
    actor = make_profile(customer, actor_role)
    target = make_profile(customer, target_role)

    if (actor_role, target_role, new_role) in ALLOWED:
        change_role(actor, target, new_role)
        assert role_in_db(target) == target.role == new_role
    else:
        with pytest.raises(RoleChangeDenied):
            change_role(actor, target, new_role)
        assert role_in_db(target) == target_role


def test_owner_may_change_own_role_when_another_owner_remains(make_customer, make_profile):
    customer = make_customer()
    make_profile(customer, Role.OWNER)
    me = make_profile(customer, Role.OWNER)
    change_role(me, me, Role.VIEWER)
    assert role_in_db(me) == Role.VIEWER


def test_last_owner_cannot_demote_themselves(make_customer, make_profile):
    owner = make_profile(make_customer(), Role.OWNER)
    with pytest.raises(LastOwnerDenied, match="only owner"):
        change_role(owner, owner, Role.ADMIN)
    assert role_in_db(owner) == Role.OWNER


def test_with_two_owners_one_can_be_demoted_but_not_the_second(make_customer, make_profile):
    customer = make_customer()
    first = make_profile(customer, Role.OWNER)
    second = make_profile(customer, Role.OWNER)

    change_role(first, second, Role.ADMIN)
    assert role_in_db(second) == Role.ADMIN

    with pytest.raises(LastOwnerDenied):
        change_role(first, first, Role.ADMIN)
    assert role_in_db(first) == Role.OWNER


def test_last_owner_may_stay_owner(make_customer, make_profile):
    owner = make_profile(make_customer(), Role.OWNER)
    change_role(owner, owner, Role.OWNER)
    assert role_in_db(owner) == Role.OWNER


def test_owner_count_is_per_customer(make_customer, make_profile):
    owner = make_profile(make_customer(), Role.OWNER)
    make_profile(make_customer(), Role.OWNER)  # another customer's owner does not count
    with pytest.raises(LastOwnerDenied):
        ensure_not_last_owner(owner)


def test_non_owners_are_never_the_last_owner(make_customer, make_profile):
    # A customer with no owner at all: demoting its admin is not the last-owner rule's business.
    ensure_not_last_owner(make_profile(make_customer(), Role.ADMIN))


@pytest.mark.parametrize("actor_role", ROLES)
def test_nobody_changes_roles_in_another_customer(make_customer, make_profile, actor_role):
    actor = make_profile(make_customer(), actor_role)
    stranger = make_profile(make_customer(), Role.VIEWER)
    with pytest.raises(OtherCustomerDenied):
        change_role(actor, stranger, Role.ANALYST)
    assert role_in_db(stranger) == Role.VIEWER


def test_decision_uses_current_roles_not_stale_objects(make_customer, make_profile):
    customer = make_customer()
    make_profile(customer, Role.OWNER)
    actor = make_profile(customer, Role.OWNER)
    target = make_profile(customer, Role.VIEWER)
    # Someone demotes the actor after the caller loaded it.
    UserProfile.objects.filter(pk=actor.pk).update(role=Role.VIEWER)

    with pytest.raises(RoleChangeDenied):
        change_role(actor, target, Role.ADMIN)
    assert role_in_db(target) == Role.VIEWER


def test_unknown_role_is_a_value_error(make_customer, make_profile):
    customer = make_customer()
    owner = make_profile(customer, Role.OWNER)
    target = make_profile(customer, Role.VIEWER)
    with pytest.raises(ValueError, match="unknown role 'superuser'"):
        change_role(owner, target, "superuser")


def test_denials_are_django_permission_denied():
    # So a Django view that lets them propagate answers 403.
    assert issubclass(RoleChangeDenied, PermissionDenied)
    assert issubclass(LastOwnerDenied, RoleChangeDenied)
    assert issubclass(OtherCustomerDenied, RoleChangeDenied)
