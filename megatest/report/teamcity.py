"""TeamCity service messages: live from a run (`runs start --teamcity`), or replayed from the
store (`megatest util teamcity`).

    ##teamcity[testSuiteStarted name='nightly/ubuntu_gcc12' flowId='r3']
    ##teamcity[testStarted name='sim(seed/17)' captureStandardOutput='false' flowId='r3.t57']
    ##teamcity[testFailed name='sim(seed/17)' message='COMPLETED/FAIL' details='...' flowId='r3.t57']
    ##teamcity[testFinished name='sim(seed/17)' duration='9000' flowId='r3.t57']
    ##teamcity[testSuiteFinished name='nightly/ubuntu_gcc12' flowId='r3']

One message a line, flushed at once (TeamCity reads them as the build runs). Every test has
its own flowId, so tests that run side by side never interleave; the suite has the run's.
Dots split TeamCity names into packages and classes: a dot in a test name or target becomes
`_`, and an item is the test's parameter in parentheses.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

from megatest.engine.run_events import RunEnd, RunListener, TestChange
from megatest.report import cases

if TYPE_CHECKING:
    from megatest.store.interface import Store
    from megatest.store.records import RunRecord, TestRecord

_ESCAPES = {"|": "||", "'": "|'", "\n": "|n", "\r": "|r", "[": "|[", "]": "|]",
            "\x85": "|x", "\u2028": "|l", "\u2029": "|p"}
DETAILS_BYTES = 2048


def escape(value: object) -> str:
    """A value by the service-message rules: the format's escapes, other control characters
    as |0xNNNN, so that a message stays one line."""
    out = []
    for ch in "" if value is None else str(value):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"|0x{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def message(kind: str, /, **attrs: object) -> str:
    """`##teamcity[kind a='v' ...]`, attributes in the order given."""
    body = " ".join(f"{key}='{escape(value)}'" for key, value in attrs.items())
    return f"##teamcity[{kind} {body}]"


def test_name(testname: str, item_path: str) -> str:
    name = testname.replace(".", "_")
    return f"{name}({item_path})" if item_path else name


def suite_name(runname: str, target: str) -> str:
    return f"{runname.replace('.', '_')}/{target.replace('/', '_').replace('.', '_')}"


class Emitter:
    """Writes messages to a stream, one line each, flushed at once. A reader that went away
    (a closed pipe) ends the messages, not the run that makes them."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.closed = False

    def __call__(self, kind: str, /, **attrs: object) -> None:
        if self.closed:
            return
        try:
            self.out.write(message(kind, **attrs) + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.closed = True


class LiveTeamCity(RunListener):
    """Messages for a run's tests as they start and end."""

    def __init__(self, out: TextIO, runname: str, target: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.emit = Emitter(out)
        self.suite = suite_name(runname, target)
        self.clock = clock
        self.flow = "r?"
        self.started_suite = False
        self.running: dict[tuple[str, str], tuple[str, float]] = {}  # key -> flowId, start

    def _flow_of(self, change: TestChange) -> str:
        ref = change.test
        return f"{self.flow}.t{ref.test_id}" if ref.test_id is not None else \
            f"{self.flow}.{ref.full_name}"

    def test_changed(self, change: TestChange) -> None:
        if not self.started_suite:
            self.flow = f"r{change.test.run_id}"
            self.emit("testSuiteStarted", name=self.suite, flowId=self.flow)
            self.started_suite = True
        ref = change.test
        key = (ref.test_name, ref.item_path)
        name = test_name(ref.test_name, ref.item_path)
        kind = cases.verdict(change.state, change.status)
        if kind == cases.PENDING:
            if change.state in cases.IN_FLIGHT_STATES and key not in self.running:
                flow = self._flow_of(change)
                self.running[key] = (flow, self.clock())
                self.emit("testStarted", name=name, captureStandardOutput="false", flowId=flow)
            return
        said = f"{change.state}/{change.status}" + (f": {change.comment}" if change.comment else "")
        if key not in self.running:
            if kind == cases.SKIPPED:  # never started: it stands alone
                self.emit("testIgnored", name=name, message=said, flowId=self._flow_of(change))
                return
            self.running[key] = (self._flow_of(change), self.clock())
            self.emit("testStarted", name=name, captureStandardOutput="false",
                      flowId=self.running[key][0])
        self._finish(key, name, kind, said)

    def _finish(self, key: tuple[str, str], name: str, kind: str, said: str) -> None:
        flow, start = self.running.pop(key)
        if kind == cases.SKIPPED:
            self.emit("testIgnored", name=name, message=said, flowId=flow)
        elif kind != cases.PASSED:
            self.emit("testFailed", name=name, message=said, details=said, flowId=flow)
        duration = max(0, int((self.clock() - start) * 1000))
        self.emit("testFinished", name=name, duration=duration, flowId=flow)

    def run_ended(self, end: RunEnd) -> None:
        for key in list(self.running):
            name = test_name(*key)
            self._finish(key, name, cases.ERROR, "the run ended before this test did")
        if self.started_suite:
            self.emit("testSuiteFinished", name=self.suite, flowId=self.flow)


def replay(out: TextIO, store: Store, runs: Iterable[cases.RunTests]) -> int:
    """The messages of finished runs from the store; returns how many tests were told."""
    emit = Emitter(out)
    told = 0
    for group in runs:
        run = group.run
        flow = f"r{run.id}"
        suite = suite_name(run.runname, run.target)
        emit("testSuiteStarted", name=suite, flowId=flow)
        for test in group.tests:
            _replay_test(emit, store, run, test, f"{flow}.t{test.id}")
            told += 1
        emit("testSuiteFinished", name=suite, flowId=flow)
    return told


def _replay_test(emit: Emitter, store: Store, run: RunRecord, test: TestRecord,
                 flow: str) -> None:
    name = test_name(test.testname, test.item_path)
    kind = cases.verdict(test.state, test.status)
    said = cases.reason(test)
    if kind in (cases.SKIPPED, cases.PENDING) and test.state != "COMPLETED":
        emit("testIgnored", name=name, message=said, flowId=flow)
        return
    emit("testStarted", name=name, captureStandardOutput="false", flowId=flow,
         timestamp=_stamp(test.event_time))
    if kind == cases.SKIPPED:
        emit("testIgnored", name=name, message=said, flowId=flow)
    elif kind != cases.PASSED:
        emit("testFailed", name=name, message=said, details=_details(store, test), flowId=flow)
    emit("testFinished", name=name, duration=int((test.run_duration or 0) * 1000), flowId=flow)


def _details(store: Store, test: TestRecord) -> str:
    return cases.failure(store, test, DETAILS_BYTES)[1] or cases.reason(test)


def _stamp(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000", time.localtime(epoch or 0))
