"""B3 with the HTML page: what ``--queryplan-html`` adds to a guarded 200-test suite.

``python -m bench.b3_html [--tests 200] [--runs 7]``: B3's generated suites, run whole
under ``--queryplan-guard=warn``, alternating: without an output, with
``--queryplan-html``, and with ``--queryplan-report`` (which keeps the same plans for a
later ``merge --html-output``). The *warm* suite is B3's (no finding: the page is the
overview); the *findings* suite adds to every test one filtered full read (a customer by
name, which no index serves), so every test's record carries a drawn plan and the page has
a detail per finding shape (one: findings group by shape) and the records all travel.
Prints medians and ratios; times nothing a test asserts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench.b3_guard import _WARM, write_suite
from bench.childenv import child_env
from bench.timing import alternate_commands, ratio

_FINDINGS = (
    _WARM.replace("test_warm_{n}", "test_found_{n}")
    + '    assert not Customer.objects.filter(name="Customer {n}").exists()\n'
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.b3_html")
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from bench.db import drop_database, server_settings, setup_django

    setup_django()
    database = f"bench_html_{os.getpid()}"
    entry = server_settings()
    try:
        with tempfile.TemporaryDirectory(prefix="bench_html_") as tmp:
            root = Path(tmp)
            commands: dict[str, list[str]] = {}
            for suite, template in (("warm", _WARM), ("findings", _FINDINGS)):
                write_suite(root / suite, template, args.tests, 20)
                base = [sys.executable, "-m", "pytest", "-q", "--queryplan-guard=warn"]
                base.append("--queryplan-guard-scope=all")  # the queries are the tests'
                commands[f"{suite}_plain"] = [*base, str(root / suite)]
                html = f"--queryplan-html={root / suite}.html"
                commands[f"{suite}_html"] = [*base, html, str(root / suite)]
                report = f"--queryplan-report={root / suite}.json"
                commands[f"{suite}_json"] = [*base, report, str(root / suite)]
            env = child_env(root / "pycache", django=True, QUERYPLAN_TEST_DB_NAME=database)
            stats, _ = alternate_commands(
                commands,
                runs=args.runs,
                warmup=1,
                cwd=tmp,
                env=env,
                expect=f"{args.tests} passed",
                label="B3-html",
            )
            sizes = {p.name: p.stat().st_size for p in root.glob("*.html")}
    finally:
        drop_database(entry, database)
    print(f"{args.tests} tests, median of {args.runs} alternating runs, guard warn, scope all")
    for suite in ("warm", "findings"):
        plain = stats[f"{suite}_plain"]
        for variant in ("html", "json"):
            other = stats[f"{suite}_{variant}"]
            print(
                f"{suite:8} {variant}: {plain.median_ns / 1e9:.2f} s -> "
                f"{other.median_ns / 1e9:.2f} s ({ratio(other, plain):.3f}x)"
            )
    print("page sizes:", ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sizes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
