"""``python -m bench``: run the benchmarks, print the tables, write ``bench/results.json``.

``--tiny`` is the size CI runs: seconds, to keep the benchmarks working; it times
nothing worth reading. The defaults are the sizes the README's table was measured at.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench import DEFAULT_RESULTS
from bench.b1_more import hide_psycopg3_if_asked

hide_psycopg3_if_asked()  # a psycopg2 child: before anything imports Django

BENCHMARKS = ("b1", "b2", "b3", "b4")

# name: (default, tiny)
SIZES: dict[str, tuple[Any, Any]] = {
    "iterations": (2000, 20),
    "warmup": (200, 5),
    "customers": (1000, 1000),
    "rules": (20, 20),
    "sizes": ("10,1000,10000,100000", "10,1000"),
    "plan_rounds": (15, 2),
    "tests": (200, 4),
    "guard_runs": (7, 1),
    "import_tests": (500, 20),
    "import_runs": (21, 1),
    "process_warmup": (1, 0),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure what pytest-queryplan's checks cost, side by side with the "
        "floor (one raw EXPLAIN round trip). Uses the database the tests use: the embedded "
        "PostgreSQL, or DATABASE_URL when set. Every comparison alternates its contenders "
        "and reports medians.",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        help="run only this benchmark (repeatable); default: all",
    )
    p.add_argument("--tiny", action="store_true", help="smallest sizes, for CI: times nothing")
    p.add_argument("--output", type=Path, default=DEFAULT_RESULTS, help="results JSON path")
    more = p.add_argument_group("more rows")
    more.add_argument(
        "--b1-also",
        action="append",
        default=[],
        metavar="WHERE",
        help="B1 also on this server, in a child process: 'embedded' (the Unix socket) or a "
        "postgresql:// URL (TCP); repeatable",
    )
    more.add_argument(
        "--b1-psycopg2",
        action="store_true",
        help="B1 also on psycopg2 (needs psycopg2 installed), on every server B1 runs on",
    )
    more.add_argument(
        "--suite",
        type=Path,
        help="B3 also times this checked-out suite: without the plugin (-p no:queryplan), "
        "with it, and with --queryplan-guard=warn, alternating (--guard-runs times each)",
    )
    more.add_argument(
        "--suite-cmd",
        default="python -m pytest -q -p no:cacheprovider",
        help="the command that runs --suite's tests, run in its folder ('python' is this "
        "interpreter); default: %(default)s",
    )
    size = p.add_argument_group("sizes (defaults; --tiny lowers every one not given)")
    size.add_argument("--iterations", type=int, help="B1: timed calls per contender (2000)")
    size.add_argument("--warmup", type=int, help="B1: untimed calls per contender first (200)")
    size.add_argument("--customers", type=int, help="B1: customers in the bench database (1000)")
    size.add_argument("--rules", type=int, help="B1: alert rules per customer (20)")
    size.add_argument("--sizes", help="B2: plan sizes in nodes, comma-separated")
    size.add_argument("--plan-rounds", type=int, help="B2: timed rounds per operation (15)")
    size.add_argument("--tests", type=int, help="B3: tests in each generated suite (200)")
    size.add_argument("--guard-runs", type=int, help="B3: timed runs per variant (7)")
    size.add_argument("--import-tests", type=int, help="B4: trivial tests collected (500)")
    size.add_argument("--import-runs", type=int, help="B4: timed runs per variant (21)")
    size.add_argument("--process-warmup", type=int, help="B3, B4: untimed runs first (1)")
    return p


def resolve(args: argparse.Namespace) -> dict[str, Any]:
    """Every size: the flag if given, else the default (or the tiny default)."""
    sizes = {}
    for name, (default, tiny) in SIZES.items():
        value = getattr(args, name)
        sizes[name] = value if value is not None else (tiny if args.tiny else default)
    sizes["sizes"] = tuple(int(part) for part in str(sizes["sizes"]).split(",") if part.strip())
    if not sizes["sizes"] or min(sizes["sizes"]) < 1:
        raise SystemExit("--sizes: give positive node counts, e.g. 10,1000,10000,100000")
    return sizes


def child_sizes(args: argparse.Namespace) -> list[str]:
    """The size flags given, for a child run (``--tiny`` included)."""
    flags = ["--tiny"] if args.tiny else []
    for name in ("iterations", "warmup", "customers", "rules"):
        value = getattr(args, name)
        if value is not None:
            flags += [f"--{name}", str(value)]
    return flags


def run(
    selected: tuple[str, ...], sizes: dict[str, Any], args: argparse.Namespace | None = None
) -> dict[str, Any]:
    from bench import machine
    from bench.db import setup_django

    results: dict[str, Any] = {"machine": machine.machine(), "options": dict(sizes)}
    needs_db = {"b1", "b3"} & set(selected)
    if needs_db:
        setup_django()
        results["database"] = machine.database()
    if "b1" in selected:
        from bench.b1_assertion import B1Options, run_b1

        progress("B1: one assertion against the floor and the by-hand way")
        results["b1"] = run_b1(
            B1Options(
                iterations=sizes["iterations"],
                warmup=sizes["warmup"],
                customers=sizes["customers"],
                rules=sizes["rules"],
            )
        )
        results["b1"]["server"] = f"PG {results['database']['server_version'].split()[0]}"
        if args is not None and (args.b1_also or args.b1_psycopg2):
            from bench.b1_more import run_more, variants

            progress("B1 on the other servers and drivers asked for")
            runs = variants(args.b1_also, args.b1_psycopg2)
            results["b1"]["more"] = run_more(runs, child_sizes(args))
    if "b2" in selected:
        from bench.b2_plansize import B2Options, run_b2

        progress("B2: plan size")
        results["b2"] = run_b2(
            B2Options(
                sizes=sizes["sizes"],
                iterations=sizes["plan_rounds"],
                round_nodes=max(sizes["sizes"]),
            )
        )
    if "b3" in selected:
        from bench.b3_guard import B3Options, run_b3

        progress("B3: the guard on a generated suite")
        results["b3"] = run_b3(
            B3Options(
                tests=sizes["tests"], runs=sizes["guard_runs"], warmup=sizes["process_warmup"]
            )
        )
        if args is not None and args.suite is not None:
            from bench.b3_suite import run_suite

            progress(f"B3: the real suite in {args.suite}")
            results["b3"]["suite"] = run_suite(
                args.suite, args.suite_cmd, runs=sizes["guard_runs"], warmup=sizes["process_warmup"]
            )
    if "b4" in selected:
        from bench.b4_import import B4Options, run_b4

        progress("B4: import cost without Django")
        results["b4"] = run_b4(
            B4Options(
                tests=sizes["import_tests"],
                runs=sizes["import_runs"],
                warmup=sizes["process_warmup"],
            )
        )
    machine.finish(results["machine"])
    return results


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    from bench.db import sigterm_as_exit
    from bench.report import all_targets, markdown

    args = parser().parse_args(argv)
    selected = tuple(args.only or BENCHMARKS)
    sizes = resolve(args)
    if args.suite is not None and not args.suite.is_dir():
        raise SystemExit(f"--suite: {args.suite} is not a folder")
    with sigterm_as_exit():
        results = run(selected, sizes, args)
    results["tiny"] = args.tiny
    results["targets"] = all_targets(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"\nresults: {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
