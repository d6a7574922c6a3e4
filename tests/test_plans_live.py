"""The captured plan shapes, re-planned on the server this test run uses.

CI runs the suite on the embedded PostgreSQL 18 and on PostgreSQL 15 (``DATABASE_URL``);
each run rebuilds the capture's scratch schema in its Django test database, re-runs every
case from ``tests/plans/capture.py`` and checks the planner still picks the stored shape
for that major version. It also checks the renderer against the server's own text
``EXPLAIN``, so the labels cannot drift from what psql shows.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pytest_queryplan.core.plan.render import CONDITION_KEYS
from pytest_queryplan.core.plan.tree import parse_plan
from tests.plans import capture
from upstream.database import connect

# The marker makes pytest-django create the test database even though the tests talk to
# it through their own connection; without it the run would use the configured database.
pytestmark = pytest.mark.django_db

CAPTURED_VERSIONS = (15, 18)
CASES = {case.name: case for case in capture.CASES}


@pytest.fixture(scope="module")
def server(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[psycopg.Connection[Any], int]]:
    """An autocommit psycopg connection to the test database, with the scratch schema in it."""
    from django.db import connection
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX

    with django_db_blocker.unblock():
        # The test database, not the configured one: django_db_setup renamed NAME.
        settings = connection.settings_dict
        test_name = settings.get("TEST", {}).get("NAME")
        assert settings["NAME"] == test_name or settings["NAME"].startswith(TEST_DATABASE_PREFIX), (
            f"refusing to build the scratch schema outside a test database: {settings['NAME']}"
        )
        conn = connect(settings, autocommit=True)
    with conn:
        major = conn.info.server_version // 10000
        if major not in CAPTURED_VERSIONS:
            pytest.skip(
                f"plans were captured on PostgreSQL {' and '.join(map(str, CAPTURED_VERSIONS))}; "
                f"this server is {major} (run tests/plans/capture.py to add it)"
            )
        with capture.scratch_schema(conn):
            yield conn, major


def stored(major: int, name: str) -> dict[str, Any]:
    return json.loads((capture.PLANS_DIR / f"pg{major}" / f"{name}.json").read_text())


@pytest.mark.parametrize("name", CASES)
def test_live_plan_has_the_captured_shape(
    server: tuple[psycopg.Connection[Any], int], name: str
) -> None:
    conn, major = server
    case = CASES[name]
    record = stored(major, name)
    # A case edited without re-capturing would compare against a stale fixture.
    assert (record["sql"], record["setup"]) == (case.sql, list(case.statements))
    live = capture.explain(conn, case)
    assert capture.expect(live) == record["expect"]
    plan = parse_plan(live)
    assert sorted(plan.index_names) == record["expect"]["index_names"]


def _comparable(server_text: list[str]) -> list[str]:
    """The server's text EXPLAIN cut down to what the renderer prints in verbose mode."""
    kept = []
    for line in server_text:
        stripped = line.strip()
        if "  (cost=" in line:
            kept.append(re.sub(r" width=\d+\)", ")", line))
        elif stripped.startswith(("InitPlan ", "SubPlan ", "CTE ")):
            kept.append(line)
        elif stripped.partition(":")[0] in CONDITION_KEYS:
            kept.append(line)
    return kept


@pytest.mark.parametrize("name", CASES)
def test_render_matches_server_text_explain(
    server: tuple[psycopg.Connection[Any], int], name: str
) -> None:
    conn, _ = server
    case = dataclasses.replace(CASES[name], analyze=False)
    rendered = parse_plan(capture.explain(conn, case)).render(verbose=True)
    assert rendered.splitlines() == _comparable(capture.explain_text(conn, case))
