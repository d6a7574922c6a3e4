"""B3's real-suite row: a checked-out Django project's own tests, timed whole.

The suite is the user's (``--suite``, never downloaded): its folder, and the command that
runs it there (``--suite-cmd``). Three variants, alternating: without the plugin
(``-p no:queryplan``), with it as installed (guard off), and with
``--queryplan-guard=warn``. A suite's own failures do not stop the bench (a real suite may
have some on this machine); each variant's last exit code is reported, and variants
that ended differently are flagged. An exit code other than 0 or 1 (a usage error, no
tests collected) stops the bench: it would time the wrong thing.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.childenv import child_env
from bench.timing import alternate_commands, ratio

TARGET = 1.10
VARIANTS = {
    "no_plugin": ["-p", "no:queryplan"],
    "plugin": [],
    "guard_warn": ["--queryplan-guard=warn"],
}


def command(text: str) -> list[str]:
    argv = shlex.split(text)
    if argv and argv[0] == "python":
        argv[0] = sys.executable
    return argv


def run_suite(root: Path, text: str, *, runs: int, warmup: int) -> dict[str, Any]:
    base = command(text)
    commands = {name: [*base, *extra] for name, extra in VARIANTS.items()}
    with tempfile.TemporaryDirectory(prefix="bench_suite_") as tmp:
        env = child_env(Path(tmp) / "pycache", django=True)
        env.pop("PYTHONPYCACHEPREFIX")  # the suite's own bytecode, as its runs would use
        stats, last = alternate_commands(
            commands, runs=runs, warmup=warmup, cwd=str(root.resolve()), env=env, label="suite"
        )
    codes = {name: done.returncode for name, done in last.items()}
    for name, done in last.items():
        if done.returncode not in (0, 1):  # 1: some tests failed; anything else: no run
            raise RuntimeError(
                f"suite {name}: `{shlex.join(commands[name])}` exited {done.returncode}:\n"
                f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
    guard = ratio(stats["guard_warn"], stats["no_plugin"])
    return {
        "path": os.fspath(root),
        "command": text,
        "runs": runs,
        "stats": {name: item.as_dict() for name, item in stats.items()},
        "exit_codes": codes,
        "same_outcome": len(set(codes.values())) == 1,
        "ratios": {
            "plugin/no_plugin": ratio(stats["plugin"], stats["no_plugin"]),
            "guard_warn/no_plugin": guard,
        },
        "targets": {f"real suite: guard warn <= {TARGET}x no plugin": guard <= TARGET},
    }
