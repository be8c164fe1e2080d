"""The runner's clock: the time it reads and how it waits when it has nothing to wait on.

Injected, so that tests drive a run on a clock they move themselves (no sleeps, no wall-clock
limits) and a run's timers (kill checks, launch delays, flushes) are judged on that clock.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""

    def sleep(self, seconds: float) -> None:
        """Wait (the runner does when nothing of its own runs: other runs hold the limits)."""


class SystemClock:
    """The machine's clock."""

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)


SYSTEM_CLOCK = SystemClock()
