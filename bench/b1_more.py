"""B1 again elsewhere: on another server (TCP beside the embedded server's Unix socket, or
the other way round) and on psycopg2, each in a child ``python -m bench --only b1`` whose
rows join the table.

A child is the only honest way: Django reads ``DATABASE_URL`` and picks its driver once
per process. For psycopg2 the child hides psycopg 3 (``QUERYPLAN_BENCH_DRIVER=psycopg2``),
so Django falls back to psycopg2, as in a project that has only it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import REPO_ROOT

DRIVER_ENV = "QUERYPLAN_BENCH_DRIVER"


def hide_psycopg3_if_asked() -> None:
    """In a psycopg2 child, before Django is imported: psycopg 3 cannot be imported."""
    if os.environ.get(DRIVER_ENV) == "psycopg2":
        sys.modules["psycopg"] = None  # type: ignore[assignment]


def variants(also: list[str], psycopg2: bool) -> list[tuple[str | None, str]]:
    """(the ``DATABASE_URL`` of the child, or None for the embedded server; its driver)
    for every extra run: each server of ``also`` on psycopg 3, then, with ``psycopg2``,
    the run's own server and each of ``also`` on psycopg2."""
    own = os.environ.get("DATABASE_URL") or None
    servers = [None if where == "embedded" else where for where in also]
    runs = [(server, "psycopg") for server in servers]
    if psycopg2:
        runs += [(server, "psycopg2") for server in [own, *servers]]
    return runs


def run_more(runs: list[tuple[str | None, str]], sizes: list[str]) -> list[dict[str, Any]]:
    """B1's result of each child (or a note saying why it did not run)."""
    found = []
    for url, driver in runs:
        if driver == "psycopg2" and importlib.util.find_spec("psycopg2") is None:
            found.append({"note": "psycopg2 is not installed: no psycopg2 row"})
            continue
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", DRIVER_ENV)}
        if url is not None:
            env["DATABASE_URL"] = url
        env[DRIVER_ENV] = driver
        with tempfile.TemporaryDirectory(prefix="bench_b1_") as tmp:
            output = Path(tmp) / "b1.json"
            argv = [sys.executable, "-m", "bench", "--only", "b1", "--output", str(output)]
            completed = subprocess.run(
                [*argv, *sizes], cwd=REPO_ROOT, env=env, capture_output=True, text=True
            )
            if completed.returncode:
                raise RuntimeError(
                    f"B1 on {url or 'the embedded server'} with {driver} failed:\n"
                    f"{completed.stderr[-3000:]}"
                )
            child = json.loads(output.read_text())
        b1 = child["b1"]
        b1["server"] = f"PG {child['database']['server_version'].split()[0]}"
        found.append(b1)
    return found
