"""What a CI system reads from a session report: SARIF results and GitHub annotations.

Both come from the same findings (grouped by shape) and failed plan checks the JSON report
lists, so an annotation, a SARIF result and a JSON finding point at the same line. Pure:
stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_queryplan.core.report.callsite import CallSite
from pytest_queryplan.core.report.github import annotation
from pytest_queryplan.core.report.groups import finding_groups
from pytest_queryplan.core.report.sarif import SarifResult
from pytest_queryplan.core.report.session import SessionReport
from pytest_queryplan.core.report.shape import finding_key


def _site(site: dict[str, Any] | None) -> CallSite | None:
    return None if site is None else CallSite.from_dict(site)


def _related(site: dict[str, Any], what: str) -> tuple[CallSite, str]:
    found = CallSite.from_dict(site)
    return found, what


def finding_message(group: dict[str, Any]) -> str:
    what = group["filter"] or group["sql"]
    if group["kind"] == "repeated-query":
        return (
            f"{group['table']}: the same query ran {group['runs']} times in one test (N+1): {what}"
        )
    if group["kind"] == "row-by-row-write":
        return (
            f"{group['table']}: the same write ran {group['runs']} times in one test, one row "
            f"at a time (bulk_create, bulk_update, QuerySet.update()/delete()): {what}"
        )
    if group["kind"] == "ordered-walk-filtered":
        text = (
            f"{group['table']}: an index walked in the ORDER BY's order under a LIMIT, with a "
            f"Filter it checks row by row (it reads as far as it takes to find the rows): {what}"
        )
    else:
        text = f"{group['table']} read whole with a Filter (no index served it): {what}"
    advice = group.get("advice") or ""
    return f"{text}\n{advice}" if advice else text


def sarif_results(report: SessionReport) -> list[SarifResult]:
    """Every finding the baseline did not accept, and every failed plan check."""
    results = [
        SarifResult(
            group["kind"],
            group["level"],
            finding_message(group),
            _site(group["sites"][0] if group["sites"] else None),
            group["key"],
            tuple(t for t in group["tests"] if t not in group["accepted"]),
            (
                *(_related(site, "another call site") for site in group["sites"][1:]),
                *(_related(site, "a test's line") for site in group.get("test_sites", [])),
            ),
        )
        for group in finding_groups(report.findings)
        if group["level"] != "accepted"
    ]
    for failure in report.failures:
        key = finding_key(failure["kind"], "", failure["test"], failure["message"])
        results.append(
            SarifResult(
                failure["kind"],
                "fail",
                failure["message"],
                _site(failure["site"]),
                key,
                (failure["test"],),
            )
        )
    return results


def annotations(report: SessionReport, prefix: str = "") -> Iterator[str]:
    """One GitHub workflow command per finding and failed check, at its call site.

    ``prefix`` is the rootdir relative to the repository root (``GITHUB_WORKSPACE``), where
    GitHub looks for ``file=``.
    """
    for result in sarif_results(report):
        file = f"{prefix}{result.site.path}" if result.site is not None else None
        line = result.site.line if result.site is not None else None
        tests = ", ".join(result.tests[:3]) + (" ..." if len(result.tests) > 3 else "")
        yield annotation(
            result.level,
            f"{result.message} [{tests}]" if tests else result.message,
            file=file,
            line=line,
            title=f"queryplan: {result.kind}",
        )
