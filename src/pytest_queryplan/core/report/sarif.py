"""SARIF 2.1.0 output: findings and failed plan checks as results code review tools show inline.

One rule per kind of finding, with a stable id (``queryplan/filtered-full-read``, ...);
one result per finding, at its call site (relative to the rootdir, through the
``ROOTDIR`` base id), with the finding's shape key as its partial fingerprint so a review
tool follows it across runs. The same finding from several tests is one result listing
them. Shards merge into the document a single run would have written. Pure: stdlib only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse
from urllib.request import url2pathname

from pytest_queryplan.core.report.callsite import CallSite

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL = "pytest-queryplan"
ROOT_ID = "ROOTDIR"
FINGERPRINT = "queryplanFindingKey/v1"
_LEVELS = {"fail": "error", "error": "error", "warn": "warning", "warning": "warning"}

# kind -> (short description, help). The ids are ``queryplan/<kind>``, never renamed.
RULES: dict[str, tuple[str, str]] = {
    "filtered-full-read": (
        "A table read in full to filter its rows",
        "A sequential scan (or a whole-index walk) carried a Filter: no index served the "
        "query's WHERE clause. Add an index whose leading columns are the filtered ones, or "
        "allow the table in queryplan_allow_seq_scan when a full read is intended.",
    ),
    "ordered-walk-filtered": (
        "An index walked in order under a LIMIT, with a Filter",
        "The planner walks an index in the ORDER BY's order and stops at the LIMIT, checking "
        "a Filter row by row: fast while matching rows come early, a read of the whole "
        "index when they are rare. An index on the filtered columns followed by the ORDER "
        "BY's searches them and delivers the order.",
    ),
    "index-not-used": (
        "The expected index was not used",
        "A plan check named an index the planner did not scan for the query.",
    ),
    "index-partly-used": (
        "The index was scanned, but a key column's condition was left to a Filter",
        "The index served only part of the query's conditions; the rest were checked row by "
        "row. The column order, a cast or a function on the column usually explains it.",
    ),
    "index-lost-when-prepared": (
        "The index serves the query with its values, not once it is prepared",
        "In generic mode the statement was planned without its values (a prepared statement "
        "after five executions, server-side binding, a pooler): a partial index whose "
        "predicate column is a bound parameter cannot be proven. Keep that value a literal, "
        "drop it from the predicate, or use a full index.",
    ),
    "index-missing": (
        "The expected index does not exist",
        "A plan check named an index that is not in the database's catalog.",
    ),
    "forbidden-node": (
        "A forbidden plan node appeared",
        "The plan contained a node type the check forbids (a Sort, a full table read, ...).",
    ),
    "no-query-on-table": (
        "No query read the table the check is about",
        "The checked block ran no query on the index's table, so the check proves nothing.",
    ),
    "unknown-table": (
        "A check names a table no query read",
        "The check's tables were not read by any captured query; a typo or a stale name.",
    ),
    "repeated-query": (
        "The same query ran once per row (N+1)",
        "One statement from one line ran many times in one test. Load the related rows with "
        "the query that loads the rows (select_related, prefetch_related) or in bulk.",
    ),
    "row-by-row-write": (
        "The same write ran once per row",
        "One INSERT, UPDATE or DELETE from one line ran many times in one test. Write the "
        "rows in one statement: bulk_create, bulk_update, QuerySet.update() or delete().",
    ),
    "query-budget": (
        "A test ran more queries than its budget",
        "The test body (or block) ran more queries on one connection than max_queries "
        "allows. The failure lists them by statement shape with their call sites.",
    ),
}


@dataclass(frozen=True)
class SarifResult:
    """One result to write: what (``kind``, ``level``: fail/warn, ``message``), where
    (``site``, its path absolute or relative to the rootdir), its shape ``key``
    (``finding_key``) and the tests that produced it."""

    kind: str
    level: str
    message: str
    site: CallSite | None
    key: str
    tests: tuple[str, ...] = ()
    #: The finding's other call sites (application lines, and the tests' lines), each
    #: with what it is: SARIF ``relatedLocations``.
    related: tuple[tuple[CallSite, str], ...] = ()


def _root(rootdir_uri: str) -> tuple[str, str]:
    """The rootdir as a ``file:`` URI ending in ``/``, and as a local path."""
    if "://" not in rootdir_uri:
        rootdir_uri = Path(rootdir_uri).absolute().as_uri()
    uri = rootdir_uri if rootdir_uri.endswith("/") else rootdir_uri + "/"
    return uri, _local(uri)


def _local(uri: str) -> str:
    """The local path a ``file:`` URI names; a relative URI unquoted."""
    if uri.startswith("file:"):
        return url2pathname(unquote(urlparse(uri).path))
    return unquote(uri)


def _rule(kind: str) -> dict[str, Any]:
    short, help_text = RULES.get(kind, (f"queryplan finding: {kind}", f"A {kind} finding."))
    return {
        "id": f"queryplan/{kind}",
        "name": "".join(part.capitalize() for part in kind.split("-")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": help_text},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": "error"},
    }


def _location(site: CallSite) -> dict[str, Any]:
    """A physical location: under the rootdir by ``ROOTDIR``, elsewhere by absolute URI."""
    if os.path.isabs(site.path):
        artifact: dict[str, Any] = {"uri": Path(site.path).as_uri()}
    else:
        artifact = {"uri": quote(site.path), "uriBaseId": ROOT_ID}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if site.line > 0:
        physical["region"] = {"startLine": site.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if site.function:
        location["logicalLocations"] = [{"fullyQualifiedName": site.function, "kind": "function"}]
    return location


def to_sarif(
    results: Iterable[SarifResult], *, tool_version: str, rootdir_uri: str
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every known rule, and ``results`` merged by shape.

    Results with the same kind, level, key and call site are one result whose
    ``properties.tests`` lists every test; the first message is kept. ``rootdir_uri`` is
    the rootdir as a ``file:`` URI (a plain path is converted). Everything is sorted, so
    the same findings give the same document whatever order the tests ran in.
    """
    root_uri, root_path = _root(rootdir_uri)
    merged: dict[tuple[Any, ...], tuple[SarifResult, set[str]]] = {}
    for result in results:
        site = result.site.relative_to(root_path) if result.site else None
        where = (site.path, site.line) if site else ("", 0)
        ident = (*where, result.kind, result.key, _LEVELS.get(result.level, "note"))
        related = tuple((s.relative_to(root_path), what) for s, what in result.related)
        if ident not in merged:
            merged[ident] = (replace(result, site=site, related=related), set())
        merged[ident][1].update(result.tests)
    kinds = sorted(set(RULES) | {result.kind for result, _ in merged.values()})
    index = {kind: n for n, kind in enumerate(kinds)}
    out = []
    for ident in sorted(merged):
        result, tests = merged[ident]
        item: dict[str, Any] = {
            "ruleId": f"queryplan/{result.kind}",
            "ruleIndex": index[result.kind],
            "level": ident[-1],
            "message": {"text": result.message},
            "partialFingerprints": {FINGERPRINT: result.key},
        }
        if result.site:
            item["locations"] = [_location(result.site)]
        if result.related:
            item["relatedLocations"] = [
                {"id": n, **_location(site), "message": {"text": what}}
                for n, (site, what) in enumerate(result.related, 1)
            ]
        if tests:
            item["properties"] = {"tests": sorted(tests)}
        out.append(item)
    driver = {"name": TOOL, "version": tool_version, "rules": [_rule(kind) for kind in kinds]}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {ROOT_ID: {"uri": root_uri}},
                "results": out,
            }
        ],
    }


def _site_of(location: Mapping[str, Any]) -> CallSite:
    physical = location.get("physicalLocation", {})
    path = _local(physical.get("artifactLocation", {}).get("uri", ""))
    logical = location.get("logicalLocations") or [{}]
    line = physical.get("region", {}).get("startLine", 0)
    return CallSite(path, line, logical[0].get("fullyQualifiedName", ""))


def results_in(doc: Mapping[str, Any]) -> list[SarifResult]:
    """The results of a log :func:`to_sarif` wrote, read back (for merging shards)."""
    found = []
    for run in doc.get("runs") or []:
        for item in run.get("results") or []:
            site = None
            for location in item.get("locations", [])[:1]:
                site = _site_of(location)
            level = {"error": "fail", "warning": "warn"}.get(item.get("level", ""), "note")
            found.append(
                SarifResult(
                    kind=item["ruleId"].removeprefix("queryplan/"),
                    level=level,
                    message=item.get("message", {}).get("text", ""),
                    site=site,
                    key=item.get("partialFingerprints", {}).get(FINGERPRINT, ""),
                    tests=tuple(item.get("properties", {}).get("tests", ())),
                    related=tuple(
                        (_site_of(location), location.get("message", {}).get("text", ""))
                        for location in item.get("relatedLocations", [])
                    ),
                )
            )
    return found


def merge_sarif(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One log for many shards' logs: the log one run over all their tests would write.

    The tool version and rootdir are the first shard's (shards of one suite share them).
    """
    docs = list(docs)
    version, root = "", ""
    for doc in docs:
        for run in doc.get("runs") or []:
            version = version or run.get("tool", {}).get("driver", {}).get("version", "")
            root = root or run.get("originalUriBaseIds", {}).get(ROOT_ID, {}).get("uri", "")
    results = [result for doc in docs for result in results_in(doc)]
    return to_sarif(results, tool_version=version or "0", rootdir_uri=root or "file:///")
