"""Where a captured statement came from: the application line, and the test's line.

The stack is walked when the statement runs (``core.callsite``: a few microseconds, no
source read), skipping Django, this plugin, pytest and pluggy, installed packages and the
standard library; what is left is the project's own code.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from types import FrameType

from pytest_queryplan.core.report.callsite import (
    CallSite,
    Prefixes,
    app_frame,
    first_test_frame,
    frames_from,
)

Sites = tuple[CallSite | None, CallSite | None]


def library_roots() -> list[str]:
    """Folders whose frames are never the application's."""
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    for name in ("django", "pytest_queryplan", "_pytest", "pytest", "pluggy", "asgiref"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            roots.add(os.path.dirname(module.__file__))
    return sorted(roots)


class SiteFinder:
    """Finds the (application, test) lines of the statement being run, once per process.

    ``is_test`` tells test code from application code (pytest's ``python_files``); without
    it no test line is looked for.
    """

    def __init__(self, is_test: Callable[[str], bool] | None = None) -> None:
        self.is_test = is_test
        self.skip: Prefixes | None = None  # made on first use: Django may not be loaded yet

    def __call__(self, frame: FrameType | None = None) -> Sites:
        if self.skip is None:
            self.skip = Prefixes(library_roots())
        frames = list(frames_from(frame if frame is not None else sys._getframe(1)))
        site = app_frame(frames, skip_roots=self.skip)
        test = first_test_frame(frames, self.is_test) if self.is_test is not None else None
        return site, (test if test != site else None)
