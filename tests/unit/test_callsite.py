"""Call sites: the application frame that ran a query, test code, paths shown relative."""

from __future__ import annotations

import inspect
import os
import sysconfig

import pluggy
import pytest

from pytest_queryplan.core.report.callsite import (
    CallSite,
    Prefixes,
    app_frame,
    first_test_frame,
    frames_from,
    in_test_code,
    is_test_file,
    relative,
)

SITE = "/venv/lib/python3.11/site-packages"
ROOTS = [SITE, f"{SITE}/django", "/usr/lib/python3.11", "/repo/src/pytest_queryplan"]
# Innermost first, as a query inside Django sees its callers.
STACK = [
    ("/repo/src/pytest_queryplan/db/capture.py", 40, "Capture.__call__"),
    (f"{SITE}/django/db/backends/utils.py", 122, "CursorWrapper._execute_with_wrappers"),
    (f"{SITE}/django/db/models/query.py", 91, "ModelIterable.__iter__"),
    ("<frozen importlib._bootstrap>", 241, "_call_with_frames_removed"),
    ("/repo/shop/services.py", 17, "total_for"),
    ("/repo/shop/views.py", 30, "OrderView.get"),
    ("/repo/tests/test_views.py", 12, "test_total"),
    (f"{SITE}/_pytest/python.py", 159, "pytest_pyfunc_call"),
    ("/usr/lib/python3.11/runpy.py", 88, "_run_code"),
]


def test_the_app_frame_is_the_first_outside_the_skip_roots() -> None:
    expected = CallSite("/repo/shop/services.py", 17, "total_for")
    assert app_frame(STACK, skip_roots=ROOTS) == expected
    assert app_frame(iter(STACK), skip_roots=Prefixes(ROOTS)) == expected
    assert str(expected) == "/repo/shop/services.py:17 in total_for"


def test_no_app_frame_when_every_frame_is_a_library() -> None:
    assert app_frame(STACK[:4] + STACK[-2:], skip_roots=ROOTS) is None
    assert app_frame([], skip_roots=ROOTS) is None


def test_a_root_is_a_folder_not_a_name_prefix() -> None:
    frames = [("/x/djangox/app.py", 3, "f"), ("/x/django/db.py", 1, "g")]
    assert app_frame(frames[::-1], skip_roots=["/x/django"]) == CallSite(
        "/x/djangox/app.py", 3, "f"
    )
    assert app_frame(frames, skip_roots=["/x/django/"]) == CallSite("/x/djangox/app.py", 3, "f")


def test_the_test_frame() -> None:
    is_test = in_test_code(["test_*.py"], "/repo")
    assert first_test_frame(STACK, is_test) == CallSite(
        "/repo/tests/test_views.py", 12, "test_total"
    )
    assert first_test_frame(STACK[:6], is_test) is None


def here() -> tuple[list[tuple[str, int, str]], int]:
    frame = inspect.currentframe()
    assert frame is not None
    return list(frames_from(frame)), frame.f_lineno  # both read on this line


def test_frames_from_a_live_stack() -> None:
    frames, line = here()
    assert frames[0] == (__file__, line, "here")
    caller = frames[1]
    assert caller[0] == __file__ and caller[2] == "test_frames_from_a_live_stack"
    assert len(frames) > 10  # pytest's own frames follow, up to the interpreter's entry
    assert list(frames_from(None)) == []


def test_the_app_frame_of_a_live_stack_under_pytest() -> None:
    paths = sysconfig.get_paths()
    libraries = [
        os.path.dirname(pytest.__file__),
        os.path.dirname(inspect.getfile(pytest.Item)),  # _pytest
        os.path.dirname(pluggy.__file__),
        paths["stdlib"],
        paths["purelib"],
    ]

    def query() -> CallSite | None:  # what a capture wrapper would run
        return app_frame(frames_from(inspect.currentframe()), skip_roots=Prefixes(libraries))

    site = query()
    assert site is not None
    assert site.path == __file__
    assert site.function == "test_the_app_frame_of_a_live_stack_under_pytest.<locals>.query"
    here_dir = os.path.dirname(__file__)
    outer = app_frame(frames_from(inspect.currentframe()), skip_roots=[*libraries, here_dir])
    # Past this folder only pytest's entry point (a console script) or nothing remains.
    assert outer is None or not outer.path.startswith(here_dir)


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("/r/tests/test_views.py", ["test_*.py", "*_test.py"], True),
        ("/r/shop/views_test.py", ["test_*.py", "*_test.py"], True),
        ("/r/shop/views.py", ["test_*.py", "*_test.py"], False),
        ("/r/shop/testing.py", ["test_*.py"], False),
        ("/r/tests/conftest.py", ["test_*.py"], True),
        ("/r/conftest.py", [], True),
        ("/r/tests/helpers.py", ["tests/*.py"], True),
        ("/elsewhere/tests/helpers.py", ["tests/*.py"], True),
        ("/r/shop/tests.py", ["tests/*.py"], False),
        ("/r/shop/check_x.py", ["check_*.py"], True),
        ("/r/shop/check_x.py", ["/r/shop/*.py"], True),
        ("/r/other/check_x.py", ["/r/shop/*.py"], False),
        ("tests/test_rel.py", ["tests/test_*.py"], True),
    ],
)
def test_is_test_file_reads_python_files_like_pytest(
    path: str, patterns: list[str], expected: bool
) -> None:
    assert is_test_file(path, patterns, "/r") is expected
    assert in_test_code(patterns, "/r")(path) is expected


def test_the_remembering_matcher_gives_the_same_answers_twice() -> None:
    is_test = in_test_code(["test_*.py"], "/r")
    assert [is_test(p) for p in ("/r/test_a.py", "/r/a.py") * 2] == [True, False, True, False]


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("/work/main/shop/views.py", "/work/main", "shop/views.py"),
        ("/work/main/shop/views.py", "/work/main/", "shop/views.py"),
        ("/work/main/./shop/../shop/views.py", "/work/main", "shop/views.py"),
        ("/work/main2/shop/views.py", "/work/main", "/work/main2/shop/views.py"),
        ("/usr/lib/x.py", "/work/main", "/usr/lib/x.py"),
    ],
)
def test_relative(path: str, root: str, expected: str) -> None:
    assert relative(path, root) == expected


def test_a_call_site_round_trips_and_becomes_relative() -> None:
    site = CallSite("/work/main/shop/views.py", 30, "OrderView.get")
    assert CallSite.from_dict(site.to_dict()) == site
    assert site.relative_to("/work/main") == CallSite("shop/views.py", 30, "OrderView.get")
