"""The report's pure core: test records in transit, their session total, JSON, merging and
the summary lines. No pytest run, no database."""

from __future__ import annotations

import json

from pytest_queryplan.core.report.record import PROPERTY, Finding, TestRecord, records_in
from pytest_queryplan.core.report.session import SessionReport, merge
from pytest_queryplan.core.report.summary import summary_lines

FK = {
    "name": "upstream_userprofile_customer_id_bb264335",
    "table": "upstream_userprofile",
    "definition": "CREATE INDEX upstream_userprofile_customer_id_bb264335 "
    "ON public.upstream_userprofile USING btree (customer_id)",
}
COMPOSITE = {
    "name": "userprofile_customer_role_idx",
    "table": "upstream_userprofile",
    "definition": "CREATE INDEX userprofile_customer_role_idx "
    "ON public.upstream_userprofile USING btree (customer_id, role)",
}


SITE = {"path": "app/views.py", "line": 12, "function": "customers"}


def guarded(level: str = "fail", site: dict | None = SITE) -> TestRecord:
    record = TestRecord(queries=3, explained=2)
    record.check("failed" if level == "fail" else "warned")
    record.findings.append(
        Finding(
            "filtered-full-read",
            "upstream_customer",
            'SELECT ? FROM "upstream_customer" WHERE "name" = ?',
            "((name)::text = ?::text)",
            level,
            site,
        )
    )
    return record


def proving(*, used: set[str], indexes: list[dict[str, str]]) -> TestRecord:
    record = TestRecord(queries=1, explained=1)
    record.check("passed")
    record.proven.add("userprofile_customer_role_idx")
    record.read({"upstream_userprofile"}, used)
    record.indexes = indexes
    return record


def test_a_record_travels_as_json_in_user_properties() -> None:
    record = proving(used={"userprofile_customer_role_idx"}, indexes=[FK])
    record.snapshot = {"status": "changed"}
    properties = [("other", "x"), [PROPERTY, record.encode()]]  # xdist may turn tuples to lists
    assert records_in(properties) == [record]
    assert json.loads(record.encode())["proven"] == ["userprofile_customer_role_idx"]


def test_an_empty_record_is_not_sent() -> None:
    assert not TestRecord()
    assert TestRecord(queries=1)


def test_the_session_adds_records_up_and_round_trips_json() -> None:
    report = SessionReport(guard="fail", index_report=True)
    report.add("t.py::test_b", guarded())
    report.add("t.py::test_a", proving(used=set(), indexes=[FK, COMPOSITE]))
    data = report.to_json()
    assert data["checks"] == {"run": 2, "passed": 1, "failed": 1, "warned": 0}
    assert data["failed_tests"] == ["t.py::test_b"]
    (finding,) = data["findings"]
    assert finding["tests"] == ["t.py::test_b"] and finding["sites"] == [SITE]
    assert data["plans"] == {
        "queries_seen": 4,
        "explains_run": 3,
        "unexplained": 0,
        "left_out": 0,
    }
    unused = [i["name"] for i in data["index_report"]["unused"]]
    assert unused == [FK["name"], COMPOSITE["name"]]
    assert data["index_report"]["redundant"][0]["covered_by"] == [COMPOSITE["name"]]
    assert SessionReport.from_json(json.loads(json.dumps(data))).to_json() == data
    assert report.failed


def test_warnings_do_not_fail_the_report() -> None:
    report = SessionReport(guard="warn")
    report.add("t.py::test_b", guarded("warn"))
    assert not report.failed
    assert report.checks["warned"] == 1


def test_merging_shards_judges_hygiene_over_the_merged_usage() -> None:
    one, two = SessionReport(index_report=True), SessionReport(index_report=True)
    one.add("t.py::test_a", proving(used=set(), indexes=[FK, COMPOSITE]))
    two.add("t.py::test_b", proving(used={COMPOSITE["name"]}, indexes=[COMPOSITE]))
    assert [i["name"] for i in one.to_json()["index_report"]["unused"]] == [
        FK["name"],
        COMPOSITE["name"],
    ]
    merged = merge([one, two]).to_json()
    assert [i["name"] for i in merged["index_report"]["unused"]] == [FK["name"]]
    assert merged["tests"] == 2 and merged["checks"]["passed"] == 2


def test_merge_keeps_every_mode_and_the_failures() -> None:
    fail, warn = SessionReport(guard="fail"), SessionReport(guard="warn")
    fail.add("a.py::test_x", guarded("fail"))
    merged = merge([fail, warn])
    assert merged.guard == "fail,warn"
    assert merged.failed and merged.failed_tests == {"a.py::test_x"}


def test_nothing_done_prints_nothing() -> None:
    assert summary_lines(SessionReport(guard="fail", index_report=True, snapshots=True)) == []


def test_summary_lines() -> None:
    report = SessionReport(guard="fail", index_report=True)
    report.add("t.py::test_b", guarded())
    report.add("t.py::test_a", proving(used={COMPOSITE["name"]}, indexes=[FK, COMPOSITE]))
    assert summary_lines(report) == [
        "checks: 2 run, 1 passed, 1 failed",
        "indexes proven: userprofile_customer_role_idx",
        "plans: 3 EXPLAINs run for 4 queries seen",
        "guard: fail (mode forced, scope app), 1 finding in 1 test",
        "  FAIL filtered-full-read upstream_customer: ((name)::text = ?::text) at "
        "app/views.py:12 in customers  [1 test: t.py::test_b]",
        "failed by a plan check: 1 test",
        "  t.py::test_b",
        "index report over 1 table the queries touched: 1 unused, 1 redundant",
        "  unused: upstream_userprofile_customer_id_bb264335 (customer_id) on upstream_userprofile",
        "  redundant: upstream_userprofile_customer_id_bb264335 (customer_id) on "
        "upstream_userprofile: its keys lead userprofile_customer_role_idx",
        "  (a lead to check against production, not a reason to drop an index)",
    ]


def test_one_finding_from_many_tests_and_values_is_one_line() -> None:
    """Grouped by shape: the same lookup from two tests (and any values) is one finding."""
    report = SessionReport(guard="warn")
    report.add("t.py::test_b", guarded("warn"))
    report.add("t.py::test_a", guarded("warn"))
    (group,) = report.to_json()["findings"]
    assert group["tests"] == ["t.py::test_a", "t.py::test_b"]
    lines = summary_lines(report)
    assert "guard: warn (mode forced, scope app), 1 finding in 2 tests" in lines
    assert lines[-1].endswith("[2 tests: t.py::test_a, t.py::test_b]")


def test_a_run_with_only_the_index_report_says_nothing_of_checks_or_guard() -> None:
    report = SessionReport(index_report=True)
    report.add("t.py::test_a", TestRecord(queries=1, explained=1))
    lines = summary_lines(report)
    assert not any(line.startswith(("checks:", "guard:")) for line in lines)
