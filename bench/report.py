"""The printed tables (markdown, ready for the README) and the flattened target list.

Pure: takes the results dict ``__main__`` assembles, returns text.
"""

from __future__ import annotations

from typing import Any


def _us(ns: float) -> str:
    return f"{ns / 1000:,.0f} µs"


def _s(ns: float) -> str:
    return f"{ns / 1e9:.2f} s"


def _ms(ns: float) -> str:
    return f"{ns / 1e6:,.0f} ms"


def _yes(value: bool) -> str:
    return "met" if value else "**missed**"


def b1_lines(b1: dict[str, Any]) -> list[str]:
    lines = [
        f"**B1, one assertion** ({b1['query']}; {b1['customers']:,} customers, "
        f"{b1['rules']:,} rules; median of {b1['iterations']:,} calls after "
        f"{b1['warmup']:,} warm-up, alternating, fresh values every call)",
        "",
        "| Context | floor | forced | natural | generic | by hand | forced/floor "
        "| natural/floor | generic/forced | forced/by hand |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    runs = [run for run in [b1, *b1.get("more", [])] if "contexts" in run]
    for run in runs:
        lines += _b1_rows(run, labelled=len(runs) > 1 or "transport" in run)
    notes = [run["note"] for run in b1.get("more", []) if "note" in run]
    return lines + (["", *notes] if notes else [])


def _b1_rows(b1: dict[str, Any], *, labelled: bool) -> list[str]:
    """One row per context; labelled with the server, transport and driver of the run."""
    lines = []
    label = ""
    if labelled:
        label = ", ".join(str(b1[key]) for key in ("server", "transport", "driver") if b1.get(key))
        label = f" ({label})" if label else ""
    for context, data in b1["contexts"].items():
        stats, ratios = data["stats"], data["ratios"]
        lines.append(
            f"| {context}{label} | {_us(stats['floor']['median_ns'])} "
            f"| {_us(stats['forced']['median_ns'])} | {_us(stats['natural']['median_ns'])} "
            f"| {_us(stats['generic']['median_ns'])} "
            f"| {_us(stats['by_hand']['median_ns'])} | {ratios['forced/floor']:.2f}x "
            f"| {ratios['natural/floor']:.2f}x | {ratios['generic/forced']:.2f}x "
            f"| {ratios['forced/by_hand']:.2f}x |"
        )
    return lines


def b2_lines(b2: dict[str, Any]) -> list[str]:
    lines = [
        "**B2, plan size** (ns per node, and in brackets the ratio to `json.loads` of the "
        "same text; parse includes that json.loads, walk is building the tree from decoded "
        "JSON plus visiting every node)",
        "",
        "| Shape | Nodes | json.loads | parse | walk | index lookup | render |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for shape in ("deep", "wide"):
        for size, row in b2[shape]["sizes"].items():
            cells = [
                _per_node(row["ns_per_node"][name], row["vs_json_loads"][name])
                for name in ("json.loads", "parse", "walk", "lookup", "render")
            ]
            lines.append(f"| {shape} | {int(size):,} | " + " | ".join(cells) + " |")
            if row.get("not_timed"):
                notes.append(f"\nNot timed, {shape}, {int(size):,} nodes: {row['not_timed']}.")
    for shape in ("deep", "wide"):
        linear = b2[shape]["linear"]
        growth = ", ".join(
            f"{k} {v:.2f}x" if v is not None else f"{k} n/a"
            for k, v in linear["per_node_growth"].items()
        )
        lines.append(
            f"\nPer-node growth, {shape}, {linear['from']:,} to {linear['to']:,} nodes: {growth}."
        )
    return lines + notes


def _per_node(ns: float | None, ratio: float | None) -> str:
    if ns is None:
        return "n/a"
    return f"{ns:,.0f} ({ratio:.2f}x)" if ratio is not None else f"{ns:,.0f}"


def b3_lines(b3: dict[str, Any]) -> list[str]:
    if not b3.get("available"):
        return [f"**B3, guard**: {b3.get('note', 'not run')}"]
    lines = [
        f"**B3, guard** ({b3['tests']} tests x {b3['queries_per_test']} explained queries, "
        f"whole pytest runs, median of {b3['runs']}, alternating)",
        "",
        "| Suite | guard off | guard on (fail) | on/off | added per test | EXPLAINs run / "
        "queries seen |",
        "|---|---|---|---|---|---|",
    ]
    for suite in ("cold", "warm"):
        stats = b3["stats"]
        plans = b3["plans"].get(suite)
        counted = f"{plans['explains_run']:,} / {plans['queries_seen']:,}" if plans else "n/a"
        lines.append(
            f"| {suite} | {_s(stats[f'{suite}_off']['median_ns'])} "
            f"| {_s(stats[f'{suite}_on']['median_ns'])} | {b3['ratios'][f'{suite}: on/off']:.2f}x "
            f"| {b3['ratios'][f'{suite}: ms added per test']:.1f} ms | {counted} |"
        )
    if b3.get("suite"):
        lines += ["", *suite_lines(b3["suite"])]
    return lines


def suite_lines(suite: dict[str, Any]) -> list[str]:
    stats, ratios, codes = suite["stats"], suite["ratios"], suite["exit_codes"]
    lines = [
        f"**B3, a real suite** (`{suite['command']}` in {suite['path']}, whole runs, median "
        f"of {suite['runs']}, alternating)",
        "",
        "| -p no:queryplan | plugin, guard off | `--queryplan-guard=warn` | off / none "
        "| warn / none |",
        "|---|---|---|---|---|",
        f"| {_s(stats['no_plugin']['median_ns'])} | {_s(stats['plugin']['median_ns'])} "
        f"| {_s(stats['guard_warn']['median_ns'])} | {ratios['plugin/no_plugin']:.2f}x "
        f"| {ratios['guard_warn/no_plugin']:.2f}x |",
    ]
    if not suite["same_outcome"]:
        lines += ["", f"**The variants ended differently** (exit codes {codes})."]
    return lines


def b4_lines(b4: dict[str, Any]) -> list[str]:
    stats = b4["stats"]
    return [
        f"**B4, import** (`pytest --collect-only -q`, {b4['tests']} trivial tests, no Django "
        f"settings, median of {b4['runs']} runs, alternating)",
        "",
        "| with the plugin | -p no:queryplan | ratio |",
        "|---|---|---|",
        f"| {_ms(stats['plugin']['median_ns'])} | {_ms(stats['no_plugin']['median_ns'])} "
        f"| {b4['ratios']['plugin/no_plugin']:.3f}x |",
    ]


def all_targets(results: dict[str, Any]) -> dict[str, bool]:
    """Every target as one flat ``{"B1 transaction: forced <= 1.2x floor": True}``."""
    flat: dict[str, bool] = {}
    b1 = results.get("b1")
    if b1:
        for run in [b1, *b1.get("more", [])]:
            if "contexts" not in run:
                continue
            where = ", ".join(str(run[k]) for k in ("transport", "driver") if run.get(k))
            for context, data in run["contexts"].items():
                for name, met in data["targets"].items():
                    key = f"B1 {context} ({where})" if where else f"B1 {context}"
                    flat[f"{key}: {name}"] = met
    for key in ("b2", "b3", "b4"):
        for name, met in (results.get(key) or {}).get("targets", {}).items():
            flat[f"{key.upper()}: {name}"] = met
    for name, met in ((results.get("b3") or {}).get("suite") or {}).get("targets", {}).items():
        flat[f"B3: {name}"] = met
    return flat


def markdown(results: dict[str, Any]) -> str:
    info, db = results["machine"], results.get("database", {})
    lines = [
        f"Measured {info['date']} on {info['nproc']} x {info['cpu']}, "
        f"{info['memory_gib']} GiB, Python {info['python']}, "
        f"PostgreSQL {db.get('server_version', '?')} ({db.get('source', '?')}); "
        f"load average {info.get('load_average_at_start')} at start, "
        f"{info.get('load_average_at_end')} at end.",
    ]
    if results.get("tiny"):
        lines += [
            "",
            "**--tiny: sizes too small to measure anything; the figures only prove "
            "the benchmarks run.**",
        ]
    for key, build in (("b1", b1_lines), ("b2", b2_lines), ("b3", b3_lines), ("b4", b4_lines)):
        if results.get(key):
            lines += ["", *build(results[key])]
    targets = all_targets(results)
    if targets:
        lines += ["", "| Target | Result |", "|---|---|"]
        lines += [f"| {name} | {_yes(met)} |" for name, met in targets.items()]
    return "\n".join(lines)
