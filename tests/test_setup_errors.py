"""Setup mistakes are one line before any test runs, never a traceback at the end of the
run; an output that still fails to write is one line, and the other outputs (the failures
found first of all) are written all the same.
"""

from __future__ import annotations

import json

import pytest

ONE_TEST = """
import pytest

def test_nothing():
    pass
"""


def _usage_error(result: pytest.RunResult) -> str:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "test_nothing" not in result.stdout.str()  # no test ran
    return errors[0]


def test_a_missing_baseline_is_one_line_before_any_test(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(test_one=ONE_TEST)
    result = django_pytester.runpytest_subprocess("--queryplan-baseline=nope.json", "-v")
    path = django_pytester.path / "nope.json"
    assert _usage_error(result) == (
        f"ERROR: queryplan baseline {path} does not exist; write it with "
        "--queryplan-baseline-update"
    )


def test_a_missing_baseline_is_fine_when_the_run_writes_it(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(test_one=ONE_TEST)
    result = django_pytester.runpytest_subprocess(
        "--queryplan-baseline=new.json", "--queryplan-baseline-update"
    )
    result.assert_outcomes(passed=1)
    assert json.loads((django_pytester.path / "new.json").read_text())["entries"] == []


def test_a_malformed_baseline_names_its_line(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(test_one=ONE_TEST)
    (django_pytester.path / "bad.json").write_text(
        '{\n  "queryplan_baseline": 1,\n  "entries": [\n    {"test": "t.py::test_a"}\n  ]\n}\n'
    )
    result = django_pytester.runpytest_subprocess("--queryplan-baseline=bad.json")
    path = django_pytester.path / "bad.json"
    assert _usage_error(result) == (
        f"ERROR: queryplan baseline {path}, line 4: entry 1 must have exactly the keys test, "
        "kind, table, sql. Fix it by hand, or rewrite the file from the current findings with "
        "--queryplan-baseline-update"
    )


def test_a_malformed_baseline_is_rewritten_by_an_update(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(test_one=ONE_TEST)
    (django_pytester.path / "bad.json").write_text("{ not json\n")
    result = django_pytester.runpytest_subprocess(
        "--queryplan-baseline=bad.json", "--queryplan-baseline-update"
    )
    result.assert_outcomes(passed=1)
    assert json.loads((django_pytester.path / "bad.json").read_text())["entries"] == []


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param(
            ["--queryplan-report=out"],
            "--queryplan-report: cannot write {root}/out: it is a folder.",
            id="report-is-a-folder",
        ),
        pytest.param(
            ["--queryplan-sarif=afile/out.sarif"],
            "--queryplan-sarif: cannot write {root}/afile/out.sarif: {root}/afile is a file, "
            "not a folder.",
            id="sarif-under-a-file",
        ),
        pytest.param(
            ["--queryplan-html=out"],
            "--queryplan-html: cannot write {root}/out: it is a folder.",
            id="html-is-a-folder",
        ),
        pytest.param(
            ["--queryplan-snapshot-update", "-o", "queryplan_snapshot_dir=afile"],
            "ini queryplan_snapshot_dir: cannot write {root}/afile: it is a file, not a folder.",
            id="snapshot-dir-is-a-file",
        ),
        pytest.param(
            ["--queryplan-baseline=out", "--queryplan-baseline-update"],
            "queryplan baseline {root}/out cannot be read: Is a directory",
            id="baseline-is-a-folder",
        ),
    ],
)
def test_an_unwritable_output_is_one_line_before_any_test(
    django_pytester: pytest.Pytester, flags: list[str], expected: str
) -> None:
    django_pytester.makepyfile(test_one=ONE_TEST)
    (django_pytester.path / "out").mkdir()
    (django_pytester.path / "afile").write_text("")
    result = django_pytester.runpytest_subprocess(*flags)
    assert _usage_error(result) == "ERROR: " + expected.format(root=django_pytester.path)


# The test itself puts a folder where the JSON report goes, after the setup checks passed.
FAILS_THEN_BLOCKS_THE_REPORT = """
import pytest
from upstream.models import Customer


@pytest.mark.django_db
@pytest.mark.queryplan(uses_index="customer_slug_nonexistent_idx")
def test_fails(tmp_path_factory):
    import os
    os.mkdir("report.json")
    list(Customer.objects.filter(name="x"))
"""


def test_an_output_that_fails_at_the_end_is_one_line_and_the_rest_is_written(
    django_pytester: pytest.Pytester,
) -> None:
    django_pytester.makepyfile(test_blocked=FAILS_THEN_BLOCKS_THE_REPORT)
    result = django_pytester.runpytest_subprocess(
        "--queryplan-report=report.json", "--queryplan-sarif=out.sarif"
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output
    result.stdout.fnmatch_lines(
        [
            "*= queryplan =*",
            "failed by a plan check: 1 test",
            "  test_blocked.py::test_fails",
            f"queryplan: could not write --queryplan-report: Is a directory: "
            f"{django_pytester.path / 'report.json'}",
        ]
    )
    sarif = json.loads((django_pytester.path / "out.sarif").read_text())
    assert sarif["runs"][0]["results"]
