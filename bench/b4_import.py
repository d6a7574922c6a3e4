"""B4: what having the plugin installed costs a project that does not use Django.

``pytest --collect-only -q`` over a generated project of trivial tests, with the plugin
as installed versus ``-p no:queryplan``, everything else equal (pytest-django and
pytest-xdist stay loaded in both). Whole processes, alternating, median wall time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.childenv import child_env
from bench.timing import alternate_commands, ratio

TARGET = 1.05
PER_FILE = 10


@dataclass(frozen=True)
class B4Options:
    tests: int
    runs: int
    warmup: int = 2


def write_project(root: Path, tests: int) -> None:
    """``tests`` trivial test functions, ``PER_FILE`` to a module, and a bare pytest.ini."""
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    package = root / "tests"
    package.mkdir()
    for start in range(0, tests, PER_FILE):
        body = "".join(
            f"def test_{n}():\n    assert {n} == {n}\n\n\n"
            for n in range(start, min(start + PER_FILE, tests))
        )
        (package / f"test_module_{start // PER_FILE:04d}.py").write_text(body)


def run_b4(options: B4Options) -> dict[str, Any]:
    base = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    commands = {"plugin": base, "no_plugin": [*base, "-p", "no:queryplan"]}
    expected = f"{options.tests} tests collected"

    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        root = Path(tmp)
        write_project(root / "project", options.tests)
        env = child_env(root / "pycache", django=False)
        loaded = plugin_loaded(root / "project", env)
        stats, _ = alternate_commands(
            commands,
            runs=options.runs,
            warmup=options.warmup,
            cwd=str(root / "project"),
            env=env,
            expect=expected,
            label="B4",
        )
    value = ratio(stats["plugin"], stats["no_plugin"])
    return {
        "tests": options.tests,
        "runs": options.runs,
        "plugin_loaded": loaded,
        "stats": {name: item.as_dict() for name, item in stats.items()},
        "ratios": {"plugin/no_plugin": value},
        "targets": {f"plugin <= {TARGET}x -p no:queryplan": value <= TARGET},
    }


def plugin_loaded(root: Path, env: dict[str, str]) -> dict[str, bool]:
    """Prove the comparison compares something: the flag exists only with the plugin."""
    seen = {}
    for name, extra in (("plugin", []), ("no_plugin", ["-p", "no:queryplan"])):
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider", *extra],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seen[name] = "--queryplan-mode" in completed.stdout
    if not seen["plugin"] or seen["no_plugin"]:
        raise RuntimeError(f"B4: the plugin is not switched as expected: {seen}")
    return seen
