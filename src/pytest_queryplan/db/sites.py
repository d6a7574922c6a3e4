"""Where a captured statement came from: the application line, and the test's line.

The stack is walked when the statement runs, once per statement and only up to the
test's frame (no source read), skipping Django, this plugin, pytest and pluggy, installed
packages and the standard library; what is left is the project's own code.
"""

from __future__ import annotations

import itertools
import os
import sys
import sysconfig
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, NamedTuple

from pytest_queryplan.core.report.callsite import CallSite, Prefixes

Sites = tuple[CallSite | None, CallSite | None]
#: The compiler's methods that run a statement (its ``self.query`` is what runs).
_COMPILING = frozenset({"execute_sql", "has_results"})


def _leaves(where: Any, negated: bool = False) -> list[tuple[bool, Any]]:
    """A WHERE tree's conditions, each with whether a NOT is above it."""
    negated = negated != bool(getattr(where, "negated", False))
    children = getattr(where, "children", None)
    if children is None or not hasattr(where, "connector"):
        return [(negated, where)]
    return [leaf for child in children for leaf in _leaves(child, negated)]


def _conditions_given(query: Any, test: FrameType, call: FrameType) -> bool:
    from django.db.models.query import QuerySet

    ran = _leaves(query.where)
    if not ran:
        return False
    code = call.f_code
    count = code.co_argcount + code.co_kwonlyargcount
    arguments = [call.f_locals.get(name) for name in code.co_varnames[:count]]
    held = [v for v in [*test.f_locals.values(), *arguments] if isinstance(v, QuerySet)]
    given = [leaf for qs in held for leaf in _leaves(qs.query.where)]
    return all(leaf in given for leaf in ran)


def library_roots() -> list[str]:
    """Folders whose frames are never the application's."""
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    for name in ("django", "pytest_queryplan", "_pytest", "pytest", "pluggy", "asgiref"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            roots.add(os.path.dirname(module.__file__))
    return sorted(roots)


class Origin(NamedTuple):
    """Where one statement came from, read in one walk up the stack."""

    site: CallSite | None
    test_site: CallSite | None
    call: int
    by_test: bool


class SiteFinder:
    """Finds the (application, test) lines of the statement being run, once per process.

    ``is_test`` tells test code from application code (pytest's ``python_files``); without
    it no test line is looked for.
    """

    def __init__(self, is_test: Callable[[str], bool] | None = None) -> None:
        self.is_test = is_test
        self.skip: Prefixes | None = None  # made on first use: Django may not be loaded yet
        self.numbers = itertools.count(1)
        self.local = threading.local()  # per thread: the last call the test made, its number

    def origin(self, frame: FrameType | None, *, built: bool = True) -> Origin:
        """The statement's application line, its test line (None when it is the same
        line), which call by the test runs it (:meth:`call`) and, with ``built``, whether
        the test built it (:meth:`built_by_test`): one walk from ``frame`` up to the test's
        frame (or the first application frame, without ``is_test``), never the whole stack.

        Each answer is the one the separate methods give; this is the capture's path, run
        for every statement."""
        if self.skip is None:
            self.skip = Prefixes(library_roots())
        skip, is_test = self.skip, self.is_test
        site: CallSite | None = None
        test: FrameType | None = None
        callee: FrameType | None = None
        compiling: list[FrameType] = []
        current, previous = frame, None
        while current is not None:
            code = current.f_code
            path = code.co_filename
            if site is None and not (path.startswith(skip) or path.startswith("<")):
                site = CallSite(path, current.f_lineno or 0, code.co_qualname)
            if is_test is None:
                if site is not None:
                    break
            elif is_test(path):
                test, callee = current, previous
                if site is not None:
                    break
                # The test's own file is under a skip root: the application line is further out.
                while current is not None and site is None:
                    current = current.f_back
                    if current is not None:
                        site = self._site_of(current)
                break
            elif code.co_name in _COMPILING:
                compiling.append(current)
            previous, current = current, current.f_back
        if test is None:
            return Origin(site, None, 0, False)
        code = test.f_code
        test_site = CallSite(code.co_filename, test.f_lineno or 0, code.co_qualname)
        if test_site == site:
            return Origin(site, None, self._number(callee), False)
        by_test = built and self._given(compiling, test, callee)
        return Origin(site, test_site, self._number(callee), by_test)

    def _site_of(self, frame: FrameType) -> CallSite | None:
        code = frame.f_code
        path = code.co_filename
        assert self.skip is not None
        if path.startswith(self.skip) or path.startswith("<"):
            return None
        return CallSite(path, frame.f_lineno or 0, code.co_qualname)

    def __call__(self, frame: FrameType | None = None) -> Sites:
        found = self.origin(frame if frame is not None else sys._getframe(1), built=False)
        return found.site, found.test_site

    def call(self, frame: FrameType | None) -> int:
        """Which call by the test ``frame`` runs in: the frame the test's own frame called
        (the entry into the code under test), numbered. The same number for every
        statement of one call, a new one for the next call, even from the same line of a
        loop; 0 with no test frame. The last entry frame is held (by this thread) until
        :meth:`forget`, so its identity cannot pass to the next call's frame."""
        return self.origin(frame, built=False).call

    def _number(self, callee: FrameType | None) -> int:
        if callee is None:
            return 0
        local = self.local
        if getattr(local, "entry", None) is not callee:
            local.entry, local.number = callee, next(self.numbers)
        return int(local.number)

    def built_by_test(self, frame: FrameType | None) -> bool:
        """Whether the statement being run is a QuerySet the test built and handed to the
        code under test: every condition of the Query being compiled is one of a QuerySet
        the test holds (a local of its frame, or an argument of the call it made). Read
        from the frames, not recorded at creation: Django has no public hook there, and
        patching ``QuerySet`` is what this project does not do. Costs a look at three
        frames' locals (the compiler's, the test's, the call's), only for a statement run
        from application code inside a test."""
        if self.is_test is None:
            return False
        compiling, callee, current = [], None, frame
        while current is not None and not self.is_test(current.f_code.co_filename):
            if current.f_code.co_name in _COMPILING:
                compiling.append(current)
            callee, current = current, current.f_back
        if current is None:
            return False
        return self._given(compiling, current, callee)

    @staticmethod
    def _given(compiling: list[FrameType], test: FrameType, callee: FrameType | None) -> bool:
        if callee is None:
            return False
        # The innermost compiler frame that holds a Query is the statement being run.
        query = None
        for frame in compiling:
            query = getattr(frame.f_locals.get("self"), "query", None)
            if query is not None:
                break
        if query is None:
            return False
        try:
            return _conditions_given(query, test, callee)
        except Exception:  # noqa: BLE001 - a condition that cannot be compared: not known
            return False

    def forget(self) -> None:
        """Let go of the last entry frame (and everything it holds)."""
        self.local.entry = None
