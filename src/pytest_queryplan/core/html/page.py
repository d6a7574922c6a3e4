"""The HTML report: one self-contained page built from a session report's JSON.

Everything is inline (``page.css``, ``page.js``, the plan trees as JSON the script draws
as SVG); a Content-Security-Policy forbids every fetch, so the page opened from a CI
artifact reaches no network. The overview comes first (the run, the checks, findings by
shape, repeated queries, queries that could not be explained, the index report, snapshot
changes), each entry linking to its detail. Without the script the details still show the
verdict's text, plan included. Pure: stdlib only.
"""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from typing import Any

from pytest_queryplan.core.html.plans import shape_trees

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _site(site: dict[str, Any] | None) -> str:
    if not site:
        return ""
    return escape(f"{site['path']}:{site['line']} in {site['function']}")


def _plural(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


class _Page:
    """The page's parts as they are written, and the trees its script draws."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.trees: dict[str, Any] = {}
        self.details: list[str] = []

    def tree(self, key: str, tree: dict[str, Any], named: str | None = None) -> str:
        self.trees[key] = {"tree": tree, "named": named}
        return f'<div class="tree" data-tree="{escape(key)}"></div>'

    # -- overview ------------------------------------------------------------------------

    def run(self) -> str:
        data = self.data
        rows = [
            ("mode", data["mode"]),
            ("guard", data["guard"]),
            ("scope", data["scope"]),
            ("database", ", ".join(data.get("databases") or []) or "not recorded"),
            ("tests with a record", str(data["tests"])),
        ]
        plans = data["plans"]
        if plans["queries_seen"]:
            rows.append(
                (
                    "plans",
                    f"{_plural(plans['explains_run'], 'EXPLAIN')} run for "
                    f"{_plural(plans['queries_seen'], 'query', 'queries')} seen"
                    + (f", {plans['left_out']} left out (test code)" if plans["left_out"] else ""),
                )
            )
        if data.get("baseline"):
            rows.append(("baseline", data["baseline"]["path"]))
        cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        return f'<section id="run"><h2>The run</h2><table class="facts">{cells}</table></section>'

    def checks(self) -> str:
        checks = self.data["checks"]
        tiles = "".join(
            f'<div class="tile {key}"><b>{checks[key]}</b>{key}</div>'
            for key in ("run", "passed", "failed", "warned")
        )
        items = []
        for number, failure in enumerate(self.data["failed_checks"]):
            anchor = f"check-{number}"
            queries = (failure.get("detail") or {}).get("queries") or [{}]
            site = queries[0].get("site") or failure.get("site")
            items.append(
                f'<li><a href="#{anchor}">{escape(failure["test"])}</a> '
                f'<span class="kind">{escape(failure["kind"])}</span> '
                f"<span>{escape(failure['message'])}</span>"
                + (f' <span class="site">{_site(site)}</span>' if site else "")
                + "</li>"
            )
            self.details.append(self.failure_detail(anchor, failure))
        listed = f'<ol class="entries">{"".join(items)}</ol>' if items else ""
        heading = "<h3>Failed checks</h3>" if items else ""
        return (
            f'<section id="checks"><h2>Checks</h2><div class="tiles">{tiles}</div>'
            f"{heading}{listed}</section>"
        )

    def findings(self) -> str:
        groups = [g for g in self.data["findings"] if g["kind"] != "repeated-query"]
        repeats = [g for g in self.data["findings"] if g["kind"] == "repeated-query"]
        out = []
        for title, ident, chosen in (
            ("Findings, grouped by shape", "findings", groups),
            ("Repeated queries", "repeats", repeats),
        ):
            if not chosen:
                continue
            rows = []
            for group in chosen:
                anchor = f"{ident}-{len(self.details)}"
                tests = group["tests"]
                runs = f", {group['runs']} runs" if group.get("runs", 1) > 1 else ""
                shape = group["filter"] or group["sql"]
                rows.append(
                    f'<tr class="{escape(group["level"])}"><td><a href="#{anchor}">'
                    f"{escape(group['level'].upper())}</a></td>"
                    f"<td>{escape(group['kind'])}</td><td>{escape(group['table'])}</td>"
                    f"<td><code>{escape(shape)}</code></td>"
                    f"<td>{_site(group['sites'][0] if group['sites'] else None)}</td>"
                    f"<td>{_plural(len(tests), 'test')}{runs}</td></tr>"
                )
                self.details.append(self.finding_detail(anchor, group))
            out.append(
                f'<section id="{ident}"><h2>{escape(title)} ({len(chosen)})</h2>'
                '<table class="list"><tr><th>level</th><th>kind</th><th>table</th>'
                "<th>shape</th><th>call site</th><th>count</th></tr>"
                f"{''.join(rows)}</table></section>"
            )
        return "".join(out)

    def unexplained(self) -> str:
        groups = self.data["unexplained"]
        if not groups:
            return ""
        rows = "".join(
            f"<tr><td><code>{escape(g['sql'])}</code></td><td>{escape(g['reason'])}</td>"
            f"<td>{_site(g['sites'][0] if g['sites'] else None)}</td>"
            f"<td>{escape(', '.join(g['tests']))}</td></tr>"
            for g in groups
        )
        return (
            f'<section id="unexplained"><h2>Could not be explained ({len(groups)})</h2>'
            '<table class="list"><tr><th>SQL</th><th>reason</th><th>call site</th>'
            f"<th>tests</th></tr>{rows}</table></section>"
        )

    def index_report(self) -> str:
        report = self.data.get("index_report")
        if report is None:
            return ""
        unused = "".join(
            f"<li><b>{escape(i['name'])}</b> on {escape(i['table'])}: "
            f"<code>{escape(i['definition'])}</code></li>"
            for i in report["unused"]
        )
        redundant = "".join(
            f"<li><b>{escape(i['name'])}</b> on {escape(i['table'])}, covered by "
            f"{escape(', '.join(i['covered_by']))}</li>"
            for i in report["redundant"]
        )
        return (
            '<section id="index-report"><h2>Index report</h2>'
            f"<h3>Not used by any explained plan ({len(report['unused'])})</h3>"
            f"<ul>{unused or '<li>none</li>'}</ul>"
            f"<h3>Redundant ({len(report['redundant'])})</h3>"
            f"<ul>{redundant or '<li>none</li>'}</ul></section>"
        )

    def snapshots(self) -> str:
        snap = self.data.get("snapshots")
        if snap is None:
            return ""
        shapes = snap.get("shapes", {})
        items = []
        for test in snap["changed"]:
            if test in shapes:
                anchor = f"snapshot-{len(self.details)}"
                items.append(f'<li>changed: <a href="#{anchor}">{escape(test)}</a></li>')
                self.details.append(self.snapshot_detail(anchor, test, shapes[test]))
            else:
                items.append(f"<li>changed: {escape(test)}</li>")
        items += [f"<li>no baseline: {escape(t)}</li>" for t in snap["missing"]]
        items += [f"<li>written: {escape(t)}</li>" for t in snap["written"]]
        items += [f"<li>no test produces it any more: {escape(t)}</li>" for t in snap["stale"]]
        counts = (
            f"{snap['compared']} compared, {len(snap['changed'])} changed, "
            f"{len(snap['missing'])} missing, {len(snap['written'])} written"
        )
        return (
            f'<section id="snapshots"><h2>Snapshot changes</h2><p>{escape(counts)}</p>'
            f'<ul class="entries">{"".join(items)}</ul></section>'
        )

    # -- details -------------------------------------------------------------------------

    def queries(self, anchor: str, detail: dict[str, Any]) -> str:
        parts = []
        named = detail.get("index")
        for number, query in enumerate(detail.get("queries", []), 1):
            sites = []
            if query.get("site"):
                sites.append(f"<dt>application line</dt><dd>{_site(query['site'])}</dd>")
            if query.get("test_site"):
                sites.append(f"<dt>test line</dt><dd>{_site(query['test_site'])}</dd>")
            body = [f"<h4>Query {number}</h4>", f'<dl class="sites">{"".join(sites)}</dl>']
            body.append(f'<pre class="sql">{escape(query["sql"])}</pre>')
            if "plan" in query:
                mode = f" (mode: {escape(query['mode'])})" if query.get("mode") else ""
                body.append(f"<h5>Plan{mode}</h5>")
                body.append(self.tree(f"{anchor}-q{number}", query["plan"], named))
            elif query.get("error"):
                error = escape(query["error"])
                body.append(f'<p class="error">Could not be explained: {error}</p>')
            parts.append(f'<div class="query">{"".join(body)}</div>')
        if detail.get("more_queries"):
            more = _plural(detail["more_queries"], "more query", "more queries")
            parts.append(f"<p>and {more}</p>")
        return "".join(parts)

    def verdict_text(self, detail: dict[str, Any]) -> str:
        text = detail.get("text", "")
        return (
            '<details class="text"><summary>The verdict\'s text (as the terminal shows it)'
            f"</summary><pre>{escape(text)}</pre></details>"
            if text
            else ""
        )

    def failure_detail(self, anchor: str, failure: dict[str, Any]) -> str:
        detail = failure.get("detail") or {}
        named = detail.get("index")
        facts = [
            f"<dt>test</dt><dd>{escape(failure['test'])}</dd>",
            f"<dt>check</dt><dd>{escape(failure['kind'])}"
            + (f" of index <b>{escape(named)}</b>" if named else "")
            + "</dd>",
            f"<dt>expected</dt><dd>{escape(failure['message'])}</dd>",
        ]
        verdict = _verdict_lines(detail.get("text", ""))
        if verdict:
            facts.append(f"<dt>verdict</dt><dd><pre>{escape(verdict)}</pre></dd>")
        # The marked query's line (queries come marked first), else the failure's.
        queries = detail.get("queries") or [{}]
        site = queries[0].get("site") or failure.get("site")
        if site:
            facts.append(f"<dt>run by</dt><dd>{_site(site)}</dd>")
        return (
            f'<section class="detail failed" id="{anchor}"><h3>Failed check: '
            f'{escape(failure["test"])}</h3><dl class="facts">{"".join(facts)}</dl>'
            f"{self.queries(anchor, detail)}{self.verdict_text(detail)}"
            '<p class="top"><a href="#checks">back to the overview</a></p></section>'
        )

    def finding_detail(self, anchor: str, group: dict[str, Any]) -> str:
        detail = group.get("detail") or {}
        text = detail.get("text", "")
        facts = [
            f"<dt>level</dt><dd>{escape(group['level'])}</dd>",
            f"<dt>kind</dt><dd>{escape(group['kind'])} on {escape(group['table'])}</dd>",
            f"<dt>expected</dt><dd>{escape(_expected(group['kind']))}</dd>",
        ]
        verdict = _verdict_lines(text, first=True)
        if verdict:
            facts.append(f"<dt>verdict</dt><dd><pre>{escape(verdict)}</pre></dd>")
        if group["filter"]:
            facts.append(f"<dt>filter shape</dt><dd><code>{escape(group['filter'])}</code></dd>")
        sites = "".join(f"<li>{_site(s)}</li>" for s in group["sites"])
        tests = "".join(
            f"<li>{escape(t)}{' (accepted)' if t in group['accepted'] else ''}</li>"
            for t in group["tests"]
        )
        facts.append(f"<dt>call sites</dt><dd><ul>{sites or '<li>unknown</li>'}</ul></dd>")
        facts.append(f"<dt>tests</dt><dd><ul>{tests}</ul></dd>")
        example = f"<p>Drawn from {escape(group['tests'][0])}:</p>" if detail else ""
        return (
            f'<section class="detail finding {escape(group["level"])}" id="{anchor}">'
            f"<h3>Finding: {escape(group['kind'])} on {escape(group['table'])}</h3>"
            f'<dl class="facts">{"".join(facts)}</dl>{example}'
            f"{self.queries(anchor, detail)}{self.verdict_text(detail)}"
            '<p class="top"><a href="#findings">back to the overview</a></p></section>'
        )

    def snapshot_detail(self, anchor: str, test: str, shapes: dict[str, list[str]]) -> str:
        trees = shape_trees(shapes["before"], shapes["after"])
        return (
            f'<section class="detail snapshot" id="{anchor}"><h3>Snapshot changed: '
            f'{escape(test)}</h3><div class="pair"><div class="side"><h4>Before (baseline)'
            f"</h4>{self.tree(anchor + '-before', trees['before'])}</div>"
            '<div class="side"><h4>After (this run)</h4>'
            f"{self.tree(anchor + '-after', trees['after'])}</div></div>"
            '<p class="top"><a href="#snapshots">back to the overview</a></p></section>'
        )

    def build(self) -> str:
        data = self.data
        failed = bool(data["checks"]["failed"]) or any(
            g["level"] == "fail" for g in data["findings"]
        )
        status = "failed" if failed else "passed"
        overview = [
            self.run(),
            self.checks(),
            self.findings(),
            self.unexplained(),
            self.index_report(),
            self.snapshots(),
        ]
        trees = json.dumps(self.trees, separators=(",", ":")).replace("<", "\\u003c")
        return "".join(
            [
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                "<title>queryplan report</title>",
                f"<style>{_asset('page.css')}</style></head><body>",
                f'<header><h1>queryplan report</h1><p class="status {status}">'
                f"{status.upper()}</p></header><main>",
                *overview,
                '<h2 id="details">Details</h2>' if self.details else "",
                *self.details,
                "</main>",
                f'<script type="application/json" id="queryplan-trees">{trees}</script>',
                f"<script>{_asset('page.js')}</script></body></html>\n",
            ]
        )


_QUERY_HEADER = re.compile(r"Query \d+ of \d+:")


def _verdict_lines(text: str, first: bool = False) -> str:
    """The verdict's own words: the text before its SQL and plan blocks (the page draws
    those), its first line only with ``first`` (a failed check's says what was expected)."""
    kept = []
    for line in text.splitlines()[0 if first else 1 :]:
        if line.startswith(("SQL:", "Plan:", "Run by:")) or _QUERY_HEADER.match(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()


_EXPECTED = {
    "filtered-full-read": "no read of a whole table or index filtered row by row: an index "
    "serves the WHERE clause",
    "repeated-query": "one query (or two) where a loop ran one per row",
}


def _expected(kind: str) -> str:
    return _EXPECTED.get(kind, kind)


def page(report: dict[str, Any]) -> str:
    """The whole HTML document for a session report's JSON (``SessionReport.to_json()``)."""
    return _Page(report).build()
