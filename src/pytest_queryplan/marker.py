"""``@pytest.mark.queryplan``: its arguments, checked once at collection, and the checks
they choose.

The marker's signature *is* :func:`queryplan_marker`'s: Python itself rejects unknown,
positional or repeated arguments, and the ``--markers`` text is built from it, so the two
cannot drift apart.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_queryplan.backends import check_alias
from pytest_queryplan.core.matchers import check_node_types
from pytest_queryplan.core.modes import Mode
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks import Check


@dataclass(frozen=True)
class MarkerSpec:
    uses_index: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    tables: tuple[str, ...] | None = None
    mode: Mode | None = None
    using: str = "default"
    allow_seq_scan: tuple[str, ...] = ()
    strict: bool | None = None
    allow_repeats: int | None = None

    @property
    def checks_seq_scans(self) -> bool:
        """With neither uses_index nor forbid, the marker forbids filtered full reads."""
        return not self.uses_index and not self.forbid

    def checks(self, allow: frozenset[str], strict: bool = True) -> list[Check]:
        """The checks this marker asks for; ``allow`` adds the ini's exempt tables and
        ``strict`` is the ini's default for ``uses_index``."""
        # Imported here: the marker is read at collection, the checks run only in a test.
        from pytest_queryplan.core.checks import IndexUsed
        from pytest_queryplan.core.nodechecks import Forbidden, NoFilteredFullScan

        strict = strict if self.strict is None else self.strict
        chosen: list[Check] = [
            IndexUsed(name, block=True, strict=strict) for name in self.uses_index
        ]
        if self.forbid:
            chosen.append(Forbidden(self.forbid, self.tables))
        if self.checks_seq_scans:
            chosen.append(NoFilteredFullScan(allow | set(self.allow_seq_scan), self.tables))
        return chosen


def _names(value: Any, argument: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise QueryPlanUsageError(
        f"queryplan({argument}=...) takes a name or a list of names, not {value!r}."
    )


def queryplan_marker(
    *,
    uses_index: str | Sequence[str] | None = None,
    forbid: str | Sequence[str] | None = None,
    tables: str | Sequence[str] | None = None,
    mode: str | None = None,
    using: str = "default",
    allow_seq_scan: str | Sequence[str] | None = None,
    strict: bool | None = None,
    allow_repeats: int | None = None,
) -> MarkerSpec:
    """queryplan(...): explain every query the test body runs and check the plans.

    Each index in ``uses_index`` must serve a query (``strict=False``: appear in its plan);
    no node type in ``forbid`` may concern ``tables`` (default: every table). With neither,
    a full read carrying a Filter fails the test, except on the ``allow_seq_scan`` tables.
    ``allow_repeats``: with --queryplan-nplusone, this test may run one query that often.
    """
    if allow_repeats is not None and (
        isinstance(allow_repeats, bool) or not isinstance(allow_repeats, int) or allow_repeats < 1
    ):
        raise QueryPlanUsageError(
            f"queryplan(allow_repeats=...) takes a whole number of runs, not {allow_repeats!r}."
        )
    if strict is not None and not isinstance(strict, bool):
        raise QueryPlanUsageError(f"queryplan(strict=...) takes True or False, not {strict!r}.")
    if not isinstance(using, str):
        raise QueryPlanUsageError(f"queryplan(using=...) must be an alias string, not {using!r}.")
    forbidden = _names(forbid, "forbid") or ()
    check_node_types(forbidden)
    return MarkerSpec(
        uses_index=_names(uses_index, "uses_index") or (),
        forbid=forbidden,
        tables=_names(tables, "tables"),
        mode=None if mode is None else Mode.parse(mode, "queryplan(mode=...)"),
        using=using,
        allow_seq_scan=_names(allow_seq_scan, "allow_seq_scan") or (),
        strict=strict,
        allow_repeats=allow_repeats,
    )


PARAMS = tuple(inspect.signature(queryplan_marker).parameters)


def marker_doc() -> str:
    """The ``pytest --markers`` line, from the signature and docstring above."""
    signature = str(inspect.signature(queryplan_marker)).split(" -> ")[0]
    summary = (queryplan_marker.__doc__ or "").split("\n\n")[0].split(": ", 1)[-1]
    return f"queryplan{signature.replace('*, ', '')}: {summary}"


def marker_spec(item: pytest.Item) -> MarkerSpec | None:
    """The marker's arguments on ``item``, or None; bad arguments are a usage error."""
    marker = item.get_closest_marker("queryplan")
    if marker is None:
        return None
    try:
        spec = queryplan_marker(*marker.args, **marker.kwargs)
        check_alias(spec.using)  # found at collection, not after the test body ran
        return spec
    except TypeError as exc:
        # Python 3.13 adds its own ". Did you mean ...?": the hint below is said once.
        problem = str(exc).replace("queryplan_marker() ", "").split(". Did you mean")[0]
        unknown = set(marker.kwargs) - set(inspect.signature(queryplan_marker).parameters)
        close = [m for name in sorted(unknown) for m in difflib.get_close_matches(name, PARAMS)]
        if close:
            problem += f" (did you mean {', '.join(repr(name) for name in close)}?)"
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.queryplan {problem}; it takes keyword arguments "
            f"only: {marker_doc()}"
        ) from None
    except QueryPlanUsageError as exc:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.queryplan: {exc}") from None
