"""The engine's Reporter: every state change of a supervised test goes to the store.

The runner is the only writer of its run's rows while it runs, so the state it wrote last is
also what `current_state_status` answers, without a database read. Kill requests written by
other processes (KILLREQ) are read separately by the driver (`kill_requests`).

Writes are queued and `flush()`ed once per turn of the driver's loop, in ONE transaction
through the run's writer (Store.run_writer(...).apply, typed writes of megatest.store.writes): the state
changes a test makes within one turn are merged into one UPDATE of its row (a RowPatch, with
the plain columns it set: host, pid, run dir, ...), its steps, test data and heartbeats are
written in order, and an item's parent is rolled up after its items' changes. Inside one
transaction that leaves exactly the rows change-by-change writing leaves; readers (`runs
wait`, the dashboard, `query tests`) see them one loop turn later. The run's listeners
(RunEvents: the scheduler's feed, the display, reports) hear of each change at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from megatest.engine.helpers import SELF_STATUS_MARK
from megatest.errors import StoreWriteError
from megatest.executor.reporter import Heartbeat, TestRef
from megatest.store.writes import (
    DataWrite,
    FieldsWrite,
    HeartbeatWrite,
    RowPatch,
    StateWrite,
    StepWrite,
    Write,
)

if TYPE_CHECKING:
    from megatest.engine.run_events import RunEvents
    from megatest.executor.logpro import TestDataRow
    from megatest.store.interface import Store

# Plain column updates (host, pid, run dir, duration) are merged and written this often.
FIELDS_FLUSH_INTERVAL = 0.5

# Reporter.set_values names -> RunWriter.update_fields columns
_FIELD_NAMES = {"process_id": "pid"}


class StoreReporter:
    def __init__(self, store: Store, run_id: int, events: RunEvents,
                 clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.writer = store.run_writer(run_id)
        self.run_id = run_id
        self.events = events
        self.clock = clock
        self.states: dict[tuple[str, str], tuple[str, str]] = {}
        self._entries: list[Write] = []
        self._open: dict[int, RowPatch] = {}  # test id -> its patch that later changes join
        self._fields: dict[int, dict[str, object]] = {}
        self._fields_at = 0.0
        self.run_dirs: dict[tuple[str, str], str] = {}

    def flush(self, everything: bool = True) -> None:
        """Write everything queued in one transaction (RunWriter.batch). Plain columns go
        with their test's state change, or on their own at most every FIELDS_FLUSH_INTERVAL
        unless `everything`. A StoreWriteError (no space, ...) keeps the writes queued, in
        order, for the next flush."""
        entries, self._entries = self._entries, []
        open_patches, self._open = self._open, {}
        for test_id, patch in open_patches.items():
            fields = self._fields.pop(test_id, None)
            if fields:
                patch.fields = fields  # the test's last row write in this batch: exact order
        now = self.clock()
        fields_only: dict[int, dict[str, object]] = {}
        if self._fields and (everything or now - self._fields_at >= FIELDS_FLUSH_INTERVAL):
            self._fields_at = now
            fields_only, self._fields = self._fields, {}
        for test_id, values in fields_only.items():
            entries.append(FieldsWrite(test_id, values))
        if not entries:
            return
        try:
            with self.writer.batch():
                self.writer.apply(entries)
        except StoreWriteError:
            # nothing of the batch was written: it goes out first with the next flush
            self._entries = entries + self._entries
            raise

    def pending(self) -> bool:
        return bool(self._entries or self._fields)

    def has_rows(self) -> bool:
        """Row writes are queued (plain columns alone wait for their own interval)."""
        return bool(self._entries)

    def ref(self, name: str, path: str, test_id: int) -> TestRef:
        return TestRef(name, path, test_id, self.run_id)

    # -- Reporter protocol --------------------------------------------------------------------

    def set_state_status(
        self, test: TestRef, state: str | None, status: str | None, comment: str | None
    ) -> None:
        key = (test.test_name, test.item_path)
        old_state, old_status = self.states.get(key, ("NOT_STARTED", "n/a"))
        new_state = state if state is not None else old_state
        new_status = status if status is not None else old_status
        test_id = _id(test)
        if status == "AUTO":
            # the test-data roll-up reads the row: a call of its own, in order
            self._call(test, StateWrite(test_id, state, status, comment))
        else:
            patch = self._open.get(test_id)
            if patch is None:
                patch = self._open[test_id] = RowPatch(test_id, test.test_name, test.item_path)
                self._entries.append(patch)
            patch.change(state, status, comment)
        self.states[key] = (new_state, new_status)
        self.events.test_changed(test, new_state, new_status, comment)

    def step(
        self, test: TestRef, name: str, state: str, status: str, logfile: str, comment: str
    ) -> None:
        # a step row is not the test row: the test's open patch stays open
        self._entries.append(StepWrite(_id(test), name, state, status, logfile, comment))
        if self.events.hears_steps:
            self.events.step_changed(test, name, state, status, logfile, comment)

    def set_values(self, test: TestRef, values: Mapping[str, object]) -> None:
        self._fields.setdefault(_id(test), {}).update(columns(values))

    def add_test_data(self, test: TestRef, rows: Sequence[TestDataRow]) -> None:
        if rows:
            test_id = _id(test)
            self._call(test, DataWrite(test_id, [data_row(r) for r in rows]))

    def heartbeat(self, test: TestRef, beat: Heartbeat) -> None:
        test_id = _id(test)
        self._call(test, heartbeat_write(test_id, beat))

    def _call(self, test: TestRef, write: Write) -> None:
        """A write that reads or rewrites the test row: later changes of the test, and of
        its sibling items (the parent roll-up reads them), start new patches."""
        for test_id, patch in list(self._open.items()):
            if patch.testname == test.test_name:
                del self._open[test_id]
        self._entries.append(write)

    def current_state_status(self, test: TestRef) -> tuple[str, str] | None:
        key = (test.test_name, test.item_path)
        known = self.states.get(key)
        run_dir = self.run_dirs.get(key)
        if (
            known is not None
            and known[0] in ("REMOTEHOSTSTART", "RUNNING")
            and run_dir is not None
            and os.path.exists(os.path.join(run_dir, SELF_STATUS_MARK))
        ):
            # the test itself may have written its state (`-test-status :state COMPLETED`),
            # which must win over the final status the job is about to write
            try:
                self.flush()
            except StoreWriteError:
                return known  # what it wrote cannot be read back yet; the runner says why
            rec = self.store.get_test(self.run_id, _id(test))
            if rec is not None and (rec.state, rec.status) != known:
                if rec.state != "KILLREQ":
                    self.states[key] = (rec.state, rec.status)
                    self.events.test_changed(test, rec.state, rec.status, rec.comment)
                return (rec.state, rec.status)
        return known

    # -- what the driver writes itself --------------------------------------------------------

    def write(self, test: TestRef, state: str, status: str, comment: str | None = None) -> None:
        """A scheduler decision (LAUNCHED, a blocked reason, a reset): written and announced."""
        self.set_state_status(test, state, status, comment)

    def kill_request_seen(self, test: TestRef) -> None:
        """KILLREQ was written by someone else: the job's next poll must see it."""
        key = (test.test_name, test.item_path)
        _, status = self.states.get(key, ("NOT_STARTED", "n/a"))
        self.states[key] = ("KILLREQ", status)


def _id(test: TestRef) -> int:
    if test.test_id is None:
        raise ValueError(f"{test.full_name}: no test id")
    return test.test_id


def columns(values: Mapping[str, object]) -> dict[str, object]:
    """Reporter.set_values names and values as the test row's columns (whole seconds)."""
    fields = {}
    for name, value in values.items():
        column = _FIELD_NAMES.get(name, name)
        if column == "run_duration" and isinstance(value, float):
            value = int(round(value))
        fields[column] = value
    return fields


def heartbeat_write(test_id: int, beat: Heartbeat) -> HeartbeatWrite:
    """A heartbeat as its write (a negative reading: not measured)."""
    return HeartbeatWrite(test_id, cpuload=beat.cpuload if beat.cpuload >= 0 else None,
                          diskfree=beat.diskfree_kb if beat.diskfree_kb >= 0 else None)


def data_row(row: TestDataRow) -> dict[str, object]:
    return {
        "category": row.category,
        "variable": row.variable,
        "value": row.value,
        "expected": row.expected,
        "tol": row.tol,
        "units": row.units,
        "comment": row.comment,
        "status": row.status,
        "type": row.type,
    }
