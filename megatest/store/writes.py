"""The write operations a run's writer applies in one batch (RunWriter.apply), as types.

The runner queues every change its tests report during one turn of its loop and hands the
list to the store at once. Each kind of write is its own record, so a store (SQLite here, a
server's client next) dispatches on the type and a misspelt operation cannot be queued.
Records are NamedTuples (made thousands of times per run) except RowPatch, which the runner
keeps changing until the batch is written.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from megatest.store import state as model


class RowPatch:
    """Every change a batch makes to one test row, merged: the last state, status and comment
    given (None: not given), when a start state was last written, and plain columns.

    Written as ONE UPDATE. Inside one transaction this leaves exactly what writing each change
    in turn would leave: later writes of the same columns overwrite earlier ones, and an
    item's parent is rolled up once, after the item's last change (see TestWriter.apply).
    (A plain class: a test's node process imports this module, and dataclasses costs 10 ms.)"""

    __slots__ = ("test_id", "testname", "item_path", "state", "status", "comment", "started",
                 "fields", "guarded", "seq")

    def __init__(self, test_id: int, testname: str, item_path: str) -> None:
        self.test_id = test_id
        self.testname = testname
        self.item_path = item_path
        self.state: str | None = None
        self.status: str | None = None
        self.comment: str | None = None
        self.started: int | None = None  # event_time, when a START_TIME_STATES state was written
        self.fields: dict[str, Any] | None = None  # UPDATABLE_TEST_FIELDS (pid -> attemptnum)
        # only start states (LAUNCHED, REMOTEHOSTSTART, RUNNING) merged: written only over a
        # row that is not started or still starting, never over what the test itself or a
        # user wrote meanwhile (COMPLETED by `-test-status`, KILLREQ by `runs kill`)
        self.guarded = True
        self.seq = 0  # order of the last change among all patches (the item rolled up last)

    def change(self, state: str | None, status: str | None, comment: str | None) -> None:
        self.seq = next(_CHANGE_ORDER)
        if state not in model.RUNNING_STATES:
            self.guarded = False
        if state is not None:
            self.state = state
            if state in model.START_TIME_STATES:
                self.started = int(time.time())
        if status is not None:
            self.status = status
        if comment is not None:
            self.comment = comment


_CHANGE_ORDER = itertools.count(1)


class StateWrite(NamedTuple):
    """A state/status/comment written on its own (not merged into a RowPatch): a status of
    AUTO reads the row's test data, so it is written in order with the rest."""

    test_id: int
    state: str | None
    status: str | None
    comment: str | None


class StepWrite(NamedTuple):
    """One test_steps row (state `start` or `end`); re-writing the same state updates it."""

    test_id: int
    stepname: str
    state: str
    status: str
    logfile: str = ""
    comment: str = ""


class DataWrite(NamedTuple):
    """test_data rows (mappings with DATA_FIELDS keys), judged and rolled up into the test."""

    test_id: int
    rows: Sequence[Mapping[str, Any]]


class HeartbeatWrite(NamedTuple):
    """The test is alive: run_duration from its start, a test_rundat row."""

    test_id: int
    cpuload: float | None = None
    diskfree: int | None = None


class FieldsWrite(NamedTuple):
    """Plain columns of a test row (host, pid, run dir, duration, ...)."""

    test_id: int
    fields: Mapping[str, Any]


Write = RowPatch | StateWrite | StepWrite | DataWrite | HeartbeatWrite | FieldsWrite
