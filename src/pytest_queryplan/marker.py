"""``@pytest.mark.queryplan``: capture what the test body runs, then check the plans.

A hook wrapper around the call phase, so a failed check is the test failing, not an error
in teardown, and a test that raised on its own gets no plan verdict.
"""

from __future__ import annotations

from collections.abc import Collection, Generator
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_queryplan.errors import QueryPlanAssertionError

_ARGUMENTS = ("uses_index", "forbid", "tables", "mode", "using", "allow_seq_scan")


def _names(value: Any, argument: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise pytest.UsageError(
        f"@pytest.mark.queryplan({argument}=...) takes a name or a list of names, not {value!r}."
    )


@dataclass(frozen=True)
class MarkerSpec:
    uses_index: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    tables: tuple[str, ...] | None = None
    mode: str | None = None
    using: str = "default"
    allow_seq_scan: tuple[str, ...] = ()

    @classmethod
    def from_marker(cls, marker: pytest.Mark, where: str) -> MarkerSpec:
        unknown = sorted(set(marker.kwargs) - set(_ARGUMENTS))
        if marker.args or unknown:
            bad = ", ".join(unknown) if unknown else f"positional {marker.args!r}"
            raise pytest.UsageError(
                f"{where}: @pytest.mark.queryplan got unknown argument(s) {bad}; it takes "
                f"keyword arguments only: {', '.join(_ARGUMENTS)}."
            )
        kwargs = marker.kwargs
        using = kwargs.get("using", "default")
        if not isinstance(using, str):
            raise pytest.UsageError(f"{where}: queryplan(using=...) must be an alias string.")
        return cls(
            uses_index=_names(kwargs.get("uses_index"), "uses_index") or (),
            forbid=_names(kwargs.get("forbid"), "forbid") or (),
            tables=_names(kwargs.get("tables"), "tables"),
            mode=kwargs.get("mode"),
            using=using,
            allow_seq_scan=_names(kwargs.get("allow_seq_scan"), "allow_seq_scan") or (),
        )

    @property
    def checks_seq_scans(self) -> bool:
        """With neither uses_index nor forbid, the marker forbids filtered seq scans."""
        return not self.uses_index and not self.forbid


def marker_spec(item: pytest.Item) -> MarkerSpec | None:
    marker = item.get_closest_marker("queryplan")
    return None if marker is None else MarkerSpec.from_marker(marker, item.nodeid)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Bad marker arguments are a usage error of the whole run, found before anything runs.
    for item in items:
        marker_spec(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    spec = marker_spec(item)
    if spec is None:
        return (yield)
    from pytest_queryplan.capture import capture_queries
    from pytest_queryplan.options import ALLOW_SEQ_SCAN_KEY, SETTINGS_KEY

    with capture_queries(spec.using) as captured:
        result = yield
    settings = item.config.stash[SETTINGS_KEY]
    allow = set(spec.allow_seq_scan) | set(item.config.stash[ALLOW_SEQ_SCAN_KEY])
    run_checks(spec, captured, settings, allow)
    return result


def run_checks(
    spec: MarkerSpec, captured: list[Any], settings: Any, allow: Collection[str]
) -> None:
    __tracebackhide__ = True
    from pytest_queryplan.api import check_mode, explain_captured, seq_scan_suggestion, verdict
    from pytest_queryplan.backends import get_backend
    from pytest_queryplan.messages import ExplainedQuery, findings

    mode = check_mode(spec.mode or settings.mode)
    explain_captured(captured, mode=mode, analyze_tables=settings.analyze_tables)
    queries = [ExplainedQuery(q.sql, q.plan, q.error) for q in captured]
    failures = []
    for name in spec.uses_index:
        try:
            verdict(
                get_backend(spec.using),
                name,
                queries,
                mode=mode,
                verbose=settings.verbose,
                block=True,
            )
        except QueryPlanAssertionError as exc:
            failures.append(str(exc))
    if spec.forbid or spec.checks_seq_scans:
        text = findings(
            queries,
            forbid=spec.forbid,
            tables=spec.tables,
            allow=allow,
            mode=mode,
            verbose=settings.verbose,
            suggest=seq_scan_suggestion if mode == "forced" else None,
        )
        if text:
            failures.append(text)
    if failures:
        raise QueryPlanAssertionError("\n\n".join(failures))
