"""The Store: the only way the rest of megatest reads or writes run and test records.

    store = Store.open(area_root, fields=[("SYSTEM", "TEXT"), ("RELEASE", "TEXT")])
    run_id = store.get_or_create_run({"SYSTEM": "ubuntu", "RELEASE": "v1"}, "nightly")
    test_id = store.get_or_create_test(run_id, "compile", "")
    ids = store.register_tests(run_id, [("compile", ""), ("unit", "a/1")])  # one transaction
    store.set_test_state_status(run_id, test_id, "COMPLETED", "PASS")
    store.rollup_run(run_id)

Every read-modify-write runs inside BEGIN IMMEDIATE on the file it changes. Item rollups
(reference 3.1) happen in the same transaction as the item write.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from megatest.errors import StoreError, UsageError
from megatest.store import migrations, paths, register, schema
from megatest.store import state as model
from megatest.store import testpatt as tp
from megatest.store.columns import TEST_META_FIELDS
from megatest.store.engines import read_tx, write_tx
from megatest.store.keys_schema import ensure_keys, stored_keys
from megatest.store.lean import init_main, normalize_fields
from megatest.store.records import (
    RunRecord,
    StepRecord,
    TestDataRecord,
    TestDataRow,
    TestRecord,
    from_row,
)
from megatest.store.router import DbRouter
from megatest.store.testwrite import UPDATABLE_TEST_FIELDS

T = schema.tests
STEPS = schema.test_steps
DATA = schema.test_data


def _now() -> int:
    return int(time.time())


class Store:
    """An area's databases. Open with `Store.open`; close with `close()` (or a with-block)."""

    def __init__(self, area_root: Path, router: DbRouter, keys: list[str]):
        self.area_root = area_root
        self.router = router
        self.keys = keys
        self._runs = schema.runs_table(keys)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        area_root: str | Path,
        fields: Sequence[str] | Sequence[tuple[str, str]] | None = None,
        create: bool = True,
    ) -> Store:
        """Open an area's store. `fields` = the area's [fields] keys (names, or (name, type)
        pairs, in order); a new area gets main.db at the head revision with those keys.
        Without `fields` the keys stored in main.db are used."""
        area = Path(area_root).resolve()
        db_dir = paths.db_dir(area)
        main_path = db_dir / paths.MAIN_DB_NAME
        wanted = normalize_fields(fields)
        if not main_path.is_file():
            if paths.legacy_db(area).is_file():
                raise StoreError(
                    f"{paths.legacy_db(area)}: legacy single-file database; "
                    "run `megatest db migrate` to convert it"
                )
            if not create:
                raise StoreError(f"{main_path}: no database (the area has no runs yet)")
            migrations.build_at_head(main_path, "main", prepare=lambda p: init_main(p, wanted))
        revision = migrations.current(main_path)
        if revision != migrations.head("main"):
            raise StoreError(
                f"{main_path}: schema revision {revision} is not {migrations.head('main')}; "
                "run `megatest db migrate`"
            )
        router = DbRouter(db_dir)
        with (write_tx if wanted else read_tx)(router.main()) as conn:
            ex = conn.exec_driver_sql
            keys = ensure_keys(ex, wanted) if wanted else stored_keys(ex)
        return cls(area, router, keys)

    def close(self) -> None:
        self.router.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ metadata
    def set_var(self, var: str, val: Any) -> None:
        md = schema.metadat
        with write_tx(self.router.main()) as conn:
            conn.execute(md.delete().where(md.c.var == var))
            conn.execute(md.insert().values(var=var, val=str(val)))

    def get_var(self, var: str) -> str | None:
        md = schema.metadat
        with read_tx(self.router.main()) as conn:
            return conn.execute(sa.select(md.c.val).where(md.c.var == var)).scalar()

    # ------------------------------------------------------------------ runs
    def _key_filter(self, keyvals: dict[str, str]) -> sa.ColumnElement[bool]:
        missing = [k for k in self.keys if k not in keyvals]
        extra = [k for k in keyvals if k not in self.keys]
        if missing or extra:
            raise UsageError(
                f"target keys {list(keyvals)} do not match the area's [fields] {self.keys}"
            )
        return sa.and_(*(self._runs.c[k] == str(keyvals[k]) for k in self.keys))

    def get_or_create_run(
        self,
        keyvals: dict[str, str],
        runname: str,
        *,
        state: str = "new",
        status: str = "n/a",
        owner: str | None = None,
        contour: str = "",
    ) -> int:
        """The id of the run (target, runname), registering it when new. A run left in state
        'deleted' is revived with the given state and status (as the original does)."""
        r = self._runs
        where = sa.and_(self._key_filter(keyvals), r.c.runname == runname)
        with write_tx(self.router.main()) as conn:
            row = conn.execute(sa.select(r.c.id, r.c.state).where(where)).first()
            if row is not None:
                run_id = row.id
                if row.state == "deleted":
                    conn.execute(
                        r.update().where(r.c.id == run_id).values(state=state, status=status)
                    )
            else:
                values = {k: str(keyvals[k]) for k in self.keys}
                run_id = conn.execute(
                    r.insert().values(
                        runname=runname, state=state, status=status, contour=contour,
                        owner=owner if owner is not None else getpass.getuser(),
                        event_time=_now(), **values,
                    )
                ).inserted_primary_key[0]
        self.router.run(run_id, create=True)
        return int(run_id)

    def _run_record(self, row) -> RunRecord:
        m = row._mapping
        return RunRecord(
            id=m["id"], keys={k: m[k] for k in self.keys}, runname=m["runname"],
            state=m["state"], status=m["status"], owner=m["owner"], event_time=m["event_time"],
            comment=m["comment"], fail_count=m["fail_count"], pass_count=m["pass_count"],
            contour=m["contour"], last_update=m["last_update"], end_time=m["end_time"],
            locked=bool(m["locked"]),
        )

    def get_run(self, run_id: int) -> RunRecord | None:
        with read_tx(self.router.main()) as conn:
            row = conn.execute(sa.select(self._runs).where(self._runs.c.id == run_id)).first()
        return self._run_record(row) if row is not None else None

    def find_runs(
        self,
        target_patt: str | None = None,
        runname_patt: str | None = None,
        *,
        include_deleted: bool = False,
        newest_first: bool = False,
    ) -> list[RunRecord]:
        """Runs whose target and runname match the patterns (LIKE when a part holds %, else
        GLOB), oldest event_time first (get-runs-by-patt) unless newest_first."""
        r = self._runs
        q = sa.select(r).where(
            tp.target_filter([r.c[k] for k in self.keys], target_patt),
            tp.name_filter(r.c.runname, runname_patt),
        )
        if not include_deleted:
            q = q.where(r.c.state != "deleted")
        order = (r.c.event_time.desc(), r.c.id.desc()) if newest_first else (r.c.event_time, r.c.id)
        with read_tx(self.router.main()) as conn:
            return [self._run_record(row) for row in conn.execute(q.order_by(*order))]

    def set_run_state_status(
        self, run_id: int, state: str | None = None, status: str | None = None,
        comment: str | None = None,
    ) -> None:
        values = {k: v for k, v in (("state", state), ("status", status), ("comment", comment))
                  if v is not None}
        if values:
            with write_tx(self.router.main()) as conn:
                conn.execute(self._runs.update().where(self._runs.c.id == run_id).values(**values))

    def _set_lock(self, run_id: int, locked: bool, user: str | None) -> None:
        r, log = self._runs, schema.access_log
        with write_tx(self.router.main()) as conn:
            conn.execute(r.update().where(r.c.id == run_id).values(locked=int(locked)))
            conn.execute(log.insert().values(
                user=user or getpass.getuser(), accessed=_now(),
                args=f"{'locked' if locked else 'unlocked'} {run_id}",
            ))

    def lock_run(self, run_id: int, user: str | None = None) -> None:
        self._set_lock(run_id, True, user)

    def unlock_run(self, run_id: int, user: str | None = None) -> None:
        self._set_lock(run_id, False, user)

    def is_locked(self, run_id: int) -> bool:
        with read_tx(self.router.main()) as conn:
            return bool(conn.execute(
                sa.select(self._runs.c.locked).where(self._runs.c.id == run_id)).scalar())

    def remove_run(self, run_id: int) -> None:
        """Delete the run row, its stats and test ids, and its db file."""
        with write_tx(self.router.main()) as conn:
            conn.execute(self._runs.delete().where(self._runs.c.id == run_id))
            conn.execute(schema.run_stats.delete().where(schema.run_stats.c.run_id == run_id))
            conn.execute(schema.test_ids.delete().where(schema.test_ids.c.run_id == run_id))
        self.router.drop_run(run_id)

    def rollup_run(self, run_id: int) -> model.RunRollup | None:
        """Set the run's state, status, end_time and pass/fail counts from its top-level tests
        and refresh its run_stats histogram (see model.run_rollup)."""
        with read_tx(self.router.run(run_id)) as conn:
            tops = conn.execute(
                sa.select(T.c.state, T.c.status, T.c.event_time, T.c.run_duration)
                .where(T.c.run_id == run_id, T.c.item_path == "").order_by(T.c.id)
            ).all()
            stats = conn.execute(
                sa.select(T.c.state, T.c.status, sa.func.count())
                .where(T.c.run_id == run_id, sa.not_(sa.and_(T.c.uname == "n/a", T.c.item_path == "")))
                .group_by(T.c.state, T.c.status).order_by(T.c.state, T.c.status)
            ).all()
        verdict = model.run_rollup([model.TestSummary(*t) for t in tops])
        rs = schema.run_stats
        with write_tx(self.router.main()) as conn:
            if verdict is not None:
                values: dict[str, Any] = {
                    "end_time": verdict.end_time, "pass_count": verdict.pass_count,
                    "fail_count": verdict.fail_count,
                }
                if verdict.state is not None:
                    values["state"] = verdict.state
                if verdict.status is not None:
                    values["status"] = verdict.status
                conn.execute(self._runs.update().where(self._runs.c.id == run_id).values(**values))
            conn.execute(rs.delete().where(rs.c.run_id == run_id))
            for st, stt, count in stats:
                conn.execute(rs.insert().values(run_id=run_id, state=st, status=stt, count=count))
        return verdict

    def get_run_stats(self, run_id: int) -> list[tuple[str, str, int]]:
        rs = schema.run_stats
        with read_tx(self.router.main()) as conn:
            return [tuple(r) for r in conn.execute(
                sa.select(rs.c.state, rs.c.status, rs.c["count"])
                .where(rs.c.run_id == run_id).order_by(rs.c.state, rs.c.status))]

    # ------------------------------------------------------------------ tests
    def register_tests(
        self,
        run_id: int,
        pairs: Iterable[tuple[str, str]],
        *,
        state: str = "NOT_STARTED",
        status: str = "n/a",
        comment: str | None = None,
    ) -> dict[tuple[str, str], int]:
        """{(testname, item_path): test_id} for every pair, registering the missing rows with
        `state`/`status`/`comment` in ONE transaction (test id allocation in main.db included).
        An item's top-level (parent) row is registered too, as NOT_STARTED/n/a, and is in
        the result. Rows that exist keep their values (idempotent)."""
        self.router.run(run_id, create=True)
        return register.register_tests(
            self.router.main_path, self.router.run_path(run_id), run_id, pairs,
            state=state, status=status, comment=comment,
        )

    def get_or_create_test(
        self,
        run_id: int,
        testname: str,
        item_path: str = "",
        *,
        state: str = "NOT_STARTED",
        status: str = "n/a",
        comment: str | None = None,
    ) -> int:
        """The id of (testname, item_path) in the run, registering it as NOT_STARTED/n/a when
        new. Registering an item also registers its top-level (parent) row."""
        key = (testname, item_path or "")
        return self.register_tests(run_id, [key], state=state, status=status,
                                   comment=comment)[key]

    def test_run_id(self, test_id: int) -> int | None:
        """The run that holds a test id (test ids are unique in the whole area)."""
        ti = schema.test_ids
        with read_tx(self.router.main()) as conn:
            return conn.execute(sa.select(ti.c.run_id).where(ti.c.id == test_id)).scalar()

    def get_test(self, run_id: int, test_id: int) -> TestRecord | None:
        with read_tx(self.router.run(run_id)) as conn:
            row = conn.execute(sa.select(T).where(T.c.id == test_id)).first()
        return from_row(TestRecord, row) if row is not None else None

    def get_test_by_name(self, run_id: int, testname: str, item_path: str = "") -> TestRecord | None:
        with read_tx(self.router.run(run_id)) as conn:
            row = conn.execute(sa.select(T).where(
                T.c.run_id == run_id, T.c.testname == testname, T.c.item_path == item_path)).first()
        return from_row(TestRecord, row) if row is not None else None

    def get_tests(
        self,
        run_id: int,
        testpatt: str | None = None,
        states: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        *,
        not_in: bool = False,
        include_deleted: bool = False,
        since: int | None = None,
    ) -> list[TestRecord]:
        """Tests of a run, ordered by testname then item_path (the -list-runs order).
        `states`/`statuses` keep rows IN the lists (NOT IN with not_in); DELETED rows are left
        out unless include_deleted; `since` keeps rows with last_update >= since."""
        q = sa.select(T).where(T.c.run_id == run_id, tp.test_filter(
            T.c.testname, T.c.item_path, testpatt))
        for column, values in ((T.c.state, states), (T.c.status, statuses)):
            values = list(values or ())
            if values:
                q = q.where(column.not_in(values) if not_in else column.in_(values))
        if not include_deleted:
            q = q.where(T.c.state != "DELETED")
        if since is not None:
            q = q.where(T.c.last_update >= since)
        with read_tx(self.router.run(run_id)) as conn:
            rows = conn.execute(q.order_by(T.c.testname, T.c.item_path)).all()
        return [from_row(TestRecord, r) for r in rows]

    def set_test_state_status(
        self,
        run_id: int,
        test_id: int,
        state: str | None = None,
        status: str | None = None,
        comment: str | None = None,
    ) -> model.Rollup | None:
        """Write a test's state/status/comment (None = unchanged) and, for an item, recompute
        its parent in the same transaction. Returns the parent's new values (None: no item)."""
        with write_tx(self.router.run(run_id)) as conn:
            return _set_state_status(conn, run_id, test_id, state, status, comment)

    def set_tests_state_status(
        self,
        run_id: int,
        changes: Iterable[tuple[int, str | None, str | None, str | None]],
    ) -> list[model.Rollup | None]:
        """Many set_test_state_status calls, (test_id, state, status, comment) each, in order
        and in ONE transaction (each item's parent rolled up as it goes); all or nothing."""
        changes = list(changes)
        if not changes:
            return []
        with write_tx(self.router.run(run_id)) as conn:
            return [_set_state_status(conn, run_id, test_id, state, status, comment)
                    for test_id, state, status, comment in changes]

    def update_test_fields(self, run_id: int, test_id: int, **fields: Any) -> None:
        """Set plain columns of a test row (host, rundir, run_duration, final_logf, ...).
        `pid=` is stored in attemptnum, as the original does."""
        if "pid" in fields:
            fields["attemptnum"] = fields.pop("pid")
        unknown = set(fields) - UPDATABLE_TEST_FIELDS
        if unknown:
            raise UsageError(f"cannot set test field(s) {', '.join(sorted(unknown))}")
        if fields:
            with write_tx(self.router.run(run_id)) as conn:
                conn.execute(T.update().where(T.c.id == test_id).values(**fields))

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
        now = _now() if now is None else now
        with write_tx(self.router.run(run_id)) as conn:
            started = conn.execute(sa.select(T.c.event_time).where(T.c.id == test_id)).scalar()
            if started is None:
                raise StoreError(f"run {run_id} has no test {test_id}")
            duration = max(0, now - int(started))
            values: dict[str, Any] = {"run_duration": duration}
            if cpuload is not None:
                values["cpuload"] = cpuload
            if diskfree is not None:
                values["diskfree"] = diskfree
            conn.execute(T.update().where(T.c.id == test_id).values(**values))
            conn.execute(schema.test_rundat.insert().values(
                test_id=test_id, update_time=now, cpuload=-1 if cpuload is None else cpuload,
                diskfree=-1 if diskfree is None else diskfree,
                diskusage=-1 if diskusage is None else diskusage, run_duration=duration))
        return duration

    def find_dead_tests(
        self, run_id: int, deadtime: int = model.DEFAULT_DEADTIME, now: int | None = None
    ) -> list[int]:
        """Ids of tests whose heartbeat stopped (model.is_dead); placeholders are skipped."""
        now = _now() if now is None else now
        with read_tx(self.router.run(run_id)) as conn:
            rows = conn.execute(sa.select(
                T.c.id, T.c.state, T.c.event_time, T.c.run_duration, T.c.uname, T.c.item_path
            ).where(T.c.run_id == run_id,
                    T.c.state.in_(("RUNNING", "REMOTEHOSTSTART", "LAUNCHED")))).all()
        return [r.id for r in rows
                if not model.is_placeholder(r.uname, r.item_path)
                and model.is_dead(r.state, r.event_time, r.run_duration, now, deadtime)]

    def mark_dead_tests(
        self, run_id: int, deadtime: int = model.DEFAULT_DEADTIME, now: int | None = None
    ) -> list[int]:
        """Set every dead test to COMPLETED/DEAD (with the item rollup); returns their ids."""
        dead = self.find_dead_tests(run_id, deadtime, now)
        for test_id in dead:
            self.set_test_state_status(run_id, test_id, "COMPLETED", "DEAD", model.DEAD_COMMENT)
        return dead

    def request_kill(self, run_id: int, test_id: int) -> None:
        """Ask the test's monitor to kill it: state KILLREQ (status unchanged)."""
        self.set_test_state_status(run_id, test_id, "KILLREQ", None)

    def kill_requested(self, run_id: int, test_id: int) -> bool:
        with read_tx(self.router.run(run_id)) as conn:
            return conn.execute(sa.select(T.c.state).where(T.c.id == test_id)).scalar() == "KILLREQ"

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
        from sqlalchemy.dialects.sqlite import insert

        values = dict(test_id=test_id, stepname=stepname, state=state, status=str(status),
                      logfile=logfile or "", comment=comment or "",
                      event_time=_now() if event_time is None else event_time)
        stmt = insert(STEPS).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["test_id", "stepname", "state"],
            set_={k: stmt.excluded[k] for k in ("status", "logfile", "comment", "event_time")},
        )
        with write_tx(self.router.run(run_id)) as conn:
            conn.execute(stmt)

    def get_steps(self, run_id: int, test_id: int) -> list[StepRecord]:
        with read_tx(self.router.run(run_id)) as conn:
            rows = conn.execute(sa.select(STEPS).where(
                STEPS.c.test_id == test_id, STEPS.c.status != "DELETED").order_by(STEPS.c.id)).all()
        return [from_row(StepRecord, r) for r in rows]

    # ------------------------------------------------------------------ test data
    def add_test_data(
        self, run_id: int, test_id: int, rows: Iterable[TestDataRow | dict[str, Any]]
    ) -> str | None:
        """Add (or replace, per category+variable) test_data rows, judging pass/fail where no
        status is given, then roll the counts up into the test. Returns the test's status."""
        from sqlalchemy.dialects.sqlite import insert

        with write_tx(self.router.run(run_id)) as conn:
            for row in rows:
                r = row if isinstance(row, TestDataRow) else TestDataRow(**row)
                values = dict(
                    test_id=test_id, category=r.category or "", variable=r.variable,
                    value=r.value, expected=r.expected, tol=r.tol, units=r.units,
                    comment=r.comment or "", type=r.type or "",
                    status=model.test_data_status(r.value, r.expected, r.tol, r.status) or "n/a",
                )
                stmt = insert(DATA).values(**values)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["test_id", "category", "variable"],
                    set_={k: stmt.excluded[k] for k in values if k not in ("test_id", "category", "variable")},
                )
                conn.execute(stmt)
            return _test_data_rollup(conn, test_id)

    def get_test_data(self, run_id: int, test_id: int, category_patt: str | None = None) -> list[TestDataRecord]:
        with read_tx(self.router.run(run_id)) as conn:
            rows = conn.execute(sa.select(DATA).where(
                DATA.c.test_id == test_id, tp.name_filter(DATA.c.category, category_patt)
            ).order_by(DATA.c.category, DATA.c.variable)).all()
        return [from_row(TestDataRecord, r) for r in rows]

    # ------------------------------------------------------------------ test_meta
    def set_test_meta(self, testname: str, **fields: Any) -> None:
        self.set_test_meta_many({testname: fields})

    def set_test_meta_many(self, metas: Mapping[str, Mapping[str, Any]]) -> None:
        """test_meta rows of many tests ({testname: {field: value}}) in one transaction; a
        test's row is created when missing, else only the given fields change."""
        for fields in metas.values():
            unknown = set(fields) - TEST_META_FIELDS
            if unknown:
                raise UsageError(f"unknown test_meta field(s) {', '.join(sorted(unknown))}")
        if not metas:
            return
        tm = schema.test_meta
        with write_tx(self.router.main()) as conn:
            for testname, fields in metas.items():
                exists = conn.execute(
                    sa.select(tm.c.id).where(tm.c.testname == testname)).scalar()
                if exists is None:
                    conn.execute(tm.insert().values(testname=testname, **fields))
                elif fields:
                    conn.execute(tm.update().where(tm.c.id == exists).values(**fields))

    def get_test_meta(self, testname: str) -> dict[str, Any] | None:
        tm = schema.test_meta
        with read_tx(self.router.main()) as conn:
            row = conn.execute(sa.select(tm).where(tm.c.testname == testname)).first()
        return dict(row._mapping) if row is not None else None


# ---------------------------------------------------------------------- shared write bodies
# The hot statements are built once (bound parameters; None = keep the column) so that a
# state change does not pay SQLAlchemy's statement construction each time.
_bp = sa.bindparam
_SELECT_TEST = sa.select(T.c.testname, T.c.item_path, T.c.state, T.c.status).where(
    T.c.id == _bp("tid"))
_UPDATE_TEST = T.update().where(T.c.id == _bp("tid")).values(
    state=sa.func.coalesce(_bp("new_state"), T.c.state),
    status=sa.func.coalesce(_bp("new_status"), T.c.status),
    comment=sa.func.coalesce(_bp("new_comment"), T.c.comment),
    event_time=sa.func.coalesce(_bp("new_event_time"), T.c.event_time),
)
_SIBLINGS = (
    sa.select(T.c.state, T.c.status)
    .where(T.c.run_id == _bp("rid"), T.c.testname == _bp("tname"), T.c.item_path != "",
           T.c.id != _bp("tid"), T.c.state != "DELETED")
    .group_by(T.c.state, T.c.status).order_by(T.c.state, T.c.status)
)
_UPDATE_PARENT = T.update().where(
    T.c.run_id == _bp("rid"), T.c.testname == _bp("tname"), T.c.item_path == ""
).values(
    state=sa.func.coalesce(_bp("new_state"), T.c.state),
    status=sa.func.coalesce(_bp("new_status"), T.c.status),
)


def _set_state_status(
    conn: sa.Connection, run_id: int, test_id: int, new_state: str | None,
    new_status: str | None, comment: str | None,
) -> model.Rollup | None:
    row = conn.execute(_SELECT_TEST, {"tid": test_id}).first()
    if row is None:
        raise StoreError(f"run {run_id} has no test {test_id}")
    if new_state is not None or new_status is not None or comment is not None:
        conn.execute(_UPDATE_TEST, {
            "tid": test_id, "new_state": new_state, "new_status": new_status,
            "new_comment": comment,
            "new_event_time": _now() if new_state in model.START_TIME_STATES else None,
        })
    parent = None
    if row.item_path:
        siblings = conn.execute(
            _SIBLINGS, {"rid": run_id, "tname": row.testname, "tid": test_id}).all()
        parent = model.item_rollup(
            new_state if new_state is not None else row.state,
            new_status if new_status is not None else row.status,
            [(sib.state, sib.status) for sib in siblings],
        )
        if parent.state is not None or parent.status is not None:
            conn.execute(_UPDATE_PARENT, {"rid": run_id, "tname": row.testname,
                                          "new_state": parent.state, "new_status": parent.status})
    if new_status == "AUTO":
        _test_data_rollup(conn, test_id)
    return parent


def _test_data_rollup(conn: sa.Connection, test_id: int) -> str | None:
    counts = conn.execute(sa.select(
        sa.func.count().filter(DATA.c.status.like("pass")),
        sa.func.count().filter(DATA.c.status.like("fail")),
    ).where(DATA.c.test_id == test_id)).first()
    passes, fails = int(counts[0]), int(counts[1])
    current = conn.execute(sa.select(T.c.status).where(T.c.id == test_id)).scalar()
    new_status = model.test_data_rollup(current, passes, fails)
    conn.execute(T.update().where(T.c.id == test_id).values(
        pass_count=passes, fail_count=fails, status=new_status))
    return new_status
