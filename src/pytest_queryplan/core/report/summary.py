"""The lines of the "queryplan" summary, built from a :class:`SessionReport`.

Pure: the same lines serve the terminal section of a run (``terminal.py``) and the output
of ``python -m pytest_queryplan merge``. An empty list means: print nothing at all.
"""

from __future__ import annotations

from typing import Any

from pytest_queryplan.core.report.groups import finding_groups, unexplained_groups
from pytest_queryplan.core.report.hygiene import redundant, unused
from pytest_queryplan.core.report.nplusone import KINDS
from pytest_queryplan.core.report.session import SessionReport
from pytest_queryplan.core.text.sql import short_sql


def _plural(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


def summary_lines(report: SessionReport, verbose: bool = False) -> list[str]:
    """The summary; a section with nothing to say is left out (``verbose``: the queries
    that could not be explained, one line each)."""
    if not report.did_something:
        return []
    checks = report.checks
    lines = []
    if checks["run"]:
        lines.append(
            f"checks: {checks['run']} run, {checks['passed']} passed, {checks['failed']} failed"
            + (f", {checks['warned']} warned" if checks["warned"] else "")
        )
    if report.proven:
        lines.append(f"indexes proven: {', '.join(sorted(report.proven))}")
    plans = report.plans
    if plans["queries_seen"]:
        line = (
            f"plans: {_plural(plans['explains_run'], 'EXPLAIN')} run for "
            f"{_plural(plans['queries_seen'], 'query', 'queries')} seen"
        )
        if plans["unexplained"]:
            more = "" if verbose else "; -v lists them"
            line += f" ({plans['unexplained']} could not be explained{more})"
        lines.append(line)
    if verbose:
        for group in unexplained_groups(report.unexplained):
            lines.append(
                f"  could not explain: {short_sql(group['sql'], 80)}{_at(group['sites'])}: "
                f"{group['reason']}  [{_tests(group['tests'])}]"
            )
    lines += _guard_lines(report)
    if report.failed_tests:
        lines.append(f"failed by a plan check: {_plural(len(report.failed_tests), 'test')}")
        lines += [f"  {test}" for test in sorted(report.failed_tests)]
    if report.snapshots:
        lines += _snapshot_lines(report)
    if report.index_report:
        lines += _hygiene_lines(report)
    return lines


def _at(sites: list[dict[str, Any]]) -> str:
    if not sites:
        return ""
    first = sites[0]
    more = f" (+{len(sites) - 1} more)" if len(sites) > 1 else ""
    return f" at {first['path']}:{first['line']} in {first['function']}{more}"


def _tests(tests: list[str], shown: int = 2) -> str:
    head = ", ".join(tests[:shown])
    return head + (f", +{len(tests) - shown} more" if len(tests) > shown else "")


def _guard_lines(report: SessionReport) -> list[str]:
    groups = finding_groups(report.findings)
    left_out = report.left_out_findings
    if report.guard == "off" and not groups and not report.plans["left_out"] and not left_out:
        return []
    tests = {f["test"] for f in report.findings}
    accepted = sum(1 for g in groups if g["level"] == "accepted")
    line = (
        f"guard: {report.guard} (mode {report.mode}, scope {report.scope}), "
        f"{_plural(len(groups), 'finding')} in {_plural(len(tests), 'test')}"
    )
    if accepted:
        line += f" ({accepted} accepted by the baseline)"
    lines = [line]
    for group in groups:
        what = group["filter"] or short_sql(group["sql"], 80)
        runs = f" ran {group['runs']} times" if group["kind"] in KINDS else ""
        lines.append(
            f"  {group['level'].upper()} {group['kind']} {group['table']}: {what}{runs}"
            f"{_at(group['sites'])}  [{_plural(len(group['tests']), 'test')}: "
            f"{_tests(group['tests'])}]"
        )
        if group.get("advice") and group["level"] == "warn":  # a failure's text has it
            lines += [f"    {line}" for line in group["advice"].splitlines()]
    if left_out:
        kinds = ", ".join(f"{number} {kind}" for kind, number in sorted(left_out.items()))
        lines.append(
            f"  {_plural(sum(left_out.values()), 'finding')} in queries run by test code left "
            f"out (scope app: {kinds}); --queryplan-guard-scope=all shows them"
        )
    if report.plans["left_out"]:
        lines.append(
            f"  {_plural(report.plans['left_out'], 'query', 'queries')} run by test code "
            "left out (scope app); --queryplan-guard-scope=all judges them too"
        )
    if report.baseline is not None:
        gone = report.baseline["gone"]
        if gone:
            lines.append(
                f"  baseline {report.baseline['path']}: {_plural(len(gone), 'entry', 'entries')}"
                " no test produces any more (--queryplan-baseline-update drops them)"
            )
            lines += [f"    gone: {g['test']}  {g['kind']}  {g['table']}" for g in gone]
    return lines


def _snapshot_lines(report: SessionReport) -> list[str]:
    snap = report.snapshot
    lines = [
        f"snapshots: {snap['compared']} compared, {len(snap['changed'])} changed, "
        f"{len(snap['missing'])} missing, {len(snap['written'])} written"
    ]
    labels = {
        "changed": "changed",
        "missing": "no baseline",
        "written": "written",
        "stale": "no test produces it any more",
    }
    for key, label in labels.items():
        lines += [f"  {label}: {name}" for name in sorted(snap[key])]
    return lines


def _hygiene_lines(report: SessionReport) -> list[str]:
    indexes = report.indexes.values()
    tables = report.tables
    idle = unused(indexes, report.used, tables)
    doubles = redundant(indexes, tables)
    lines = [
        f"index report over {_plural(len(tables), 'table')} the queries touched: "
        f"{len(idle)} unused, {len(doubles)} redundant"
    ]
    lines += [f"  unused: {index.shown} on {index.table}" for index in idle]
    for found in doubles:
        lines.append(
            f"  redundant: {found.index.shown} on {found.index.table}: "
            f"its keys lead {', '.join(found.covered_by)}"
        )
    if idle or doubles:
        lines.append("  (a lead to check against production, not a reason to drop an index)")
    return lines
