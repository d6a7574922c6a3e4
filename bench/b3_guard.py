"""B3: the suite-wide guard's cost on a generated suite of database tests.

Two generated suites of ``tests`` tests with five explained queries each, run by whole
pytest processes with ``--queryplan-guard=off`` and ``=fail``, alternating. In the *cold*
suite every test writes rows of its own and then reads and updates them, so every
explained query has values no other query had and the guard EXPLAINs each one. In the
*warm* suite every test runs the same five queries with the same values, so after the
first test the session's plan cache answers. The tests run their queries themselves, so
the guard runs with scope ``all`` (under ``app`` it leaves test code's queries unexplained).
The inner runs share one test database of ours (``--reuse-db``), dropped at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import REPO_ROOT
from bench.childenv import child_env
from bench.timing import alternate_commands, ratio

TARGET = 1.5
QUERIES_PER_TEST = 5
LEVELS = {"off": "off", "on": "fail"}

_HEADER = """\
from __future__ import annotations

import pytest

from upstream.alerts.models import AlertRule
from upstream.models import Customer, UserProfile

pytestmark = pytest.mark.django_db
"""

# Two INSERTs (which the guard does not explain), then five explained statements, all
# with values of this test only.
_COLD = """

def test_cold_{n}():
    customer = Customer.objects.create(name="Customer {n}", slug="customer-{n}")
    AlertRule.objects.create(
        customer=customer, name="rule {n}", routing_priority={priority}, channel="email",
        destination="team-{n}@example.com",
    )
    assert Customer.objects.get(slug="customer-{n}") == customer
    rules = AlertRule.objects.filter(customer=customer, enabled=True)
    assert len(rules.order_by("-routing_priority")[:10]) == 1
    assert UserProfile.objects.filter(customer=customer, role="owner").count() == 0
    assert AlertRule.objects.filter(customer=customer).update(min_severity={priority}) == 1
    assert Customer.objects.filter(pk=customer.pk, name="Customer {n}").exists()
"""

# The same five reads, with the same values, in every test.
_WARM = """

def test_warm_{n}():
    assert Customer.objects.filter(slug="customer-1").first() is None
    assert not Customer.objects.filter(pk=1).exists()
    assert list(AlertRule.objects.filter(customer_id=1, enabled=True).order_by(
        "-routing_priority")[:10]) == []
    assert UserProfile.objects.filter(customer_id=1, role="owner").count() == 0
    assert AlertRule.objects.filter(customer_id=1, name="rule 1").first() is None
"""

_SUMMARY = re.compile(r"plans: (\d+) EXPLAINs? run for (\d+) quer(?:y|ies) seen")


@dataclass(frozen=True)
class B3Options:
    tests: int
    runs: int
    warmup: int = 1
    per_module: int = 20


def guard_available() -> bool:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return "--queryplan-guard" in completed.stdout


def write_suite(root: Path, template: str, tests: int, per_module: int) -> None:
    root.mkdir()
    (root / "pytest.ini").write_text(
        textwrap.dedent(
            f"""\
            [pytest]
            DJANGO_SETTINGS_MODULE = upstream.settings
            pythonpath = {REPO_ROOT}
            addopts = -p no:cacheprovider --reuse-db
            """
        )
    )
    for start in range(0, tests, per_module):
        body = "".join(
            template.format(n=n, priority=n % 100)
            for n in range(start, min(start + per_module, tests))
        )
        (root / f"test_generated_{start // per_module:04d}.py").write_text(_HEADER + body)


def run_b3(options: B3Options) -> dict[str, Any]:
    if not guard_available():
        return {"available": False, "note": "guard not available (no --queryplan-guard flag)"}
    from bench.db import drop_database, server_settings

    database = f"bench_guard_{os.getpid()}"
    entry = server_settings()
    expected = f"{options.tests} passed"

    try:
        with tempfile.TemporaryDirectory(prefix="bench_guard_") as tmp:
            root = Path(tmp)
            commands: dict[str, list[str]] = {}
            for suite, template in (("cold", _COLD), ("warm", _WARM)):
                write_suite(root / suite, template, options.tests, options.per_module)
                for label, level in LEVELS.items():
                    argv = [sys.executable, "-m", "pytest", "-q", f"--queryplan-guard={level}"]
                    # The generated tests run their queries themselves: scope all, so that
                    # the guard judges them (under app it would leave them unexplained).
                    argv.append("--queryplan-guard-scope=all")
                    argv.append(str(root / suite))
                    commands[f"{suite}_{label}"] = argv
            env = child_env(root / "pycache", django=True, QUERYPLAN_TEST_DB_NAME=database)
            stats, last = alternate_commands(
                commands,
                runs=options.runs,
                warmup=options.warmup,
                cwd=tmp,
                env=env,
                expect=expected,
                label="B3",
            )
    finally:
        drop_database(entry, database)
    return summarise(options, database, stats, last)


def summarise(
    options: B3Options, database: str, stats: dict[str, Any], last: dict[str, Any]
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "available": True,
        "database": database,
        "tests": options.tests,
        "queries_per_test": QUERIES_PER_TEST,
        "runs": options.runs,
        "stats": {name: item.as_dict() for name, item in stats.items()},
        "ratios": {},
        "plans": {},
        "targets": {},
    }
    for suite in ("cold", "warm"):
        value = ratio(stats[f"{suite}_on"], stats[f"{suite}_off"])
        extra_ms = (stats[f"{suite}_on"].median_ns - stats[f"{suite}_off"].median_ns) / 1e6
        result["ratios"][f"{suite}: on/off"] = value
        result["ratios"][f"{suite}: ms added per test"] = extra_ms / options.tests
        match = _SUMMARY.search(last[f"{suite}_on"].stdout)
        if match:
            result["plans"][suite] = {
                "explains_run": int(match[1]),
                "queries_seen": int(match[2]),
            }
        result["targets"][f"{suite} suite: guard on <= {TARGET}x off"] = value <= TARGET
    return result
