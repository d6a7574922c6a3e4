"""One answer however the suite is run: serially, under ``-n 2``, or as shards merged with
``python -m pytest_queryplan merge``; index hygiene judged over the merged usage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_queryplan.__main__ import main
from pytest_queryplan.core.report.record import Finding, TestRecord
from pytest_queryplan.core.report.session import SessionReport

SUITE = """
import pytest
from upstream.alerts.models import AlertRule
from upstream.models import Customer, UserProfile

pytestmark = pytest.mark.django_db


def test_owner_count(assert_uses_index):
    with assert_uses_index("userprofile_customer_role_idx"):
        assert UserProfile.objects.filter(customer_id=1, role="owner").count() == 0


def test_enabled_rules():
    list(AlertRule.objects.filter(customer_id=1, enabled=True).order_by("-routing_priority")[:10])


def test_disabled_rules():
    assert not AlertRule.objects.filter(customer_id=1, enabled=False).exists()


def test_customer_by_name():
    assert not Customer.objects.filter(name="Acme").exists()
"""
FLAGS = ["--queryplan-guard=warn", "--queryplan-guard-scope=all", "--queryplan-index-report"]


def without_explain_count(report: dict[str, Any]) -> dict[str, Any]:
    """Each process has its own plan cache: only the EXPLAIN count may differ. A finding's
    drawn plan (``detail``) holds the planner's estimates, which statistics another test
    changed in between may move: the findings are compared without it."""
    findings = [{k: v for k, v in f.items() if k != "detail"} for f in report["findings"]]
    return {**report, "plans": {**report["plans"], "explains_run": None}, "findings": findings}


def run(pytester: pytest.Pytester, name: str, *args: str) -> dict[str, Any]:
    result = pytester.runpytest_subprocess(*FLAGS, f"--queryplan-report={name}", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return json.loads((pytester.path / name).read_text())


def test_serial_xdist_and_merged_shards_agree(django_pytester: pytest.Pytester) -> None:
    django_pytester.makepyfile(test_suite=SUITE)
    serial = run(django_pytester, "serial.json")
    xdist = run(django_pytester, "xdist.json", "-n", "2")
    run(django_pytester, "shard1.json", "-k", "owner or enabled_rules")
    shard2 = run(django_pytester, "shard2.json", "-k", "not owner and not enabled_rules")
    merged = subprocess.run(
        [sys.executable, "-m", "pytest_queryplan", "merge", "shard1.json", "shard2.json"]
        + ["-o", "merged.json"],
        cwd=django_pytester.path,
        capture_output=True,
        text=True,
    )
    assert merged.returncode == 0, merged.stderr  # warnings only
    combined = json.loads((django_pytester.path / "merged.json").read_text())

    assert without_explain_count(xdist) == without_explain_count(serial)
    assert without_explain_count(combined) == without_explain_count(serial)
    assert serial["checks"] == {"run": 5, "passed": 4, "failed": 0, "warned": 1}
    assert serial["indexes_proven"] == ["userprofile_customer_role_idx"]
    assert [(f["tests"], f["table"]) for f in serial["findings"]] == [
        (["test_suite.py::test_customer_by_name"], "upstream_customer")
    ]
    # The application line is the test's own here (scope all is not needed: it is a
    # test module, so scope app would leave it out; this suite runs FLAGS with scope all).
    assert serial["findings"][0]["sites"][0]["path"] == "test_suite.py"
    redundant = {i["name"]: i["covered_by"] for i in serial["index_report"]["redundant"]}
    (fk_index,) = [name for name in redundant if name.startswith("upstream_userprofile_cust")]
    assert redundant[fk_index] == ["userprofile_customer_role_idx"]
    # Both shards read upstream_alertrule, only the first through the partial index: the
    # second alone calls it unused; merged, the first shard's usage counts too.
    shard2_unused = {i["name"] for i in shard2["index_report"]["unused"]}
    assert "alertrule_eval_priority_idx" in shard2_unused
    assert "alertrule_eval_priority_idx" not in {
        i["name"] for i in combined["index_report"]["unused"]
    }
    assert merged.stdout.splitlines()[0] == "queryplan: 2 reports merged"
    assert "guard: warn (mode forced, scope all), 1 finding in 1 test" in merged.stdout
    assert f"  redundant: {fk_index} (customer_id) on upstream_userprofile" in merged.stdout


def shard_file(tmp_path: Path, name: str, level: str | None) -> Path:
    report = SessionReport(guard=level or "off")
    record = TestRecord(queries=1, explained=1)
    if level:
        record.check("failed" if level == "fail" else "warned")
        record.findings.append(
            Finding("filtered-full-read", "t", "SELECT ? FROM t", "(x = ?)", level)
        )
    else:
        record.check("passed")
    report.add(f"{name}.py::test_x", record)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(report.to_json()))
    return path


def test_merge_exits_1_when_any_shard_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, warned = shard_file(tmp_path, "clean", None), shard_file(tmp_path, "warned", "warn")
    assert main(["merge", str(clean), str(warned)]) == 0
    failed = shard_file(tmp_path, "failed", "fail")
    assert main(["merge", str(clean), str(failed), "-o", str(tmp_path / "out/m.json")]) == 1
    out = capsys.readouterr().out
    assert "  FAIL filtered-full-read t: (x = ?)  [1 test: failed.py::test_x]" in out
    assert "checks: 2 run, 1 passed, 1 failed" in out
    assert json.loads((tmp_path / "out/m.json").read_text())["guard"] == "fail,off"


def test_merge_refuses_what_is_not_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junit.json"
    junk.write_text('{"tests": 3}')
    assert main(["merge", str(junk)]) == 2
    assert f"error: cannot read {junk} as a queryplan report" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "missing.json")]) == 2
