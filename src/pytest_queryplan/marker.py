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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pytest

from pytest_queryplan.core.checks.defaults import DEFAULTS, check_keys, check_ordered
from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.dialects import check_alias
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.defaults import Defaults
    from pytest_queryplan.core.checks.judge import Check
    from pytest_queryplan.core.checks.nodes import NoFilteredFullScan


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
    max_queries: int | None = None
    ordered: bool = False
    keys: tuple[str, ...] | str | None = None

    @property
    def checks_seq_scans(self) -> bool:
        """With neither uses_index nor forbid (nor only a query budget), the marker forbids
        filtered full reads."""
        return not self.uses_index and not self.forbid and self.max_queries is None

    @property
    def checks_plans(self) -> bool:
        """Whether any of its checks needs the plans (a budget alone needs no EXPLAIN)."""
        return bool(self.uses_index or self.forbid or self.checks_seq_scans)

    def checks(self, full_reads: NoFilteredFullScan, defaults: Defaults) -> list[Check]:
        """The checks this marker asks for. ``full_reads`` is the test's full-read check
        (the ini's exempt tables and this marker's, shared with the guard); ``defaults``
        resolve what the marker leaves unsaid."""
        # Imported here: the marker is read at collection, the checks run only in a test.
        from pytest_queryplan.core.checks.index import IndexUsed
        from pytest_queryplan.core.checks.nodes import Forbidden

        strict = defaults.strict_for(self.strict)
        chosen: list[Check] = [
            IndexUsed(
                name, block=True, strict=strict, body=True, ordered=self.ordered, keys=self.keys
            )
            for name in self.uses_index
        ]
        if self.forbid:
            chosen.append(Forbidden(self.forbid, self.tables))
        if self.checks_seq_scans:
            if self.tables is not None:  # narrower than the guard's: a check of its own
                full_reads = replace(full_reads, tables=self.tables)
            chosen.append(full_reads)
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
    max_queries: int | None = None,
    ordered: bool = False,
    keys: str | Sequence[str] | None = None,
) -> MarkerSpec:
    """queryplan(...): explain every query the test body runs and check the plans.

    Each index in ``uses_index`` must serve a query (``strict=False``: appear in its plan);
    no node type in ``forbid`` may concern ``tables`` (default: every table; "Sort" is
    every sort, Incremental Sort included). With neither, a full read carrying a Filter
    fails the test, except on the ``allow_seq_scan`` tables.
    ``ordered``: the index delivers the query's ORDER BY (no sort of its rows); ``keys``:
    its Index Cond searches these keys ("all": every key).
    ``allow_repeats``: with --queryplan-nplusone, this test may run one query that often.
    ``max_queries``: at most that many queries per connection in the test body (alone, it
    is the only check).
    """
    if allow_repeats is not None and (
        isinstance(allow_repeats, bool) or not isinstance(allow_repeats, int) or allow_repeats < 1
    ):
        raise QueryPlanUsageError(
            f"queryplan(allow_repeats=...) takes a whole number of runs, not {allow_repeats!r}."
        )
    if max_queries is not None:
        from pytest_queryplan.core.checks.budget import check_limit

        check_limit(max_queries, "queryplan(max_queries=...)")
    if strict is not None:
        DEFAULTS.strict_for(strict, "queryplan(strict=...)")  # validated at collection
    if not isinstance(using, str):
        raise QueryPlanUsageError(f"queryplan(using=...) must be an alias string, not {using!r}.")
    forbidden = _names(forbid, "forbid") or ()
    ordered = check_ordered(ordered, "queryplan(ordered=...)")
    keys = check_keys([keys] if isinstance(keys, str) and keys != "all" else keys,
                      "queryplan(keys=...)")  # fmt: skip
    indexes = _names(uses_index, "uses_index") or ()
    if (ordered or keys is not None) and len(indexes) != 1:
        raise QueryPlanUsageError(
            "queryplan(ordered=..., keys=...) say how the index in uses_index serves the "
            f"query: name exactly one index in uses_index (got {len(indexes)})."
        )
    return MarkerSpec(
        uses_index=indexes,
        forbid=forbidden,
        tables=_names(tables, "tables"),
        mode=None if mode is None else DEFAULTS.mode_for(mode, "queryplan(mode=...)"),
        using=using,
        allow_seq_scan=_names(allow_seq_scan, "allow_seq_scan") or (),
        strict=strict,
        allow_repeats=allow_repeats,
        max_queries=max_queries,
        ordered=ordered,
        keys=keys,
    )


PARAMS = tuple(inspect.signature(queryplan_marker).parameters)


def marker_doc() -> str:
    """The ``pytest --markers`` line, from the signature and docstring above."""
    signature = str(inspect.signature(queryplan_marker)).split(" -> ")[0]
    summary = (queryplan_marker.__doc__ or "").split("\n\n")[0].split(": ", 1)[-1]
    return f"queryplan{signature.replace('*, ', '')}: {summary}"


SPEC_KEY = pytest.StashKey["MarkerSpec | None"]()


def spec_of(item: pytest.Item) -> MarkerSpec | None:
    """The marker's spec, as read at collection (read now for an item collection did not
    see, such as one a plugin made later)."""
    if SPEC_KEY not in item.stash:
        item.stash[SPEC_KEY] = marker_spec(item)
    return item.stash[SPEC_KEY]


def marker_spec(item: pytest.Item) -> MarkerSpec | None:
    """The marker's arguments on ``item``, or None; bad arguments are a usage error."""
    marker = item.get_closest_marker("queryplan")
    if marker is None:
        return None
    try:
        spec = queryplan_marker(*marker.args, **marker.kwargs)
        # Found at collection, not after the test body ran: an unknown alias, a database
        # no dialect explains, a forbid= name that database never prints.
        dialect = check_alias(spec.using)
        if dialect is not None:
            dialect.check_node_types(spec.forbid)
            if spec.mode is not None:
                dialect.check_mode(spec.mode)
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
