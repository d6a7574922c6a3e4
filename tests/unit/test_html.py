"""The HTML report's pure side: plans as node dicts (marks, the named index, estimates and
actual rows, a size cap that keeps the marked path), a snapshot's two shapes with the
changes marked, the record and report carrying them (format 3, format 2 still read), and
the page: self-contained, escaped, every entry linked to its detail."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytest_queryplan.core.checks.index import IndexUsed
from pytest_queryplan.core.checks.query import ExplainedQuery
from pytest_queryplan.core.checks.verdict import Kind, Mark, Offense, Reason, Verdict
from pytest_queryplan.core.html.page import page
from pytest_queryplan.core.html.plans import plan_tree, shape_trees, verdict_detail
from pytest_queryplan.core.plan.tree import Plan, parse_plan
from pytest_queryplan.core.report.callsite import CallSite
from pytest_queryplan.core.report.record import Finding, TestRecord
from pytest_queryplan.core.report.session import SessionReport, merge

PLANS_DIR = Path(__file__).resolve().parents[1] / "plans"


def plan_of(version: str, case: str) -> Plan:
    return parse_plan(json.loads((PLANS_DIR / version / f"{case}.json").read_text())["explain"])


def partly_used() -> Verdict:
    """upper(status) left to the Filter of book_customer_status_idx's scan."""
    plan = plan_of("pg18", "service_iexact")
    scan = plan.find(index="book_customer_status_idx")[0]
    query = ExplainedQuery(
        'SELECT COUNT(*) FROM "shop_book" WHERE "customer_id" = %s AND UPPER("status") = %s',
        (3, "open"),
        plan=plan,
        site=CallSite("/repo/app/books.py", 12, "open_count"),
        test_site=CallSite("/repo/tests/test_books.py", 30, "test_open"),
    )
    mark = Mark(scan, Reason.PARTLY_USED, "book_customer_status_idx")
    return Verdict(
        IndexUsed("book_customer_status_idx"),
        passed=False,
        kind=Kind.INDEX_PARTLY_USED,
        offenses=(Offense(query, (mark,)),),
    )


TEXT = 'Expected a query to be served by index "book_customer_status_idx", but...\nHint: <x>'


def test_a_plan_is_node_fields_with_its_marks_and_the_named_index() -> None:
    detail = verdict_detail(partly_used(), TEXT, "/repo")
    (query,) = detail["queries"]
    assert query["site"] == {"path": "app/books.py", "line": 12, "function": "open_count"}
    assert query["test_site"]["path"] == "tests/test_books.py"
    assert query["sql"].splitlines()[0] == "SELECT COUNT(*)"  # laid out, not one line
    root = query["plan"]
    assert (root["type"], root["rows"], root["cost"]) == ("Aggregate", 1, 6.55)
    (scan,) = root["children"]
    assert scan == {
        "label": "Index Only Scan using book_customer_status_idx on shop_book",
        "type": "Index Only Scan",
        "relation": "shop_book",
        "index": "book_customer_status_idx",
        "alias": "shop_book",
        "rows": 1,
        "cost": 6.54,
        "conditions": [
            ["Index Cond", "(customer_id = 3)"],
            ["Filter", "(upper((status)::text) = 'OPEN'::text)"],
        ],
        "mark": "book_customer_status_idx scanned, but a key column's condition left to the Filter",
        "named": True,
    }
    assert detail["index"] == "book_customer_status_idx" and detail["text"] == TEXT


def test_the_query_that_failed_a_block_comes_first() -> None:
    verdict = partly_used()
    (offense,) = verdict.offenses
    other = ExplainedQuery("SELECT 1", None, plan=plan_of("pg18", "index_scan"))
    both = Verdict(verdict.check, False, verdict.kind, offenses=(Offense(other), offense))
    detail = verdict_detail(both, TEXT, "/repo")
    assert [q["sql"] for q in detail["queries"]][1] == "SELECT 1"
    html = page({**SessionReport().to_json(), "failed_checks": [failure_of(detail)]})
    assert "<dt>run by</dt><dd>app/books.py:12 in open_count</dd>" in html


def failure_of(detail: dict) -> dict:
    return {
        "test": "t.py::test_x",
        "kind": "index-partly-used",
        "message": "Expected",
        "site": None,
        "detail": detail,
    }


def test_an_analyzed_plan_shows_actual_rows() -> None:
    node = plan_tree(plan_of("pg18", "index_scan_analyze"))
    assert (node["actual_rows"], node["loops"]) == (1, 1)


def test_a_big_plan_is_cut_but_keeps_the_marked_path() -> None:
    children = [{"Node Type": "Result", "Plans": [{"Node Type": "Result"}]} for _ in range(50)]
    plan = parse_plan({"Plan": {"Node Type": "Append", "Plans": children}})
    last = plan.root.children[-1].children[0]
    tree = plan_tree(plan, {last: "<-- here"}, limit=10)
    kept = tree["children"]
    assert tree["cut"] == 50 - len(kept)
    assert kept[-1]["children"][0]["mark"] == "here"
    assert sum(1 for kid in kept for _ in kid.get("children", [])) <= 10


def test_snapshot_shapes_become_two_trees_with_the_changes_marked() -> None:
    before = ["query 1:", "  Limit", "    Index Scan using a on t", "query 2:", "  Seq Scan on u"]
    after = ["query 1:", "  Limit", "    Sort", "      Seq Scan on t"] + before[3:]
    trees = shape_trees(before, after)
    (q1, q2) = trees["before"]["children"]
    assert q1["children"][0]["children"] == [{"label": "Index Scan using a on t", "change": True}]
    assert "change" not in q2["children"][0]
    limit = trees["after"]["children"][0]["children"][0]
    assert limit["label"] == "Limit" and "change" not in limit
    assert limit["children"][0]["change"] and limit["children"][0]["children"][0]["change"]


def report_with_everything() -> SessionReport:
    record = TestRecord(queries=2, explained=2, databases=["PostgreSQL 18.1 (default)"])
    record.check("failed")
    record.fail(partly_used(), TEXT, "/repo", detailed=True)
    finding = Finding("filtered-full-read", "shop_book", "SELECT ? FROM shop_book", "x", "fail")
    finding.detail = verdict_detail(partly_used(), "Tables read whole <script>", "/repo")
    record.find(finding)
    record.snapshot = {"status": "changed", "before": ["query 1:", "  A"], "after": ["q:"]}
    report = SessionReport(guard="fail", snapshots=True)
    report.add("tests/test_books.py::test_open", TestRecord.decode(record.encode()))
    return report


def test_the_report_carries_details_through_json_and_merge() -> None:
    data = report_with_everything().to_json()
    assert data["queryplan_report"] == 3
    assert data["databases"] == ["PostgreSQL 18.1 (default)"]
    assert data["failed_checks"][0]["detail"]["queries"][0]["plan"]["type"] == "Aggregate"
    assert data["findings"][0]["detail"]["text"] == "Tables read whole <script>"
    assert data["snapshots"]["shapes"]["tests/test_books.py::test_open"]["after"] == ["q:"]
    again = SessionReport.from_json(json.loads(json.dumps(data)))
    assert again.to_json() == data
    assert merge([again, SessionReport(guard="fail")]).to_json()["findings"] == data["findings"]


def test_a_format_2_report_is_still_read() -> None:
    data = SessionReport(guard="warn").to_json()
    data["queryplan_report"] = 2
    del data["databases"]
    report = SessionReport.from_json(data)
    assert report.guard == "warn"
    assert "not recorded" in page(merge([report]).to_json())  # merged and drawn, undetailed


def test_a_passing_record_carries_no_plan() -> None:
    record = TestRecord()
    record.add(Verdict(IndexUsed("i"), passed=True, kind=Kind.INDEX_USED))
    assert "detail" not in record.encode() and "plan" not in record.encode()


def test_the_page_is_self_contained_escaped_and_linked() -> None:
    html = page(report_with_everything().to_json())
    assert "whole <script>" not in html and "Tables read whole &lt;script&gt;" in html
    assert re.findall(r"""(?:src|href)=["'](?!#)""", html) == []  # no URL but anchors
    assert "default-src 'none'" in html
    for anchor in re.findall(r'href="#([\w-]+)"', html):
        assert f'id="{anchor}"' in html
    match = re.search(r'id="queryplan-trees">(.*?)</script>', html)
    assert match is not None
    drawn = json.loads(match.group(1))
    assert {key.rsplit("-", 1)[-1] for key in drawn} == {"q1", "before", "after"}
    assert 'data-tree="check-0-q1"' in html
    assert "app/books.py:12 in open_count" in html and "PostgreSQL 18.1 (default)" in html


def test_a_page_of_a_run_with_nothing_to_say() -> None:
    html = page(SessionReport().to_json())
    assert "PASSED" in html and "Details" not in html


def test_the_overview_lists_repeats_unexplained_queries_and_the_index_report() -> None:
    data = SessionReport(guard="warn", index_report=True).to_json()
    site = {"path": "app/views.py", "line": 7, "function": "index"}
    repeat = {
        "key": "k",
        "kind": "repeated-query",
        "table": "shop_book",
        "sql": "SELECT ? FROM shop_book WHERE id = ?",
        "filter": "",
        "level": "warn",
        "sites": [site],
        "tests": ["t.py::test_list"],
        "accepted": [],
        "runs": 12,
        "detail": {"text": "Repeated query (N+1): ...", "queries": [{"sql": "SELECT 1"}]},
    }
    data["findings"] = [repeat]
    data["unexplained"] = [
        {"sql": "SELECT ? FROM tmp", "reason": 'relation "tmp" does not exist', "sites": []}
        | {"tests": ["t.py::test_tmp"]}
    ]
    data["index_report"]["unused"] = [
        {"name": "book_old_idx", "table": "shop_book", "definition": "btree (old)"}
    ]
    html = page(data)
    assert 'id="repeats"' in html and "12 runs" in html and "app/views.py:7 in index" in html
    assert "Repeated query (N+1)" in html  # its detail
    assert "relation &quot;tmp&quot; does not exist" in html
    assert "<b>book_old_idx</b> on shop_book" in html
