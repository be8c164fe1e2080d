"""Run events: what happens in a run, told to whoever listens.

The runner's StoreReporter publishes every test state change and every step row as it
queues them for the store, and the runner publishes the run's end. Listeners subscribe to a
RunEvents: the scheduler's feed and the progress display are two; JUnit/TeamCity writers and
the server's live push are others. A listener overrides only the methods it needs.

Listeners are called in the runner's loop, in subscription order: they must be quick (queue
work, write a line) and must not block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from megatest.executor.reporter import TestRef

if TYPE_CHECKING:
    from megatest.engine.summary import RunOutcome


_new_tuple = tuple.__new__


class TestChange(NamedTuple):
    """A test row's state/status as the runner now knows it (comment None: unchanged)."""

    __test__ = False  # not a pytest test class

    test: TestRef
    state: str
    status: str
    comment: str | None


class StepChange(NamedTuple):
    """A step row written: `state` is start or end; `status` the step's own (exit code or
    PASS/FAIL/...)."""

    test: TestRef
    step: str
    state: str
    status: str
    logfile: str
    comment: str


class RunEnd(NamedTuple):
    """The run is over: every test ended or was given up on (or the runner was stopped)."""

    target: str
    runname: str
    outcome: RunOutcome


class RunListener:
    """Base of run listeners: every method does nothing until overridden."""

    def test_changed(self, change: TestChange) -> None:
        """A test or item changed state or status."""

    def step_changed(self, change: StepChange) -> None:
        """A step started or ended."""

    def turn(self) -> None:
        """The runner's loop ended a turn (a display redraws here, at its own pace)."""

    def run_ended(self, end: RunEnd) -> None:
        """The run is over."""


class RunEvents:
    """The listeners of one run, and publishing to them."""

    def __init__(self) -> None:
        self._listeners: list[RunListener] = []
        self._test: list = []
        self._step: list = []
        self._turn: list = []
        self._end: list = []

    def subscribe(self, listener: RunListener) -> None:
        self._listeners.append(listener)
        self._rebind()

    def unsubscribe(self, listener: RunListener) -> None:
        self._listeners.remove(listener)
        self._rebind()

    def _rebind(self) -> None:
        # only the methods a listener overrides are called: most listen to one kind, and a
        # run publishes several test changes per test
        def bound(name: str) -> list:
            return [getattr(lst, name) for lst in self._listeners
                    if getattr(type(lst), name) is not getattr(RunListener, name)]

        self._test = bound("test_changed")
        self._step = bound("step_changed")
        self._turn = bound("turn")
        self._end = bound("run_ended")

    @property
    def hears_steps(self) -> bool:
        """Whether a listener wants step events (a publisher may skip making them)."""
        return bool(self._step)

    def test_changed(self, test: TestRef, state: str, status: str, comment: str | None) -> None:
        if self._test:
            # tuple.__new__ makes the NamedTuple without its Python-level __new__: several
            # changes per test, each told to every listener
            change = _new_tuple(TestChange, (test, state, status, comment))
            for call in self._test:
                call(change)

    def step_changed(self, test: TestRef, step: str, state: str, status: str, logfile: str,
                     comment: str) -> None:
        if self._step:
            change = StepChange(test, step, state, status, logfile, comment)
            for call in self._step:
                call(change)

    def turn(self) -> None:
        for call in self._turn:
            call()

    def run_ended(self, end: RunEnd) -> None:
        for call in self._end:
            call(end)
