"""The choices a user makes, each declared once: planner modes and guard levels.

Every place that accepts a mode (a call, the marker, ini ``queryplan_mode``,
``--queryplan-mode``) validates it through :meth:`Mode.parse`, so the error names the same
valid values everywhere, and ``--help`` lists them from the same enum.
"""

from __future__ import annotations

from enum import StrEnum

from pytest_queryplan.errors import QueryPlanUsageError


class _Choice(StrEnum):
    @classmethod
    def choices(cls) -> list[str]:
        return [member.value for member in cls]

    @classmethod
    def parse(cls, value: object, where: str) -> _Choice:
        """``value`` as a member, or a usage error naming ``where`` it came from."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(repr(choice) for choice in cls.choices())
            raise QueryPlanUsageError(
                f"{where}: {value!r} is not a valid {cls.__doc__}; use one of {valid}."
            ) from None


class Mode(_Choice):
    """queryplan mode"""

    #: Sequential scans discouraged: can an index serve the query, whatever the volume?
    FORCED = "forced"
    #: The planner's own choice for the data as it is now.
    NATURAL = "natural"
    #: The plan of the statement prepared, made without its values (a generic plan), as a
    #: server-side binding driver or a pooler gets it; sequential scans discouraged.
    GENERIC = "generic"

    @property
    def asks_can_serve(self) -> bool:
        """The question is whether an index *can* serve the query, whatever the volume:
        full reads are discouraged, and competing indexes may be set aside. (How a database
        discourages them is its dialect's ``planner_settings``.)"""
        return self is not Mode.NATURAL


class GuardLevel(_Choice):
    """queryplan guard level"""

    OFF = "off"
    WARN = "warn"
    FAIL = "fail"


class GuardScope(_Choice):
    """queryplan guard scope"""

    #: Queries run by application code: a lookup in test code is not a finding.
    APP = "app"
    ALL = "all"
