"""Where the numbers were measured: machine, load, versions, and the database server."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("pytest", "Django", "psycopg", "pytest-django", "pytest-queryplan")


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        return None
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    memory = _proc_field("/proc/meminfo", "MemTotal")
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "memory_gib": round(int(memory.split()[0]) / 1024**2, 1) if memory else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "load_average_at_start": _load(),
    }


def _load() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def database() -> dict[str, Any]:
    """The server the bench (and the test suite) uses; never the URL's credentials."""
    from bench.db import server_settings, server_version

    entry = server_settings()
    return {
        "source": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded",
        "server_version": server_version(entry),
    }


def finish(info: dict[str, Any]) -> None:
    info["load_average_at_end"] = _load()
