"""The defaults a check falls back to, and the planner modes: tiny, so options can import it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_queryplan.core.plan import Plan

MODES = ("forced", "natural")


@dataclass(frozen=True)
class Settings:
    """Defaults a call falls back to; the plugin builds them from ini keys and options."""

    mode: str = "forced"
    analyze_tables: bool = False
    verbose: bool = False
    #: Told of every index check that passed (the index, the plans): the plugin's summary.
    on_proof: Callable[[str, Sequence[Plan]], None] | None = None


DEFAULT_SETTINGS = Settings()
