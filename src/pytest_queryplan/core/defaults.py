"""The defaults a check falls back to when a call does not say: tiny, so options can import it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_queryplan.core.modes import Mode
from pytest_queryplan.core.suggest import NameRegistry

if TYPE_CHECKING:
    from pytest_queryplan.core.verdict import Verdict


@dataclass(frozen=True)
class Defaults:
    """Defaults a call falls back to; the plugin builds them from ini keys and options."""

    mode: Mode = Mode.FORCED
    analyze_tables: bool = False
    verbose: bool = False
    #: Whether an index must *serve* the query (strict) or only appear in the plan.
    strict: bool = True
    #: Names for suggested indexes, unique within the run.
    index_names: NameRegistry = field(default_factory=NameRegistry, compare=False)
    #: Told of every verdict a fixture or TestCase check reached: the plugin's summary.
    on_verdict: Callable[[Verdict], None] | None = None


DEFAULTS = Defaults()
