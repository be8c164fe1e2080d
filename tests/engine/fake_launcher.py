"""A launcher that runs nothing: each test "takes" a scripted time on a clock the test moves.

It is a whole launcher in one module, plugged in with one registry entry
(`registry.register("fake", ...)`), which is what a new launcher costs: no engine module
knows it. Through the reporter it was built with it reports what a real test reports
(REMOTEHOSTSTART, RUNNING, then COMPLETED with the scripted status), so the runner, the store
and the run's listeners see an ordinary run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from megatest.executor.reporter import TestRef
from megatest.launch.base import (
    JobLost,
    LauncherContext,
    LaunchEvent,
    LaunchSpec,
    RunIdentity,
    StaleTest,
)


class FakeClock:
    """Time for the runner and the fake launcher: it moves only when they wait, and runs the
    test's timed actions (`at`) when it passes them."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self._actions: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.advance_to(self.now + max(seconds, 0.0))

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run `action` once the clock reaches `when` (seconds after the start)."""
        self._seq += 1
        heapq.heappush(self._actions, (when, self._seq, action))

    def advance_to(self, when: float) -> None:
        while self._actions and self._actions[0][0] <= when:
            due, _, action = heapq.heappop(self._actions)
            self.now = max(self.now, due)
            action()
        self.now = max(self.now, when)


@dataclass
class Script:
    """What each test does under the fake launcher, by full name (test or test/item)."""

    clock: FakeClock
    durations: dict[str, float] = field(default_factory=dict)  # default 10 s
    statuses: dict[str, str] = field(default_factory=dict)  # default PASS
    lose: set[str] = field(default_factory=set)  # the launcher forgets these at their end
    carry_on: set[str] = field(default_factory=set)  # a dead runner's tests it carries on
    # what the runner did, for the test to look at
    submitted: list[tuple[float, str]] = field(default_factory=list)  # (time, full name)
    ended: list[tuple[float, str]] = field(default_factory=list)
    reaped: list[RunIdentity] = field(default_factory=list)
    resumed: list[tuple[float, str]] = field(default_factory=list)  # carried on, not started
    offered: list[str] = field(default_factory=list)  # a dead runner's tests it was offered
    most_at_once: int = 0


class FakeLauncher:
    def __init__(self, context: LauncherContext, script: Script):
        self.reporter = context.reporter
        self.script = script
        self.clock = script.clock
        self._ends: dict[TestRef, float] = {}
        self._carried: set[TestRef] = set()

    @property
    def running(self) -> int:
        return len(self._ends)

    def has(self, test: TestRef) -> bool:
        return test in self._ends

    def submit(self, spec: LaunchSpec) -> list[LaunchEvent]:
        test = spec.test
        if test in self._carried:
            self._carried.discard(test)
            self.script.resumed.append((self.clock.now, test.full_name))
        else:
            self.script.submitted.append((self.clock.now, test.full_name))
            self.reporter.set_state_status(test, "REMOTEHOSTSTART", "n/a", None)
            self.reporter.set_state_status(test, "RUNNING", None, None)
        self._ends[test] = self.clock.now + self.script.durations.get(test.full_name, 10.0)
        self.script.most_at_once = max(self.script.most_at_once, len(self._ends))
        return []

    def poll(self, timeout: float | None) -> list[LaunchEvent]:
        horizon = min(self._ends.values(), default=None)
        if timeout is not None:
            until = self.clock.now + timeout
            horizon = until if horizon is None else min(horizon, until)
        if horizon is not None:
            self.clock.advance_to(horizon)
        events: list[LaunchEvent] = []
        for test, end in sorted(self._ends.items(), key=lambda kv: kv[1]):
            if end > self.clock.now or test not in self._ends:
                continue
            del self._ends[test]
            self.script.ended.append((self.clock.now, test.full_name))
            if test.full_name in self.script.lose:
                events.append(JobLost(test, "no such job in the fake queue"))
                continue
            status = self.script.statuses.get(test.full_name, "PASS")
            self.reporter.set_state_status(test, "COMPLETED", status, None)
        return events

    def kill(self, test: TestRef, reason: str) -> list[LaunchEvent]:
        if self._ends.pop(test, None) is not None:
            self.reporter.set_state_status(test, "KILLED", "KILLED", reason)
        return []

    def kill_all(self, reason: str, *, state: str = "KILLED",
                 status: str = "KILLED") -> list[LaunchEvent]:
        for test in list(self._ends):
            del self._ends[test]
            self.reporter.set_state_status(test, state, status, reason)
        return []

    def next_due(self) -> float | None:
        end = min(self._ends.values(), default=None)
        return None if end is None else max(0.0, end - self.clock.now)

    def recover(self, run: RunIdentity, stale: Sequence[StaleTest],
                spare: Callable[[TestRef], bool] = lambda _test: False) -> set[TestRef]:
        self.script.reaped.append(run)
        self.script.offered += [t.test.full_name for t in stale]
        self._carried = {t.test for t in stale if t.test.full_name in self.script.carry_on}
        return set(self._carried)

    def close(self) -> None:
        self._ends.clear()
