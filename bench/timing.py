"""Alternating timers: every contender runs once per round, in turn, and medians compare.

Alternating (A, B, C, A, B, C, ...) spreads slow phases of a shared machine (another
suite starting, a checkpoint, a frequency change) over every contender alike, so the
ratio of medians stays honest even when the absolute numbers wobble. The order rotates
every round (A, B, C, then B, C, A, ...): a call runs faster when the one before it
warmed the same code and data, and in a fixed order the contender after the most
different one would always pay for that (about 5% in B1).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: ``prepare(call_number)`` does the untimed set-up (a fresh queryset with fresh values)
#: and returns the thunk whose run is timed.
Prepare = Callable[[int], Callable[[], object]]


@dataclass(frozen=True)
class Stats:
    """A contender's timings in nanoseconds: median, quartiles, and how many samples."""

    median_ns: float
    p25_ns: float
    p75_ns: float
    samples: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(samples: Sequence[float]) -> Stats:
    ordered = sorted(samples)
    if len(ordered) >= 4:
        p25, _, p75 = statistics.quantiles(ordered, n=4)
    else:
        p25, p75 = ordered[0], ordered[-1]
    return Stats(statistics.median(ordered), p25, p75, len(ordered))


def alternate(
    contenders: Mapping[str, Prepare], *, iterations: int, warmup: int
) -> dict[str, Stats]:
    """Time every contender ``iterations`` times after ``warmup`` untimed rounds.

    Call numbers are unique across contenders and rounds, so a contender that derives
    its parameter values from them never sees the same values twice.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    call = 0
    clock = time.perf_counter_ns
    for round_number in range(warmup + iterations):
        for name in rotated(names, round_number):
            thunk = contenders[name](call)
            call += 1
            start = clock()
            thunk()
            elapsed = clock() - start
            if round_number >= warmup:
                samples[name].append(elapsed)
    return {name: summarise(values) for name, values in samples.items()}


def alternate_commands(
    commands: Mapping[str, Sequence[str]],
    *,
    runs: int,
    warmup: int,
    cwd: str,
    env: Mapping[str, str],
    expect: str | None = None,
    label: str = "",
) -> tuple[dict[str, Stats], dict[str, subprocess.CompletedProcess[str]]]:
    """Wall time of whole processes, alternating; returns the stats and each last run.

    A run that exits non-zero or whose output lacks ``expect`` stops the benchmark: a
    failing inner suite would time the wrong thing.
    """
    names = list(commands)
    samples: dict[str, list[float]] = {name: [] for name in names}
    last: dict[str, subprocess.CompletedProcess[str]] = {}
    for run in range(warmup + runs):
        for name in rotated(names, run):
            argv = list(commands[name])
            start = time.perf_counter_ns()
            completed = subprocess.run(
                argv, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
            )
            elapsed = time.perf_counter_ns() - start
            if expect is not None and (completed.returncode or expect not in completed.stdout):
                raise RuntimeError(
                    f"{label} {name}: expected {expect!r}, got exit {completed.returncode}:\n"
                    f"{completed.stdout[-3000:]}{completed.stderr[-2000:]}"
                )
            last[name] = completed
            if run >= warmup:
                samples[name].append(elapsed)
    return {name: summarise(values) for name, values in samples.items()}, last


def rotated(names: list[str], round_number: int) -> list[str]:
    shift = round_number % len(names)
    return names[shift:] + names[:shift]


def ratio(numerator: Stats, denominator: Stats) -> float:
    return numerator.median_ns / denominator.median_ns
