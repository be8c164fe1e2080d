"""How a running test reports: the Reporter protocol the engine implements with the store.

The executor never talks to the database. It calls a Reporter; the engine's implementation
writes rows (and does the item roll-up). MemoryReporter keeps everything in lists for tests and
for callers that want to inspect a job's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from megatest.executor.logpro import TestDataRow


class TestRef(NamedTuple):
    """Which test row a report is about. The engine fills in the ids it knows. (A NamedTuple:
    made and hashed for every report, at a fraction of a frozen dataclass's cost.)"""

    __test__ = False  # not a pytest test class

    test_name: str
    item_path: str = ""
    test_id: int | None = None
    run_id: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.test_name}/{self.item_path}" if self.item_path else self.test_name


class Heartbeat(NamedTuple):
    """What the runner knows about a running test each heartbeat (no per-test process needed)."""

    run_duration: float  # seconds since the test started
    cpuload: float  # 1-minute load average per core
    diskfree_kb: int  # free space of the run directory's file system


@runtime_checkable
class Reporter(Protocol):
    def set_state_status(
        self, test: TestRef, state: str | None, status: str | None, comment: str | None
    ) -> None:
        """Write the test row's state/status (None = leave unchanged) and comment (None = keep)."""

    def step(
        self, test: TestRef, name: str, state: str, status: str, logfile: str, comment: str
    ) -> None:
        """Insert-or-replace a test_steps row (state `start` or `end`)."""

    def set_values(self, test: TestRef, values: Mapping[str, object]) -> None:
        """Update test row columns: final_logf, process_id, host, uname, run_duration, ..."""

    def add_test_data(self, test: TestRef, rows: Sequence[TestDataRow]) -> None:
        """Store test_data rows (from a logpro step's results)."""

    def heartbeat(self, test: TestRef, beat: Heartbeat) -> None:
        """Record that the test is alive (test_rundat row, run_duration, cpuload, diskfree)."""

    def current_state_status(self, test: TestRef) -> tuple[str, str] | None:
        """The row's state/status now: KILLREQ asks for a kill; None when unknown."""


class MemoryReporter:
    """A Reporter that keeps everything in memory (tests, dry runs). (A plain class: a
    test's node process imports this module, and the dataclasses module costs it 10 ms.)"""

    def __init__(self) -> None:
        self.states: dict[TestRef, tuple[str, str]] = {}
        self.comments: dict[TestRef, str] = {}
        self.history: list[tuple[TestRef, str, str, str | None]] = []
        self.steps: list[tuple[TestRef, str, str, str, str, str]] = []
        self.values: dict[TestRef, dict[str, object]] = {}
        self.test_data: dict[TestRef, list[TestDataRow]] = {}
        self.heartbeats: list[tuple[TestRef, Heartbeat]] = []

    def set_state_status(
        self, test: TestRef, state: str | None, status: str | None, comment: str | None
    ) -> None:
        old_state, old_status = self.states.get(test, ("NOT_STARTED", "n/a"))
        new = (state if state is not None else old_state, status if status is not None else old_status)
        self.states[test] = new
        if comment is not None:
            self.comments[test] = comment
        self.history.append((test, new[0], new[1], comment))

    def step(
        self, test: TestRef, name: str, state: str, status: str, logfile: str, comment: str
    ) -> None:
        self.steps.append((test, name, state, status, logfile, comment))

    def set_values(self, test: TestRef, values: Mapping[str, object]) -> None:
        self.values.setdefault(test, {}).update(values)

    def add_test_data(self, test: TestRef, rows: Sequence[TestDataRow]) -> None:
        self.test_data.setdefault(test, []).extend(rows)

    def heartbeat(self, test: TestRef, beat: Heartbeat) -> None:
        self.heartbeats.append((test, beat))

    def current_state_status(self, test: TestRef) -> tuple[str, str] | None:
        return self.states.get(test)

    def request_kill(self, test: TestRef) -> None:
        """What the dashboard / remove-runs do: set KILLREQ on the row."""
        self.set_state_status(test, "KILLREQ", None, None)
