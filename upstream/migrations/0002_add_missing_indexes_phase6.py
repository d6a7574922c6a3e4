"""Phase 6: the two indexes behind the permission checks and alert-rule evaluation.

Built with CREATE INDEX CONCURRENTLY so writes to both tables keep flowing while the
indexes build (a plain CREATE INDEX holds a SHARE lock that blocks every INSERT, UPDATE
and DELETE until it finishes). CONCURRENTLY cannot run inside a transaction block, hence
``atomic = False``. If a build fails it leaves an INVALID index behind: drop it
(DROP INDEX CONCURRENTLY) before running this migration again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("upstream", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="userprofile",
            index=models.Index(fields=["customer", "role"], name="userprofile_customer_role_idx"),
        ),
        AddIndexConcurrently(
            model_name="alertrule",
            index=models.Index(
                fields=["customer", "-routing_priority"],
                name="alertrule_eval_priority_idx",
                condition=models.Q(enabled=True),
            ),
        ),
    ]
