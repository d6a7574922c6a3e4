"""Findings and unexplained queries grouped by shape, for the report and the summary.

A finding's identity is its key (kind, table, SQL shape, filter shape): the same finding
from many tests, values and workers is one group listing its tests, call sites and how it
was judged. Groups come out sorted, so a serial run, ``-n 2`` and merged shards agree.
Pure: stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_queryplan.core.report.shape import finding_key

_LEVEL_ORDER = ("fail", "warn", "accepted")


def _site_key(site: dict[str, Any] | None) -> tuple[str, int, str]:
    return ("", 0, "") if site is None else (site["path"], site["line"], site["function"])


def finding_groups(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-test findings (each a dict with ``test``) as one group per key."""
    groups: dict[str, dict[str, Any]] = {}
    for found in findings:
        key = finding_key(found["kind"], found["table"], found["sql"], found["filter"])
        group = groups.setdefault(
            key,
            {
                "key": key,
                "kind": found["kind"],
                "table": found["table"],
                "sql": found["sql"],
                "filter": found["filter"],
                "levels": set(),
                "sites": {},
                "test_sites": {},
                "tests": set(),
                "accepted": set(),
                "runs": 0,
            },
        )
        group["levels"].add(found["level"])
        for site in found.get("sites") or [found.get("site")]:
            if site is not None:
                group["sites"][_site_key(site)] = site
        for site in found.get("test_sites") or [found.get("test_site")]:
            if site is not None:
                group["test_sites"][_site_key(site)] = site
        advice = found.get("advice") or ""
        if advice and (group.get("advice_test") is None or found["test"] < group["advice_test"]):
            group["advice"], group["advice_test"] = advice, found["test"]
        group["tests"].add(found["test"])
        if found["level"] == "accepted":
            group["accepted"].add(found["test"])
        group["runs"] = max(group["runs"], found.get("count", 1))
        # One drawn example per group, the first test's: the same whoever ran it first.
        detail = found.get("detail")
        if detail and (group.get("detail_test") is None or found["test"] < group["detail_test"]):
            group["detail"], group["detail_test"] = detail, found["test"]
    out = []
    for key in sorted(groups, key=lambda k: (groups[k]["kind"], groups[k]["table"], k)):
        group = groups.pop(key)
        levels = group.pop("levels")
        group["level"] = next(level for level in _LEVEL_ORDER if level in levels)
        group["sites"] = [group["sites"][k] for k in sorted(group["sites"])]
        group["test_sites"] = [group["test_sites"][k] for k in sorted(group["test_sites"])]
        group["tests"] = sorted(group["tests"])
        group["accepted"] = sorted(group["accepted"])
        group.setdefault("advice", "")
        group.pop("detail_test", None)
        group.pop("advice_test", None)
        out.append(group)
    return out


def expand(groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-test findings a JSON report's groups stand for (to merge shards)."""
    found = []
    for group in groups:
        site = group["sites"][0] if group["sites"] else None
        for test in group["tests"]:  # every call site kept: a merge loses none
            level = "accepted" if test in group["accepted"] else group["level"]
            found.append(
                {
                    "test": test,
                    "kind": group["kind"],
                    "table": group["table"],
                    "sql": group["sql"],
                    "filter": group["filter"],
                    "level": level,
                    "site": site,
                    "sites": group["sites"],
                    "test_sites": group.get("test_sites", []),
                    "advice": group.get("advice", ""),
                    "count": group.get("runs", 1),
                    "detail": group.get("detail"),
                }
            )
    return found


def unexplained_groups(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unexplained queries (each with ``test``) as one group per (SQL shape, reason)."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        group = groups.setdefault(
            (item["sql"], item["reason"]),
            {"sql": item["sql"], "reason": item["reason"], "sites": {}, "tests": set()},
        )
        if item.get("site") is not None:
            group["sites"][_site_key(item["site"])] = item["site"]
        group["tests"].add(item["test"])
    out = []
    for ident in sorted(groups):
        group = groups[ident]
        group["sites"] = [group["sites"][k] for k in sorted(group["sites"])]
        group["tests"] = sorted(group["tests"])
        out.append(group)
    return out


def expand_unexplained(groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"test": test, "sql": g["sql"], "reason": g["reason"], "site": (g["sites"] or [None])[0]}
        for g in groups
        for test in g["tests"]
    ]
