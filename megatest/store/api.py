"""SqliteStore: the Store protocol (megatest.store.interface) on the area's SQLite files.

    store = open_store(area_root, fields=[("SYSTEM", "TEXT"), ("RELEASE", "TEXT")])
    run_id = store.get_or_create_run({"SYSTEM": "ubuntu", "RELEASE": "v1"}, "nightly")
    test_id = store.get_or_create_test(run_id, "compile", "")
    ids = store.register_tests(run_id, [("compile", ""), ("unit", "a/1")])  # one transaction
    store.set_test_state_status(run_id, test_id, "COMPLETED", "PASS")
    store.rollup_run(run_id)

`SqliteStore` is megatest.store.lean.LeanStore (runs, tests, rollups, test_meta, vars: the part the
runner and the run/query commands use) plus the per-test records only tests, reports and
`megatest db` need: steps, test data, heartbeats and dead-test detection. There is one
implementation of every method, on stdlib sqlite3; SQLAlchemy Core stays the schema definition
(megatest.store.schema) and drives Alembic, and is only imported to build or migrate a db.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from megatest.store import state as model
from megatest.store.lean import LeanStore, name_where
from megatest.store.records import StepRecord, TestDataRecord, TestDataRow

# Columns the methods below read (tests/store/test_lean_store.py checks them against
# megatest.store.schema); their writes go through megatest.store.testwrite.TestWriter.
STEP_COLUMNS: tuple[str, ...] = tuple(StepRecord.__dataclass_fields__)
DATA_COLUMNS: tuple[str, ...] = tuple(TestDataRecord.__dataclass_fields__)
_DEAD_CANDIDATE_STATES = ("RUNNING", "REMOTEHOSTSTART", "LAUNCHED")


class SqliteStore(LeanStore):
    """An area's databases. Built by `megatest.store.open_store`; close with `close()` (or a
    with-block)."""

    # ------------------------------------------------------------------ liveness
    def heartbeat(
        self,
        run_id: int,
        test_id: int,
        *,
        cpuload: float | None = None,
        diskfree: int | None = None,
        diskusage: int | None = None,
        now: int | None = None,
    ) -> int:
        """A running test is alive: run_duration := now - event_time (so event_time +
        run_duration is the last heartbeat) and one test_rundat row. Returns run_duration."""
        return self.run_writer(run_id).heartbeat(
            test_id, cpuload=cpuload, diskfree=diskfree, diskusage=diskusage, now=now)

    def find_dead_tests(
        self, run_id: int, deadtime: int = model.DEFAULT_DEADTIME, now: int | None = None
    ) -> list[int]:
        """Ids of tests whose heartbeat stopped (model.is_dead); never-run rows are skipped."""
        now = int(time.time()) if now is None else now
        marks = ", ".join("?" * len(_DEAD_CANDIDATE_STATES))
        with self._run_read(run_id) as c:
            rows = c.execute(
                "SELECT id, state, event_time, run_duration, uname, item_path FROM tests "
                f"WHERE run_id=? AND state IN ({marks}) ORDER BY id",
                (run_id, *_DEAD_CANDIDATE_STATES)).fetchall()
        return [test_id for test_id, state, started, duration, uname, item_path in rows
                if not model.is_never_run_row(uname, item_path)
                and model.is_dead(state, started, duration, now, deadtime)]

    def mark_dead_tests(
        self, run_id: int, deadtime: int = model.DEFAULT_DEADTIME, now: int | None = None
    ) -> list[int]:
        """Set every dead test to COMPLETED/DEAD (with the item rollup); returns their ids."""
        dead = self.find_dead_tests(run_id, deadtime, now)
        for test_id in dead:
            self.set_test_state_status(run_id, test_id, "COMPLETED", "DEAD", model.DEAD_COMMENT)
        return dead

    # ------------------------------------------------------------------ steps
    def add_step(
        self,
        run_id: int,
        test_id: int,
        stepname: str,
        state: str,
        status: str,
        logfile: str = "",
        comment: str = "",
        *,
        event_time: int | None = None,
    ) -> None:
        """Record a step row; one row per (step, state), re-writing the same state updates it."""
        self.run_writer(run_id).add_step(test_id, stepname, state, status, logfile, comment,
                                      event_time=event_time)

    def get_steps(self, run_id: int, test_id: int) -> list[StepRecord]:
        with self._run_read(run_id) as c:
            rows = c.execute(
                f"SELECT {', '.join(STEP_COLUMNS)} FROM test_steps "
                "WHERE test_id=? AND status!='DELETED' ORDER BY id", (test_id,)).fetchall()
        return [StepRecord(*row) for row in rows]

    # ------------------------------------------------------------------ test data
    def add_test_data(
        self, run_id: int, test_id: int, rows: Iterable[TestDataRow | dict[str, Any]]
    ) -> str | None:
        """Add (or replace, per category+variable) test_data rows, judging pass/fail where no
        status is given, then roll the counts up into the test. Returns the test's status.
        A dict row takes TestDataRow's field names (an unknown name is a TypeError)."""
        mappings = [asdict(r if isinstance(r, TestDataRow) else TestDataRow(**r)) for r in rows]
        return self.run_writer(run_id).add_test_data(test_id, mappings)

    def get_test_data(
        self, run_id: int, test_id: int, category_patt: str | None = None
    ) -> list[TestDataRecord]:
        """A test's data rows (categories matching `category_patt`), by category, variable."""
        return self._data_rows(run_id, "test_id=?", [test_id], category_patt)

    def get_run_data(
        self, run_id: int, category_patt: str | None = None
    ) -> dict[int, list[TestDataRecord]]:
        """Every test's data rows of the run in one read: test id -> its rows, by category,
        variable (a listing over many tests, without a query per test)."""
        by_test: dict[int, list[TestDataRecord]] = {}
        for rec in self._data_rows(run_id, "1", [], category_patt):
            by_test.setdefault(rec.test_id, []).append(rec)
        return by_test

    def _data_rows(self, run_id: int, where: str, args: list[Any],
                   category_patt: str | None) -> list[TestDataRecord]:
        category = name_where("category", category_patt)
        if category is not None:
            where, args = f"{where} AND {category[0]}", [*args, *category[1]]
        with self._run_read(run_id) as c:
            rows = c.execute(
                f"SELECT {', '.join(DATA_COLUMNS)} FROM test_data WHERE {where} "
                "ORDER BY category, variable", args).fetchall()
        return [TestDataRecord(*row) for row in rows]
