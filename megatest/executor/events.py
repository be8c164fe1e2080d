"""What a supervised test reports back to its driver (the engine's queue loop) on each poll."""

from __future__ import annotations

from dataclasses import dataclass

from megatest.executor.reporter import TestRef


@dataclass(frozen=True)
class StepStarted:
    test: TestRef
    step: str
    pid: int
    logfile: str  # path of the step's log, relative to the run dir


@dataclass(frozen=True)
class StepEnded:
    test: TestRef
    step: str
    exit_code: int | None  # the code that counts: logpro's when logpro was used; None = signal
    command_exit: int | None  # the command's own exit code; None when killed by a signal
    signal: int | None  # the signal that killed the step's process, if any
    status: str  # PASS/FAIL/WARN/... for this step on its own
    logfile: str  # S.html with logpro, else S.log (relative to the run dir)


@dataclass(frozen=True)
class TestKilled:
    __test__ = False  # not a pytest test class

    test: TestRef
    reason: str


@dataclass(frozen=True)
class TestTimedOut:
    __test__ = False  # not a pytest test class

    test: TestRef
    limit: float  # the runtime limit in seconds


@dataclass(frozen=True)
class TestFinished:
    __test__ = False  # not a pytest test class

    test: TestRef
    state: str
    status: str
    comment: str | None


Event = StepStarted | StepEnded | TestKilled | TestTimedOut | TestFinished
