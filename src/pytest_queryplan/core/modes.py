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


MODE_TEXT = {
    Mode.FORCED: "mode: forced, sequential scans discouraged with enable_seqscan = off",
    Mode.NATURAL: "mode: natural, the planner's own choice for the data as it is now",
    Mode.GENERIC: "mode: generic, the plan of the statement prepared with its parameters as "
    "$n, made without their values; sequential scans discouraged with enable_seqscan = off",
}
#: The modes that ask whether an index *can* serve the query: sequential scans discouraged.
SEQSCAN_OFF = frozenset({Mode.FORCED, Mode.GENERIC})
