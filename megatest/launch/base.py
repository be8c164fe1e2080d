"""The launcher interface: what the runner asks of whatever runs its tests.

The runner prepares a test's work area, then hands a `LaunchSpec` to its launcher and polls
it. A launcher runs the test somewhere (child processes of the runner, a batch job, a fake in
the tests), reports the test's life through the run's Reporter (so it reaches the store and
the run's listeners), and answers how many of its tests are still running. The runner never
names an implementation: megatest.launch.registry builds one from `[jobtools] launcher`.

Waiting: the runner owns one Selector (its own file descriptors, e.g. the work-area
preparer's pipes, are registered there); every launcher gets it in its LauncherContext and
blocks in it inside `poll(timeout)`, so a ready preparer pipe ends a launcher's wait as
promptly as a test's end does. A launcher with nothing to wait on (a batch system polled on a
timer) still waits in the selector, up to its own next deadline.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from megatest.executor.events import Event
from megatest.executor.reporter import Reporter, TestRef

if TYPE_CHECKING:
    from megatest.executor.prepare import PreparedTest
    from megatest.executor.steps import StepSpec
    from megatest.executor.waivers import WaiverHook


class LaunchSpec(NamedTuple):
    """One prepared test, ready to run: its work area and environment (`prepared`) and what
    to run there."""

    test: TestRef
    prepared: PreparedTest
    steps: Sequence[StepSpec]
    runscript: str | None = None
    test_src_dir: str | None = None
    runtimelim: float | None = None
    triggers: Mapping[str, str] | None = None
    waiver_hook: WaiverHook | None = None


class RunIdentity(NamedTuple):
    """Which run a launcher works for: how it recognises the jobs of that run."""

    area: str
    target: str
    runname: str
    run_id: int


class StaleTest(NamedTuple):
    """A test a dead runner left running: its row, and the run directory it had."""

    test: TestRef
    run_dir: str  # the real directory ("" when the row has none)


class JobLost(NamedTuple):
    """The launcher no longer knows a test it was running and has no result for it (a job
    the batch system forgot, a node that died): the runner records it as not completed."""

    test: TestRef
    reason: str


LaunchEvent = Event | JobLost


class Selector:
    """One blocking wait over file descriptors, shared by the runner and its launcher.

    `wait()` blocks until one of the registered fds is ready or the timeout passes and keeps
    the ready fds in `ready` until the next wait, for every owner to look at its own."""

    def __init__(self) -> None:
        self._poller = select.poll()
        self._masks: dict[int, int] = {}
        self.ready: frozenset[int] = frozenset()

    def register(self, fd: int, mask: int = select.POLLIN) -> None:
        """Watch `fd` for `mask`, or change its mask when it is already watched."""
        if self._masks.get(fd) == mask:
            return
        if fd in self._masks:
            self._poller.modify(fd, mask)
        else:
            self._poller.register(fd, mask)
        self._masks[fd] = mask

    def unregister(self, fd: int) -> None:
        if self._masks.pop(fd, None) is not None:
            self._poller.unregister(fd)

    def __len__(self) -> int:
        return len(self._masks)

    def wait(self, timeout: float | None) -> frozenset[int]:
        """Block up to `timeout` seconds (None: until an fd is ready)."""
        events = self._poller.poll(None if timeout is None else max(0.0, timeout) * 1000)
        self.ready = frozenset(fd for fd, _ in events)
        return self.ready


class LauncherContext(NamedTuple):
    """What a launcher is built with."""

    reporter: Reporter  # every state change, step and value of a test goes here
    selector: Selector  # the runner's: wait in it, register own fds in it
    clock: Callable[[], float] = time.monotonic
    words: tuple[str, ...] = ()  # the launcher line after its name (`bsub -q x` -> -q x)
    # a megatest.config section by name (a batch launcher's options: `[slurm]`, ...)
    section: Callable[[str], Mapping[str, str]] = lambda _name: {}
    # a test's own launcher line when `[launchers]` patterns choose one, else None
    line_for: Callable[[TestRef], str | None] = lambda _test: None
    # how long the test took in recent earlier runs (seconds), None when they do not say:
    # a batch launcher bundles the cheap ones (asked only by those that bundle)
    expected: Callable[[TestRef], float | None] = lambda _test: None


class Launcher(Protocol):
    """Runs prepared tests and reports on them; built by megatest.launch.registry."""

    @property
    def running(self) -> int:
        """How many of its tests have not ended."""

    def has(self, test: TestRef) -> bool:
        """Whether `test` is one of its running tests."""

    def submit(self, spec: LaunchSpec) -> list[LaunchEvent]:
        """Start the test (or queue it with the batch system)."""

    def poll(self, timeout: float | None) -> list[LaunchEvent]:
        """Wait up to `timeout` seconds (None: until something happens) in the context's
        selector, then advance: what ended is reported, due timers fire. Returns at once
        when it runs nothing and the selector watches nothing."""

    def next_due(self) -> float | None:
        """Seconds until it has timed work to do (a deadline, a status poll); None when only
        a ready fd would give it some. (How launchers of different kinds share one wait:
        megatest.launch.mixed.)"""

    def kill(self, test: TestRef, reason: str) -> list[LaunchEvent]:
        """Kill one test (it ends KILLED/KILLED); poll until it is no longer running."""

    def kill_all(self, reason: str, *, state: str = "KILLED",
                 status: str = "KILLED") -> list[LaunchEvent]:
        """Kill every test, each ending as `state`/`status` (the runner stopping)."""

    def recover(self, run: RunIdentity, stale: Sequence[StaleTest],
                spare: Callable[[TestRef], bool] = ...) -> set[TestRef]:
        """What a dead runner of `run` left: the tests of `stale` whose work this launcher
        carries on are returned (their `submit` resumes them where they were, and their
        rows stay as they are); whatever else it left running is killed, but for the tests
        `spare` says another launcher of the run carries."""

    def close(self) -> None:
        """Let go of what it holds (fds, connections); called once the run is over."""
