"""``@pytest.mark.queryplan``: capture what the test body runs, then check the plans.

A hook wrapper around the call phase, so a failed check is the test failing, not an error
in teardown, and a test that raised on its own gets no plan verdict. The same wrapper
serves the suite-wide features (guard, snapshots, report) through ``watch.py``, for
marked tests and tests that use the database; every other test passes straight through.
"""

from __future__ import annotations

from collections.abc import Collection, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_queryplan.errors import QueryPlanAssertionError
from pytest_queryplan.guard import uses_database

if TYPE_CHECKING:
    from pytest_queryplan.core.defaults import Settings
    from pytest_queryplan.core.record import TestRecord
    from pytest_queryplan.db.capture import CapturedQuery

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
    __tracebackhide__ = True  # a failed check shows its message, not this wrapper's code
    spec = marker_spec(item)
    if spec is None and not uses_database(item):
        return (yield)  # a test that never touches the database costs nothing
    from pytest_queryplan.watch import TestWatch

    watch = TestWatch(item, spec)
    with watch.recording():
        with watch.capturing():
            result = yield
        watch.verdict()
    return result


def run_checks(
    spec: MarkerSpec,
    queries: Sequence[CapturedQuery],
    settings: Settings,
    allow: Collection[str],
    record: TestRecord,
    mode: str,
) -> list[str]:
    """The marker's checks over its explained ``queries``: one failure text per failed check."""
    from pytest_queryplan.backends import get_backend
    from pytest_queryplan.core.messages import findings
    from pytest_queryplan.db.assertions import seq_scan_suggestion, verdict

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
            record.check("failed")
        else:
            record.prove(name)
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
        record.check("failed" if text else "passed")
        if text:
            failures.append(text)
    return failures
