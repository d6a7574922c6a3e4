"""Smoke test of ``python -m bench --tiny``: it runs, and its table and JSON keep their shape.

It times nothing and asserts no timing: on a tiny size the figures mean nothing. It does
check what makes the figures honest: both contenders of B4 really differ in the plugin,
the warm suite of B3 really is answered by the plan cache, and the databases the bench
made are gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from upstream.database import connect

REPO_ROOT = Path(__file__).resolve().parent.parent
TINY_TESTS = 4
QUERIES_PER_TEST = 5


def run_bench(output: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"}
    return subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--output", str(output)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def database_names() -> set[str]:
    with connect(settings.DATABASES["default"], autocommit=True) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


def test_tiny_bench_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    completed = run_bench(output)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(output.read_text())

    assert results["tiny"] is True
    assert {"date", "nproc", "cpu", "memory_gib", "python"} <= results["machine"].keys()
    assert results["database"]["server_version"]

    for context in ("transaction", "autocommit"):
        b1 = results["b1"]["contexts"][context]
        assert set(b1["stats"]) == {"floor", "forced", "natural", "generic", "by_hand"}
        assert all(stats["samples"] == 20 for stats in b1["stats"].values())
        assert set(b1["ratios"]) == {
            "forced/floor",
            "natural/floor",
            "generic/floor",
            "generic/forced",
            "by_hand/floor",
            "forced/by_hand",
        }

    for shape in ("deep", "wide"):
        sizes = results["b2"][shape]["sizes"]
        assert set(sizes) == {"10", "1000"}
        assert set(sizes["1000"]["ns_per_node"]) == {
            "json.loads",
            "parse",
            "walk",
            "lookup",
            "render",
        }

    b3 = results["b3"]
    assert b3["available"] is True
    assert set(b3["stats"]) == {"cold_off", "cold_on", "warm_off", "warm_on"}
    queries = TINY_TESTS * QUERIES_PER_TEST
    assert b3["plans"]["cold"] == {"explains_run": queries, "queries_seen": queries}
    assert b3["plans"]["warm"] == {"explains_run": QUERIES_PER_TEST, "queries_seen": queries}

    assert results["b4"]["plugin_loaded"] == {"plugin": True, "no_plugin": False}
    assert set(results["b4"]["stats"]) == {"plugin", "no_plugin"}

    assert results["targets"] and all(isinstance(met, bool) for met in results["targets"].values())
    table = completed.stdout
    for heading in (
        "**B1, one assertion**",
        "**B2, plan size**",
        "**B3, guard**",
        "**B4, import**",
    ):
        assert heading in table
    for target in results["targets"]:
        assert f"| {target} |" in table

    assert not {results["b1"]["database"], b3["database"]} & database_names()
