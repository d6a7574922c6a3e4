"""GitHub Actions annotations: one workflow command line per finding, at its call site.

A line such as ``::error file=app/views.py,line=42,title=Filtered full read::...`` printed
to standard output inside a GitHub Actions job becomes an annotation on that line of the
pull request. GitHub's runner splits a command at ``::``, ``,`` and newlines, so values are
escaped as its toolkit documents: in the message ``%``, CR and LF; in a property those
and also ``:`` and ``,``. Pure: stdlib only; the caller prints the lines when
``GITHUB_ACTIONS=true``.
"""

from __future__ import annotations

#: Our finding levels and the command each one is.
COMMANDS = {"fail": "error", "error": "error", "warn": "warning", "warning": "warning"}


def escape_data(text: str) -> str:
    """A command's message: ``%`` first, so the escapes themselves are not re-read."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (``file=``, ``title=``): the message escapes, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """The workflow command for one finding: ``::error`` at ``fail``, ``::warning`` at ``warn``.

    ``file`` is relative to the repository root (the job's ``GITHUB_WORKSPACE``), which
    is where GitHub looks for it; properties without a value are left out, and
    ``line`` only counts with a ``file``.
    """
    command = COMMANDS.get(level, "notice")
    properties = []
    if file:
        properties.append(f"file={escape_property(file)}")
        if line and line > 0:
            properties.append(f"line={line}")
    if title:
        properties.append(f"title={escape_property(title)}")
    head = f"::{command}"
    if properties:
        head += " " + ",".join(properties)
    return f"{head}::{escape_data(message)}"
