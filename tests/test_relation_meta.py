"""``db.relations.relation_of``: the relation a repeated read follows, from Django's SQL
(as Django 5.2 writes it for these accesses) and the installed models' meta."""

from __future__ import annotations

from pytest_queryplan.core.report.callsite import CallSite
from pytest_queryplan.db.relations import relation_of

LOOP = CallSite("app.py", 10, "page")

PROFILE_BY_USER = (
    'SELECT "upstream_userprofile"."id", "upstream_userprofile"."user_id" FROM '
    '"upstream_userprofile" WHERE "upstream_userprofile"."user_id" = %s LIMIT 21'
)
CUSTOMER_BY_ID = (
    'SELECT "upstream_customer"."id", "upstream_customer"."name" FROM "upstream_customer" '
    'WHERE "upstream_customer"."id" = %s LIMIT 21'
)
PROFILES = 'SELECT "upstream_userprofile"."id" FROM "upstream_userprofile"'
RULES = 'SELECT "upstream_alertrule"."id" FROM "upstream_alertrule" WHERE "x" = %s'


def test_a_reverse_one_to_one_is_select_related_by_its_accessor() -> None:
    relation = relation_of(PROFILE_BY_USER, [('SELECT * FROM "auth_user"', LOOP)])
    assert relation is not None
    assert (relation.owner, relation.name, relation.via) == (
        "User",
        "profile",
        "reverse one-to-one",
    )
    assert relation.fix.text == (
        'add .select_related("profile") to the query that loads the User rows.'
    )
    assert relation.parents_at == LOOP


def test_several_owners_are_told_apart_by_the_rows_the_body_loaded() -> None:
    # Customer is the target of UserProfile.customer, AlertRule.customer, ...: which one
    # is the loop's follows from the table the body read before it.
    assert relation_of(CUSTOMER_BY_ID, []) is None  # a guess would mislead: none named
    relation = relation_of(CUSTOMER_BY_ID, [(RULES, None), (PROFILES, LOOP)])
    assert relation is not None
    assert (relation.owner, relation.name, relation.method) == (
        "UserProfile",
        "customer",
        "select_related",
    )
    assert relation.parents_at == LOOP


def test_sql_that_is_no_related_read_names_nothing() -> None:
    assert relation_of('SELECT * FROM "upstream_customer" WHERE "name" LIKE %s', []) is None
    assert relation_of('UPDATE "upstream_customer" SET "name" = %s', []) is None
