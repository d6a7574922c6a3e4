"""Index suggestions from Filter text as PostgreSQL prints it (pure, no database)."""

from __future__ import annotations

import pytest

from pytest_queryplan.core.suggest import filter_columns, suggest_index


@pytest.mark.parametrize(
    "expression, equality, other",
    [
        ("(customer_id = 1)", ["customer_id"], []),
        ("((role)::text = 'owner'::text)", ["role"], []),
        (
            "((min_severity >= 50) AND ((destination)::text = 'ops@example.com'::text))",
            ["destination"],
            ["min_severity"],
        ),
        ("(enabled AND (customer_id = 5))", ["customer_id", "enabled"], []),
        ("((name)::text ~~ 'a%'::text)", [], ["name"]),
        ('("order" = 3)', ["order"], []),
        ("(customer_id = ANY ('{1,2}'::bigint[]))", ["customer_id"], []),
        ("(deleted_at IS NULL)", ["deleted_at"], []),
        ("((a = 1) OR (b < 2))", ["a"], ["b"]),
    ],
)
def test_filter_columns(expression, equality, other):
    assert filter_columns(expression) == (equality, other)


def test_suggestion_uses_field_names_and_fits_django_name_limit():
    found = suggest_index(
        "upstream_alertrule",
        "((min_severity >= 50) AND (customer_id = 1))",
        {"customer_id": "customer", "min_severity": "min_severity"},
    )
    assert found is not None
    assert found.columns == ("customer_id", "min_severity")
    assert found.as_django() == (
        'models.Index(fields=["customer", "min_severity"], name="alertrule_customer_min_sev_idx")'
    )
    assert len(found.name) <= 30
    assert found.as_sql() == (
        "CREATE INDEX CONCURRENTLY alertrule_customer_min_sev_idx "
        "ON upstream_alertrule (customer_id, min_severity);"
    )
    assert found.render().startswith("Suggestion (not a verdict")


def test_nothing_to_suggest_without_columns():
    assert suggest_index("t", "(random() < 0.5)") is None
