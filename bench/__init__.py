"""Benchmarks for pytest-queryplan: what plan assertions cost next to the floor.

``python -m bench --help`` lists the flags. Every comparison is timed in the same run,
alternating the contenders, and summarised by medians; the results go to a table on
stdout and to ``bench/results.json``. Nothing here is a test: CI runs ``--tiny`` only to
keep the benchmarks working, and asserts no timing.
"""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_RESULTS = BENCH_DIR / "results.json"
