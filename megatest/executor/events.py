"""What a supervised test reports back to its driver (the engine's queue loop) on each poll.

Immutable records made for every step of every test: NamedTuples, which cost a fraction of a
frozen dataclass to define (at every start of the command) and to make (several per test).
"""

from __future__ import annotations

from typing import NamedTuple

from megatest.executor.reporter import TestRef


class StepStarted(NamedTuple):
    test: TestRef
    step: str
    pid: int
    logfile: str  # path of the step's log, relative to the run dir


class StepEnded(NamedTuple):
    test: TestRef
    step: str
    exit_code: int | None  # the code that counts: logpro's when logpro was used; None = signal
    command_exit: int | None  # the command's own exit code; None when killed by a signal
    signal: int | None  # the signal that killed the step's process, if any
    status: str  # PASS/FAIL/WARN/... for this step on its own
    logfile: str  # S.html with logpro, else S.log (relative to the run dir)


class TestKilled(NamedTuple):
    __test__ = False  # not a pytest test class

    test: TestRef
    reason: str


class TestTimedOut(NamedTuple):
    __test__ = False  # not a pytest test class

    test: TestRef
    limit: float  # the runtime limit in seconds


class TestFinished(NamedTuple):
    __test__ = False  # not a pytest test class

    test: TestRef
    state: str
    status: str
    comment: str | None


Event = StepStarted | StepEnded | TestKilled | TestTimedOut | TestFinished
