"""The phase 6 migration: concurrent SQL, the indexes it leaves behind, and its reversal."""

from __future__ import annotations

import pytest
from django.core.management import call_command

USERPROFILE_INDEX = (
    "CREATE INDEX CONCURRENTLY "
    '"userprofile_customer_role_idx" ON "upstream_userprofile" ("customer_id", "role");'
)
ALERTRULE_INDEX = (
    'CREATE INDEX CONCURRENTLY "alertrule_eval_priority_idx" ON "upstream_alertrule" '
    '("customer_id", "routing_priority" DESC) WHERE "enabled";'
)
PHASE6_DEFINITIONS = {
    "userprofile_customer_role_idx": "USING btree (customer_id, role)",
    "alertrule_eval_priority_idx": "USING btree (customer_id, routing_priority DESC) WHERE enabled",
}


# Not the default transaction-wrapped test: AddIndexConcurrently refuses to produce its SQL
# inside an atomic block, even when only collecting it.
@pytest.mark.django_db(transaction=True)
def test_sqlmigrate_builds_both_indexes_concurrently_outside_a_transaction():
    sql = call_command("sqlmigrate", "upstream", "0002")
    lines = sql.splitlines()
    assert USERPROFILE_INDEX in lines
    assert ALERTRULE_INDEX in lines
    # CONCURRENTLY cannot run in a transaction block: the migration must not open one.
    assert "BEGIN;" not in lines


@pytest.mark.django_db
def test_models_and_migrations_agree():
    # Exits non-zero (SystemExit) if the models declare something no migration creates.
    call_command("makemigrations", "upstream", check=True, dry_run=True, verbosity=0)


@pytest.mark.django_db
def test_migrated_database_has_both_indexes_valid(index_state):
    indexes = index_state()
    for name, definition in PHASE6_DEFINITIONS.items():
        indexdef, valid = indexes[name]
        assert indexdef.endswith(definition), indexdef
        assert valid, f"{name} is INVALID"


@pytest.mark.django_db(transaction=True)
def test_migrating_back_drops_the_indexes_and_forward_rebuilds_them(index_state):
    try:
        call_command("migrate", "upstream", "0001", verbosity=0)
        at_0001 = index_state()
        assert not set(PHASE6_DEFINITIONS) & set(at_0001)
        assert "idx_alertrule_customer_enabled" in at_0001  # 0001's own index stays

        call_command("migrate", "upstream", verbosity=0)
        rebuilt = index_state()
        for name, definition in PHASE6_DEFINITIONS.items():
            indexdef, valid = rebuilt[name]
            assert indexdef.endswith(definition) and valid, indexdef
    finally:
        call_command("migrate", "upstream", verbosity=0)
