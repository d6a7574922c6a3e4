"""Call sites: which line of the application ran a query, and whether that line is test code.

A query is run deep inside Django; the line worth showing is the first frame, innermost
first, outside the libraries (Django, this plugin, pytest and pluggy, installed packages,
the standard library): the *skip roots*, which the caller passes. Frames come as plain
``(path, line, function)`` tuples, so the choice is tested without a live stack;
:func:`frames_from` makes them from a frame object by following ``f_back``, lazily,
because ``inspect.stack()`` reads source lines for every frame and costs far more. Pure:
stdlib only.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

Frame = tuple[str, int, str]


@dataclass(frozen=True, order=True)
class CallSite:
    """A line of code: ``path`` (relative to the rootdir when under it), ``line``, ``function``."""

    path: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "function": self.function}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallSite:
        return cls(str(data["path"]), int(data["line"]), str(data["function"]))

    def relative_to(self, rootdir: str) -> CallSite:
        return CallSite(relative(self.path, rootdir), self.line, self.function)


def frames_from(frame: FrameType | None) -> Iterator[Frame]:
    """``(path, line, function)`` of ``frame`` and its callers, innermost first, lazily.

    ``function`` is the qualified name (``Class.method``). Nothing is read from disk.
    """
    while frame is not None:
        code = frame.f_code
        yield code.co_filename, frame.f_lineno or 0, code.co_qualname
        frame = frame.f_back


def _prefixes(roots: Iterable[str]) -> tuple[str, ...]:
    """Each root as a prefix ending in a separator, so ``/x/django`` skips no ``/x/djangox``."""
    return tuple(
        os.path.join(os.path.normpath(os.path.abspath(root)), "") for root in roots if root
    )


class Prefixes(tuple[str, ...]):
    """Skip roots normalized once (for :func:`app_frame` on every query)."""

    __slots__ = ()

    def __new__(cls, roots: Iterable[str]) -> Prefixes:
        return super().__new__(cls, _prefixes(roots))


def app_frame(frames: Iterable[Frame], *, skip_roots: Sequence[str]) -> CallSite | None:
    """The first frame (innermost first) in no skip root and in a real file, or None.

    Paths are compared as given, without resolving symlinks, so pass roots spelled the way
    modules were imported (``os.path.dirname(django.__file__)``). ``<frozen ...>``,
    ``<string>`` and other pseudo-files never count as the application. Pass
    :class:`Prefixes` built once rather than plain roots on every query.
    """
    skip = skip_roots if isinstance(skip_roots, Prefixes) else _prefixes(skip_roots)
    for path, line, function in frames:
        if path.startswith(skip) or path.startswith("<"):
            continue
        return CallSite(path, line, function)
    return None


def first_test_frame(frames: Iterable[Frame], is_test: Callable[[str], bool]) -> CallSite | None:
    """The first frame (innermost first) whose file is test code, or None."""
    for path, line, function in frames:
        if is_test(path):
            return CallSite(path, line, function)
    return None


def relative(path: str, rootdir: str) -> str:
    """``path`` relative to ``rootdir`` with ``/`` separators when it is under it, else as is."""
    root = os.path.join(os.path.normpath(rootdir), "")
    normal = os.path.normpath(path)
    if normal.startswith(root):
        return normal[len(root) :].replace(os.sep, "/")
    return path


def is_test_file(path: str, python_files_patterns: Sequence[str], rootdir: str) -> bool:
    """Whether pytest would collect ``path`` as a test module, or it is a ``conftest.py``.

    Read the way pytest reads ``python_files``: a glob without a ``/`` matches the file
    name (``test_*.py``); a relative one with a ``/`` matches the end of the path
    (``tests/*.py`` matches ``/any/where/tests/x.py``); an absolute one, the whole path. A
    relative ``path`` is taken from ``rootdir``. (Files named on pytest's command line are
    collected whatever their name; this cannot know them.)
    """
    name = os.path.basename(path)
    if name == "conftest.py":
        return True
    full = os.path.join(rootdir, path)
    for pattern in python_files_patterns:
        if "/" not in pattern:
            if fnmatch.fnmatch(name, pattern):
                return True
        elif fnmatch.fnmatch(full, pattern if os.path.isabs(pattern) else "*/" + pattern):
            return True
    return False


def in_test_code(python_files_patterns: Sequence[str], rootdir: str) -> Callable[[str], bool]:
    """:func:`is_test_file` for these patterns, remembering each path's answer.

    A suite has few files and many queries: after the first query from a file, the
    answer is one dictionary lookup.
    """
    patterns = tuple(python_files_patterns)
    known: dict[str, bool] = {}

    def is_test(path: str) -> bool:
        answer = known.get(path)
        if answer is None:
            answer = known[path] = is_test_file(path, patterns, rootdir)
        return answer

    return is_test
