"""Tests of one run sent to launchers of different kinds: `[launchers]` patterns naming
`[host-types]` lines of another kind than `[jobtools] launcher` (the original's
flexi-launcher: small tests with nbfake on the runner's host, big ones to bsub or Slurm).

A MixedLauncher is a Launcher over one member per kind, each built as if it ran the whole
run, and sends every test to its kind's member. The members share the runner's selector;
in `poll()` the member with the nearest timed work (a deadline, a status poll) does the
waiting, bounded by the others', and then every other member advances without waiting, so
whatever woke the wait (a child's exit, a ready pipe, a due timer) is acted on at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from megatest.executor.reporter import TestRef
from megatest.launch.base import Launcher, LaunchEvent, LaunchSpec, RunIdentity, StaleTest


class MixedLauncher:
    """A Launcher over one member launcher per kind (see the module's description)."""

    def __init__(self, members: Mapping[str, Launcher], kind_of: Callable[[TestRef], str]):
        self.members = dict(members)
        self.kind_of = kind_of

    def _member(self, test: TestRef) -> Launcher:
        return self.members[self.kind_of(test)]

    @property
    def running(self) -> int:
        return sum(member.running for member in self.members.values())

    def has(self, test: TestRef) -> bool:
        return any(member.has(test) for member in self.members.values())

    def submit(self, spec: LaunchSpec) -> list[LaunchEvent]:
        return self._member(spec.test).submit(spec)

    def next_due(self) -> float | None:
        dues = [due for member in self.members.values() if (due := member.next_due()) is not None]
        return min(dues) if dues else None

    def poll(self, timeout: float | None = 0.0) -> list[LaunchEvent]:
        waiter = self._waiter()
        events = waiter.poll(timeout)
        for member in self.members.values():
            if member is not waiter:
                events += member.poll(0.0)
        return events

    def _waiter(self) -> Launcher:
        """The member that waits: the one whose timed work comes first (its own wait is cut
        there, and its due work is done even on a clock that stands still), else one that
        runs tests (it waits on their ends), else any."""
        members = list(self.members.values())
        timed = [(due, index) for index, member in enumerate(members)
                 if (due := member.next_due()) is not None]
        if timed:
            return members[min(timed)[1]]
        return next((member for member in members if member.running), members[0])

    def kill(self, test: TestRef, reason: str = "kill requested") -> list[LaunchEvent]:
        return self._member(test).kill(test, reason)

    def kill_all(self, reason: str = "runner stopping", *, state: str = "KILLED",
                 status: str = "KILLED") -> list[LaunchEvent]:
        events: list[LaunchEvent] = []
        for member in self.members.values():
            events += member.kill_all(reason, state=state, status=status)
        return events

    def recover(self, run: RunIdentity, stale: Sequence[StaleTest],
                spare: Callable[[TestRef], bool] = lambda _test: False) -> set[TestRef]:
        """Each member takes over the dead runner's tests of its kind, and leaves the other
        kinds' processes and jobs alone."""
        carried: set[TestRef] = set()
        for kind, member in self.members.items():
            mine = [entry for entry in stale if self.kind_of(entry.test) == kind]
            carried |= member.recover(
                run, mine, spare=lambda test, kind=kind: self.kind_of(test) != kind or spare(test))
        return carried

    def close(self) -> None:
        for member in self.members.values():
            member.close()
