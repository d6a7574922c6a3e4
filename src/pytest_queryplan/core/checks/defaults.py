"""The defaults a check falls back to when a call does not say: tiny, so options can import it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.errors import QueryPlanUsageError

if TYPE_CHECKING:
    from pytest_queryplan.core.checks.names import NameRegistry
    from pytest_queryplan.core.checks.verdict import Verdict


class Registry:
    """The run's :class:`~.names.NameRegistry`, imported and made on first use: a run
    that never suggests an index never loads the suggestion code."""

    def __init__(self) -> None:
        self._registry: NameRegistry | None = None

    def get(self) -> NameRegistry:
        if self._registry is None:
            from pytest_queryplan.core.checks.names import NameRegistry

            self._registry = NameRegistry()
        return self._registry


class IndexCache(dict):  # type: ignore[type-arg]
    """What the catalog said about named indexes, (alias, name) -> IndexInfo, so a check
    that passes costs one round trip (the EXPLAIN). The plugin empties the fixtures' one
    at the start of every test and when a watched test body runs DDL: an index redefined
    under the same name within one test is the case it would miss. (The guard's and the
    marker's, ``Recorder.index_cache``, lasts as long as the plan cache.)"""


@dataclass(frozen=True)
class Defaults:
    """Defaults a call falls back to; the plugin builds them from ini keys and options."""

    mode: Mode = Mode.FORCED
    analyze_tables: bool = False
    verbose: bool = False
    #: How the runner is made verbose, as a failure's last line says (the runner's words).
    verbose_how: str = "run pytest with -v"
    #: Whether an index must *serve* the query (strict) or only appear in the plan.
    strict: bool = True
    #: Catalog answers about named indexes, per test (see IndexCache).
    index_cache: IndexCache = field(default_factory=IndexCache, compare=False)
    #: Names for suggested indexes, unique within the run (made when first needed).
    index_names: Registry = field(default_factory=lambda: Registry(), compare=False)
    #: Finds a captured statement's application and test lines (``db.sites.SiteFinder``).
    sites: Callable[..., Any] | None = field(default=None, compare=False)
    #: Told of every verdict a fixture or TestCase check reached: the plugin's summary.
    on_verdict: Callable[[Verdict], None] | None = None

    def mode_for(self, mode: object, where: str = "mode=") -> Mode:
        """A call's ``mode=`` (validated), or the run's default: the one place it resolves."""
        return self.mode if mode is None else Mode.parse(mode, where)

    def strict_for(self, strict: object, where: str = "strict=") -> bool:
        """A call's ``strict=`` (validated), or the run's default: the one place it resolves."""
        if strict is None:
            return self.strict
        if not isinstance(strict, bool):
            raise QueryPlanUsageError(f"{where} takes True or False, not {strict!r}.")
        return strict


DEFAULTS = Defaults()


def check_keys(keys: Any, where: str = "keys=") -> tuple[str, ...] | str | None:
    """``keys=`` as a check takes it: None, ``"all"``, or a tuple of names."""
    if keys is None or keys == "all":
        return keys
    if isinstance(keys, list | tuple) and keys and all(isinstance(k, str) and k for k in keys):
        return tuple(keys)
    raise QueryPlanUsageError(
        f'{where} takes a list of the index\'s key columns (or field names), or "all", '
        f"not {keys!r}."
    )


def check_ordered(ordered: Any, where: str = "ordered=") -> bool:
    if not isinstance(ordered, bool):
        raise QueryPlanUsageError(f"{where} takes True or False, not {ordered!r}.")
    return ordered
