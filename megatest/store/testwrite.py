"""The lean write path for the per-test helper calls (`$MT_MEGATEST -test-status ...`, -step,
test data, heartbeat): stdlib sqlite3 only, so a helper process starts in milliseconds.

It is also the test-row writer under megatest.store.lean.LeanStore and megatest.store.api.Store
(one implementation), with the rules of megatest.store.state and BEGIN IMMEDIATE around every
read-modify-write. The
runner, which writes thousands of changes, groups them with `batch()`: one transaction per
turn of its loop instead of one per change.

Every UPDATE of tests, test_steps and test_data sets last_update itself (run_0003 dropped the
triggers that did it at three times the cost).

The schema is still the Alembic-owned one: the writer refuses a run db at a revision it cannot
write (megatest.store.revisions.WRITABLE_RUN_REVISIONS), and tests/store/test_testwrite.py
checks that every column named in USES exists in megatest.store.schema.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from megatest.errors import StoreError, UsageError
from megatest.store import item_counts, sqlite_conn
from megatest.store import state as model
from megatest.store.columns import UPDATABLE_TEST_FIELDS
from megatest.store.revisions import HEADS, WRITABLE_RUN_REVISIONS

if TYPE_CHECKING:
    from megatest.store.writes import RowPatch, Write

RUN_HEAD = HEADS["run"]
# set in every UPDATE of a run table: the same value as the column default
_STAMP = "last_update=strftime('%s','now')"

# Columns this module reads or writes, per table (checked against the Core schema in tests).
USES: dict[str, tuple[str, ...]] = {
    "tests": ("id", "run_id", "testname", "item_path", "state", "status", "comment",
              "event_time", "run_duration", "cpuload", "diskfree", "pass_count", "fail_count",
              "host", "uname", "rundir", "shortdir", "attemptnum", "final_logf", "logdat",
              "archived"),
    "test_steps": ("test_id", "stepname", "state", "status", "event_time", "comment", "logfile"),
    "test_data": ("test_id", "category", "variable", "value", "expected", "tol", "units",
                  "comment", "status", "type"),
    "test_rundat": ("test_id", "update_time", "cpuload", "diskfree", "diskusage",
                    "run_duration"),
}

# Before run_0004 (no item_counts): the other items' pairs from their rows, one row read per
# item on every item write.
_SIBLINGS = (
    "SELECT state, status FROM tests WHERE run_id=? AND testname=? AND item_path!='' "
    "AND id!=? AND state!='DELETED' GROUP BY state, status ORDER BY state, status"
)
_STEP_UPSERT = (
    "INSERT INTO test_steps (test_id, stepname, state, status, event_time, comment, logfile) "
    "VALUES (?,?,?,?,?,?,?) ON CONFLICT (test_id, stepname, state) DO UPDATE SET "
    "status=excluded.status, event_time=excluded.event_time, comment=excluded.comment, "
    "logfile=excluded.logfile, " + _STAMP
)
_DATA_UPSERT = (
    "INSERT INTO test_data (test_id, category, variable, value, expected, tol, units, comment, "
    "status, type) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (test_id, category, variable) DO "
    "UPDATE SET value=excluded.value, expected=excluded.expected, tol=excluded.tol, "
    "units=excluded.units, comment=excluded.comment, status=excluded.status, type=excluded.type, "
    + _STAMP
)

DATA_FIELDS = ("category", "variable", "value", "expected", "tol", "units", "comment", "status",
               "type")


# What a guarded RowPatch may be written over.
_STARTABLE = ("NOT_STARTED", "LAUNCHED", "REMOTEHOSTSTART", "RUNNING")

class TestWriter:
    """Writes one run's test rows through a plain sqlite3 connection."""

    __test__ = False  # not a pytest class

    def __init__(self, area_root: str | Path, run_id: int):
        self.run_id = int(run_id)
        self.path = Path(area_root) / ".db" / f"{self.run_id}.db"
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no database for run {self.run_id}")
        revision = sqlite_conn.alembic_revision(self.path)  # empty, damaged, no access: says so
        if revision is None:
            raise StoreError(f"{self.path}: not a megatest run database (it has no schema "
                             "revision table)")
        if revision not in WRITABLE_RUN_REVISIONS:
            raise StoreError(
                f"{self.path}: schema revision {revision} is not {RUN_HEAD}; "
                "run `megatest db migrate`"
            )
        self.conn = sqlite_conn.connect(self.path)
        self._batch_depth = 0
        self._applying = False  # inside apply(): its calls need no savepoint of their own
        # an item's parent is rolled up from the kept counts, or by the scan on older dbs
        self._counted = item_counts.present(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> TestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[TestWriter]:
        """Many writes in ONE BEGIN IMMEDIATE ... COMMIT:

            with writer.batch():
                writer.set_state_status(a, "RUNNING", "n/a")
                writer.add_step(a, "build", "end", "0")

        Each call inside keeps its own rules (an item's parent is rolled up from the rows as
        the batch has written them so far) and is atomic on its own (a SAVEPOINT): a call
        that raises leaves nothing behind; if the error leaves the block, the whole batch
        is rolled back. A nested batch is a savepoint of the outer one. Other processes (test helpers)
        wait on the busy timeout while the batch holds the write lock, then write after it."""
        if self._batch_depth:
            with self._savepoint("mt_batch"):
                self._batch_depth += 1
                try:
                    yield self
                finally:
                    self._batch_depth -= 1
            return
        # no space, an I/O error, a lock never released: a StoreWriteError, the batch rolled
        # back whole (the runner keeps it and tries again)
        with sqlite_conn.writing(self.path), sqlite_conn.immediate(self.conn):
            self._batch_depth = 1
            try:
                yield self
            finally:
                self._batch_depth = 0

    @property
    def in_batch(self) -> bool:
        return self._batch_depth > 0

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """One call's transaction: its own BEGIN IMMEDIATE, or a savepoint inside a batch;
        nothing inside apply(), whose error leaves its whole batch block (rolled back)."""
        if self._applying:
            return nullcontext(self.conn)
        return _CallTx(self.conn, savepoint=self._batch_depth > 0)

    @contextmanager
    def _savepoint(self, name: str) -> Iterator[sqlite3.Connection]:
        c = self.conn
        c.execute(f"SAVEPOINT {name}")
        try:
            yield c
        except BaseException:
            if c.in_transaction:  # SQLite may have rolled back on its own (disk full, ...)
                c.execute(f"ROLLBACK TO {name}")
                c.execute(f"RELEASE {name}")
            raise
        c.execute(f"RELEASE {name}")

    def test_id(self, testname: str, item_path: str = "") -> int | None:
        row = self.conn.execute(
            "SELECT id FROM tests WHERE run_id=? AND testname=? AND item_path=?",
            (self.run_id, testname, item_path),
        ).fetchone()
        return row[0] if row else None

    def known_tests(self, test_ids: Iterable[int]) -> set[int]:
        """The ids among `test_ids` that are rows of this run (a server checks a batch's)."""
        wanted = sorted(set(test_ids))
        if not wanted:
            return set()
        marks = ", ".join("?" * len(wanted))
        rows = self.conn.execute(
            f"SELECT id FROM tests WHERE run_id=? AND id IN ({marks})", (self.run_id, *wanted))
        return {row[0] for row in rows}

    def set_state_status(
        self,
        test_id: int,
        state: str | None = None,
        status: str | None = None,
        comment: str | None = None,
    ) -> model.Rollup | None:
        """Same contract as Store.set_test_state_status."""
        with self._tx() as c:
            row = c.execute(
                "SELECT testname, item_path, state, status FROM tests WHERE id=?", (test_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"run {self.run_id} has no test {test_id}")
            testname, item_path, old_state, old_status = row
            sets: list[str] = []
            args: list[Any] = []
            for column, value in (("state", state), ("status", status), ("comment", comment)):
                if value is not None:
                    sets.append(f"{column}=?")
                    args.append(value)
            if state in model.START_TIME_STATES:
                sets.append("event_time=?")
                args.append(int(time.time()))
            if sets:
                c.execute(f"UPDATE tests SET {', '.join(sets)}, {_STAMP} WHERE id=?", (*args, test_id))
            parent = None
            if item_path:
                parent = self._roll_up_parent(
                    test_id, testname,
                    state if state is not None else old_state,
                    status if status is not None else old_status,
                )
            if status == "AUTO":
                self._data_rollup(test_id)
        return parent

    def apply(self, entries: Sequence[Write]) -> None:
        """Write merged row patches and the other writes in order, inside a batch.

        A patch is one UPDATE of its row; an item's parent is rolled up once per run of its
        items' patches, from the item changed last (`seq`), before any other write that reads
        or rewrites a row and at the end, which leaves the parent as item-by-item writing
        would (callers close the open patches of a test's items before queueing another write
        for any of them). A patch of a row that does not exist is a StoreError (the whole
        batch rolls back)."""
        if not self.in_batch:
            raise UsageError("TestWriter.apply must run inside writer.batch()")
        self._applying = True
        try:
            self._apply(entries)
        finally:
            self._applying = False

    def _apply(self, entries: Sequence[Any]) -> None:
        # the runner's batches only: a helper process (one write) never loads the write types
        from megatest.store.writes import (
            DataWrite,
            FieldsWrite,
            HeartbeatWrite,
            RowPatch,
            StateWrite,
            StepWrite,
        )

        dirty: dict[str, RowPatch] = {}  # testname -> its last patched item
        # step rows touch no test row: written together (in their own order) before the next
        # other write and at the end
        steps: list[tuple[Any, ...]] = []
        for entry in entries:
            kind = type(entry)
            if kind is RowPatch:
                self._patch_row(entry)
                last = dirty.get(entry.testname)
                if entry.item_path and (last is None or entry.seq > last.seq):
                    dirty[entry.testname] = entry
                continue
            if kind is StepWrite:
                steps.append(_step_values(*entry))
                continue
            self._roll_up_parents(dirty)
            self._write_steps(steps)
            if kind is FieldsWrite:
                self.update_fields(entry.test_id, **entry.fields)
            elif kind is StateWrite:
                self.set_state_status(*entry)
            elif kind is DataWrite:
                self.add_test_data(entry.test_id, entry.rows)
            elif kind is HeartbeatWrite:
                self.heartbeat(entry.test_id, cpuload=entry.cpuload, diskfree=entry.diskfree)
            else:
                raise TypeError(f"not a store write: {entry!r}")
        self._roll_up_parents(dirty)
        self._write_steps(steps)

    def _write_steps(self, steps: list[tuple[Any, ...]]) -> None:
        if steps:
            self.conn.executemany(_STEP_UPSERT, steps)
            steps.clear()

    def _patch_row(self, patch: RowPatch) -> None:
        columns = {
            column: value
            for column, value in (("state", patch.state), ("status", patch.status),
                                  ("comment", patch.comment), ("event_time", patch.started))
            if value is not None
        }
        if patch.fields:
            columns.update(_field_columns(patch.fields))  # written after the states, as before
        if not columns:
            return
        if self._update_row(patch.test_id, columns, guarded=patch.guarded):
            return
        if self.conn.execute("SELECT 1 FROM tests WHERE id=?", (patch.test_id,)).fetchone() is None:
            raise StoreError(f"run {self.run_id} has no test {patch.test_id}")
        # someone else moved the row on: its state stays, the plain columns are still ours
        if patch.fields:
            self._update_row(patch.test_id, _field_columns(patch.fields), guarded=False)

    def _update_row(self, test_id: int, columns: Mapping[str, Any], *, guarded: bool) -> bool:
        names = sorted(columns)  # names come from allow-lists, never from input
        where = "id=?"
        if guarded:
            where += f" AND state IN ({', '.join('?' * len(_STARTABLE))})"
        cursor = self.conn.execute(
            f"UPDATE tests SET {', '.join(f'{k}=?' for k in names)}, {_STAMP} WHERE {where}",
            (*(columns[k] for k in names), test_id, *(_STARTABLE if guarded else ())),
        )
        return cursor.rowcount > 0

    def _roll_up_parents(self, dirty: dict[str, RowPatch]) -> None:
        for testname, patch in dirty.items():
            # the item's row as written (a guarded patch may have left someone else's state)
            state, status = self.conn.execute(
                "SELECT state, status FROM tests WHERE id=?", (patch.test_id,)
            ).fetchone()
            self._roll_up_parent(patch.test_id, testname, state, status)
        dirty.clear()

    def _roll_up_parent(
        self, test_id: int, testname: str, state: str | None, status: str | None
    ) -> model.Rollup:
        """The parent row of an item just written as (state, status), rolled up."""
        if self._counted:
            siblings = self.conn.execute(item_counts.SIBLINGS, (testname, state, status)).fetchall()
        else:
            siblings = self.conn.execute(_SIBLINGS, (self.run_id, testname, test_id)).fetchall()
        parent = model.item_rollup(state, status, siblings)
        psets = [(k, v) for k, v in (("state", parent.state), ("status", parent.status))
                 if v is not None]
        if psets:
            self.conn.execute(
                f"UPDATE tests SET {', '.join(f'{k}=?' for k, _ in psets)}, {_STAMP} "
                "WHERE run_id=? AND testname=? AND item_path=''",
                (*(v for _, v in psets), self.run_id, testname),
            )
        return parent

    def update_fields(self, test_id: int, **fields: Any) -> None:
        """Same contract as Store.update_test_fields: plain columns of a test row (host,
        rundir, run_duration, ...); `pid=` is stored in attemptnum, as the original does."""
        fields = _field_columns(fields)
        if not fields:
            return
        columns = sorted(fields)  # names come from the allow-list above, never from input
        with self._tx() as c:
            c.execute(
                f"UPDATE tests SET {', '.join(f'{k}=?' for k in columns)}, {_STAMP} WHERE id=?",
                (*(fields[k] for k in columns), test_id),
            )

    def add_step(
        self,
        test_id: int,
        stepname: str,
        state: str,
        status: str,
        logfile: str = "",
        comment: str = "",
        *,
        event_time: int | None = None,
    ) -> None:
        """One row per (step, state); re-writing the same state updates it."""
        with self._tx():
            self._upsert_step(test_id, stepname, state, status, logfile, comment,
                              event_time=event_time)

    def _upsert_step(
        self, test_id: int, stepname: str, state: str, status: str, logfile: str = "",
        comment: str = "", *, event_time: int | None = None,
    ) -> None:
        self.conn.execute(_STEP_UPSERT, _step_values(test_id, stepname, state, status, logfile,
                                                     comment, event_time=event_time))

    def add_test_data(self, test_id: int, rows: Iterable[Mapping[str, Any]]) -> str | None:
        """Rows are mappings with DATA_FIELDS keys; same judging and rollup as the Store."""
        with self._tx() as c:
            for row in rows:
                r = {k: row.get(k) for k in DATA_FIELDS}
                r["status"] = model.test_data_status(
                    r["value"], r["expected"], r["tol"], r["status"]) or "n/a"
                c.execute(_DATA_UPSERT, (
                    test_id, r["category"] or "", r["variable"], r["value"], r["expected"],
                    r["tol"], r["units"], r["comment"] or "", r["status"], r["type"] or "",
                ))
            return self._data_rollup(test_id)

    def _data_rollup(self, test_id: int) -> str | None:
        passes, fails = self.conn.execute(
            "SELECT count(*) FILTER (WHERE status LIKE 'pass'), "
            "count(*) FILTER (WHERE status LIKE 'fail') FROM test_data WHERE test_id=?",
            (test_id,),
        ).fetchone()
        current = self.conn.execute("SELECT status FROM tests WHERE id=?", (test_id,)).fetchone()
        new_status = model.test_data_rollup(current[0] if current else None, passes, fails)
        self.conn.execute(
            f"UPDATE tests SET pass_count=?, fail_count=?, status=?, {_STAMP} WHERE id=?",
            (passes, fails, new_status, test_id),
        )
        return new_status

    def heartbeat(
        self,
        test_id: int,
        *,
        cpuload: float | None = None,
        diskfree: int | None = None,
        diskusage: int | None = None,
        now: int | None = None,
    ) -> int:
        """Same contract as Store.heartbeat."""
        now = int(time.time()) if now is None else now
        with self._tx() as c:
            row = c.execute("SELECT event_time FROM tests WHERE id=?", (test_id,)).fetchone()
            if row is None or row[0] is None:
                raise StoreError(f"run {self.run_id} has no test {test_id}")
            duration = max(0, now - int(row[0]))
            c.execute(
                "UPDATE tests SET run_duration=?, cpuload=coalesce(?, cpuload), "
                f"diskfree=coalesce(?, diskfree), {_STAMP} WHERE id=?",
                (duration, cpuload, diskfree, test_id),
            )
            c.execute(
                "INSERT INTO test_rundat (test_id, update_time, cpuload, diskfree, diskusage, "
                "run_duration) VALUES (?,?,?,?,?,?)",
                (test_id, now, -1 if cpuload is None else cpuload,
                 -1 if diskfree is None else diskfree, -1 if diskusage is None else diskusage,
                 duration),
            )
        return duration


def _step_values(
    test_id: int, stepname: str, state: str, status: str, logfile: str = "", comment: str = "",
    *, event_time: int | None = None,
) -> tuple[Any, ...]:
    """The _STEP_UPSERT parameters of one step row (stamped now unless `event_time`)."""
    stamp = int(time.time()) if event_time is None else event_time
    return (test_id, stepname, state, str(status), stamp, comment or "", logfile or "")


def _field_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """update_fields' names as columns (`pid` is stored in attemptnum), checked."""
    columns = dict(fields)
    if "pid" in columns:
        columns["attemptnum"] = columns.pop("pid")
    unknown = set(columns) - UPDATABLE_TEST_FIELDS
    if unknown:
        raise UsageError(f"cannot set test field(s) {', '.join(sorted(unknown))}")
    return columns


class _CallTx:
    """BEGIN IMMEDIATE ... COMMIT around one call, or SAVEPOINT ... RELEASE inside a batch.
    A plain class, not a generator context manager: it runs for every write of a run."""

    __slots__ = ("conn", "savepoint")

    def __init__(self, conn: sqlite3.Connection, savepoint: bool):
        self.conn = conn
        self.savepoint = savepoint

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("SAVEPOINT mt_call" if self.savepoint else "BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        c = self.conn
        if exc_type is None:
            c.execute("RELEASE mt_call" if self.savepoint else "COMMIT")
        elif c.in_transaction:  # SQLite may have rolled back on its own (disk full, ...)
            if self.savepoint:
                c.execute("ROLLBACK TO mt_call")
                c.execute("RELEASE mt_call")
            else:
                c.execute("ROLLBACK")
