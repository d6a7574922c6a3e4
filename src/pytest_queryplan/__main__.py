"""``python -m pytest_queryplan merge shard1.json shard2.json ... [-o merged.json]``.

Combines the ``--queryplan-report`` files of a sharded suite into one report, prints the
same summary a single run prints, and exits 1 when any shard had a failed plan check or
a finding at ``fail`` level (2 for unreadable input). Index hygiene is judged over the
merged usage, so an index one shard used is not unused. ``--queryplan-sarif`` files given
too are merged into ``--sarif-output``; ``--html-output`` writes the merged report as the
``--queryplan-html`` page.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_queryplan.core.report.session import SessionReport, merge
from pytest_queryplan.core.report.summary import summary_lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pytest_queryplan")
    commands = parser.add_subparsers(dest="command", required=True)
    merging = commands.add_parser("merge", help="merge --queryplan-report files of shards")
    merging.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    merging.add_argument("-o", "--output", type=Path, help="write the merged report here")
    merging.add_argument(
        "--sarif-output", type=Path, help="write the merged SARIF of the .sarif files given"
    )
    merging.add_argument(
        "--html-output", type=Path, help="write the merged report as a self-contained HTML page"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    reports, sarifs = [], []
    for path in args.reports:
        try:
            data = json.loads(path.read_text())
            if isinstance(data, dict) and data.get("version") == "2.1.0" and "runs" in data:
                sarifs.append(data)
            else:
                reports.append(SessionReport.from_json(data))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"error: cannot read {path} as a queryplan report: {exc}", file=sys.stderr)
            return 2
    if args.sarif_output is not None:
        from pytest_queryplan.core.report.sarif import merge_sarif

        if not sarifs:
            print("error: --sarif-output needs .sarif files to merge", file=sys.stderr)
            return 2
        args.sarif_output.parent.mkdir(parents=True, exist_ok=True)
        args.sarif_output.write_text(json.dumps(merge_sarif(sarifs), indent=2) + "\n")
    merged = merge(reports)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(merged.to_json(), indent=2) + "\n")
    if args.html_output is not None:
        from pytest_queryplan.core.html.page import page

        args.html_output.parent.mkdir(parents=True, exist_ok=True)
        args.html_output.write_text(page(merged.to_json()), encoding="utf-8")
    print(f"queryplan: {len(reports)} reports merged")
    for line in summary_lines(merged):
        print(line)
    return 1 if merged.failed else 0


if __name__ == "__main__":
    sys.exit(main())
