"""The lines of the "queryplan" summary, built from a :class:`SessionReport`.

Pure: the same lines serve the terminal section of a run (``terminal.py``) and the output
of ``python -m pytest_queryplan merge``. An empty list means: print nothing at all.
"""

from __future__ import annotations

from pytest_queryplan.core.hygiene import redundant, unused
from pytest_queryplan.core.report import SessionReport


def _plural(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


def summary_lines(report: SessionReport) -> list[str]:
    if not report.did_something:
        return []
    checks = report.checks
    lines = [
        f"checks: {checks['run']} run, {checks['passed']} passed, {checks['failed']} failed"
        + (f", {checks['warned']} warned" if checks["warned"] else ""),
    ]
    if report.proven:
        lines.append(f"indexes proven: {', '.join(sorted(report.proven))}")
    plans = report.plans
    if plans["queries_seen"]:
        line = (
            f"plans: {_plural(plans['explains_run'], 'EXPLAIN')} run for "
            f"{_plural(plans['queries_seen'], 'query', 'queries')} seen"
        )
        if plans["unexplained"]:
            line += f" ({plans['unexplained']} could not be explained)"
        lines.append(line)
    lines.append(
        f"guard: {report.guard} (mode {report.mode}), {_plural(len(report.findings), 'finding')}"
    )
    for finding in sorted(report.findings, key=lambda f: (f["test"], f["table"], f["sql"])):
        lines.append(
            f"  {finding['level'].upper()} {finding['test']}  {finding['table']}  {finding['sql']}"
        )
    if report.failed_tests:
        lines.append(f"failed by a plan check: {_plural(len(report.failed_tests), 'test')}")
        lines += [f"  {test}" for test in sorted(report.failed_tests)]
    if report.snapshots:
        lines += _snapshot_lines(report)
    if report.index_report:
        lines += _hygiene_lines(report)
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
