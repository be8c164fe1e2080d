"""Which tests share a batch job: bundles planned from how long the tests took before.

A batch task per test costs a `megatest test execute` start and the batch system's own
per-task work; for tests of a second that is most of their cost. Tests that earlier runs
show to be cheap are packed into bundles that one task runs one after the other, so that:

- no bundle is expected to run longer than `seconds` (a bundle also stays well inside the
  job's time limit: a quarter of it at most),
- the run keeps its width: at least as many tasks as the batch system has slots for (or as
  there are tests), so bundling never leaves a slot idle that one task per test would fill,
- tests with no history, or long ones, go alone: a guess is only made from a measurement.

Bundles are filled longest first into the least loaded one (LPT), so they end together.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, TypeVar

from megatest.launch.batch import number

T = TypeVar("T")

# What one test costs at least, whatever its steps took: the process start and its writes.
FLOOR_SECONDS = 0.5
DEFAULT_SECONDS = 60.0


class Settings(NamedTuple):
    """A batch launcher section's bundle keys: `tests-per-job auto|N` (None: auto),
    `slots N` (the width auto keeps; None: the launcher's own idea, if it has one),
    `bundle-seconds S`."""

    tests_per_job: int | None = None
    slots: int | None = None
    seconds: float = DEFAULT_SECONDS


ONE_PER_JOB = Settings(tests_per_job=1)


def settings_from(section: Mapping[str, str], where: str) -> Settings:
    """The bundle keys of a launcher section; a UsageError naming a bad value."""
    per_job = section.get("tests-per-job", "auto").strip()
    return Settings(
        None if per_job == "auto" else int(number(section, "tests-per-job", int, where)),
        int(number(section, "slots", int, where)) if "slots" in section else None,
        number(section, "bundle-seconds", float, where) if "bundle-seconds" in section
        else DEFAULT_SECONDS)


def fixed(count: int, size: int) -> list[list[int]]:
    """Positions 0..count-1 in bundles of `size`, in order."""
    return [list(range(i, min(i + size, count))) for i in range(0, count, max(1, size))]


def plan(tests: Sequence[T], expected: Callable[[T], float | None], *, width: int | None,
         seconds: float = DEFAULT_SECONDS, time_limit: float | None = None) -> list[list[int]]:
    """Positions of `tests` grouped into bundles (every position once; a bundle of one runs
    alone). `expected(test)`: its earlier duration in seconds, None when unknown. `width`:
    the slots the batch system offers (None: unknown, nothing is bundled)."""
    if width is None or len(tests) < 2:
        return [[i] for i in range(len(tests))]
    budget = seconds if time_limit is None else min(seconds, time_limit / 4)
    alone: list[list[int]] = []
    cheap: list[tuple[float, int]] = []
    for position, test in enumerate(tests):
        guess = expected(test)
        if guess is None or max(guess, FLOOR_SECONDS) > budget / 2:
            alone.append([position])
        else:
            cheap.append((max(guess, FLOOR_SECONDS), position))
    if len(cheap) < 2:
        return alone + [[position] for _, position in cheap]
    total = sum(guess for guess, _ in cheap)
    count = max(math.ceil(total / budget), min(len(cheap), max(1, width - len(alone))))
    if count >= len(cheap):
        return alone + [[position] for _, position in sorted(cheap, key=lambda c: c[1])]
    bins: list[tuple[float, int]] = [(0.0, index) for index in range(count)]
    members: list[list[int]] = [[] for _ in range(count)]
    for guess, position in sorted(cheap, key=lambda c: (-c[0], c[1])):
        load, index = heapq.heappop(bins)
        members[index].append(position)
        heapq.heappush(bins, (load + guess, index))
    return alone + [sorted(bundle) for bundle in members]


_SLURM_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def slurm_seconds(text: str) -> float | None:
    """A Slurm time limit (`--time`: minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S) in seconds;
    None for `UNLIMITED`/`INFINITE` or what is not one."""
    match = _SLURM_TIME.match(text.strip())
    if match is None:
        return None
    days, first, second, third = match.groups()
    if days is not None:  # D-H[:M[:S]]
        hours, minutes, secs = int(first), int(second or 0), int(third or 0)
        return float(((int(days) * 24 + hours) * 60 + minutes) * 60 + secs)
    if third is not None:  # H:M:S
        return float((int(first) * 60 + int(second)) * 60 + int(third))
    if second is not None:  # M:S
        return float(int(first) * 60 + int(second))
    return float(int(first) * 60)  # minutes


def time_option(words: Sequence[str]) -> float | None:
    """The last `--time`/`-t` of sbatch options, in seconds (None: not given or unlimited)."""
    found = None
    for index, word in enumerate(words):
        if word.startswith("--time="):
            found = word.split("=", 1)[1]
        elif word in ("--time", "-t") and index + 1 < len(words):
            found = words[index + 1]
        elif word.startswith("-t") and len(word) > 2 and not word.startswith("--"):
            found = word[2:]
    return None if found is None else slurm_seconds(found)
