"""LeanStore: runs, tests, rollups, test_meta and run locks of the SQLite store.

Importing SQLAlchemy costs about 0.3 s, more than a whole small run; `runs start`, `runs
wait/kill/get-status`, `query runs/tests` and the in-test helpers open the area's dbs through
this class instead and never import it (nor Alembic) while the dbs are at head. Only creating
main.db (first run of an area) or the area's first run db template goes through Alembic.

This is the one implementation of these methods: megatest.store.api.SqliteStore, the store
`megatest.store.open_store` builds, is this class plus steps, test data and heartbeats. Records come from megatest.store.records, rollups from
megatest.store.state, pattern rules from megatest.config.patterns; every read-modify-write
runs inside BEGIN IMMEDIATE. Test state changes go through TestWriter, the lean writer the
test helpers use.

A LeanStore, like its connections, belongs to the thread that opened it.
"""

from __future__ import annotations

import getpass
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from megatest.config.patterns import DbMatch, db_field_filter, db_filter
from megatest.errors import StoreError, UsageError
from megatest.store import migrations, paths, register, sqlite_conn
from megatest.store import state as model
from megatest.store.columns import RUN_RECORD_COLUMNS, TEST_META_FIELDS, TEST_RECORD_COLUMNS
from megatest.store.keys_schema import ensure_keys, stored_keys
from megatest.store.records import RunRecord, TestRecord
from megatest.store.runlock import RunLock, runner_alive
from megatest.store.testwrite import TestWriter

# Columns this module names, per table (tests/store/test_lean_store.py checks them against
# megatest.store.schema, the one schema definition).
USES: dict[str, tuple[str, ...]] = {
    "runs": RUN_RECORD_COLUMNS,
    "tests": TEST_RECORD_COLUMNS,
    "run_stats": ("run_id", "state", "status", "count"),
    "test_ids": ("id", "run_id"),
    "access_log": ("user", "accessed", "args"),
    "metadat": ("var", "val"),
    "test_meta": ("id", "testname", *sorted(TEST_META_FIELDS)),
}

_RUN_COLS = ", ".join(RUN_RECORD_COLUMNS)
_TEST_COLS = ", ".join(TEST_RECORD_COLUMNS)
Where = tuple[str, list[Any]]


def normalize_fields(
    fields: Sequence[str] | Sequence[tuple[str, str]] | None,
) -> list[tuple[str, str]]:
    """[fields] keys as (name, type) pairs; a bare name is TEXT."""
    out: list[tuple[str, str]] = []
    for f in fields or ():
        out.append((f, "TEXT") if isinstance(f, str) else (f[0], f[1] or "TEXT"))
    return out


def init_main(path: Path, fields: list[tuple[str, str]]) -> None:
    """Prepare a freshly built main.db: keys, and the version marker the original keeps."""
    from megatest import __version__

    conn = sqlite_conn.connect(path)
    try:
        with sqlite_conn.immediate(conn):
            ensure_keys(conn.execute, fields)
            conn.execute("INSERT INTO metadat (var, val) VALUES (?, ?)",
                         ("MEGATEST_VERSION", __version__))
    finally:
        conn.close()


# ---------------------------------------------------------------------- pattern -> SQL
def _match_sql(m: DbMatch) -> Where:
    return f'"{m.column}" {m.op} ?', [m.pattern]


def _or(parts: list[Where]) -> Where:
    return "(" + " OR ".join(sql for sql, _ in parts) + ")", [a for _, args in parts for a in args]


def name_where(column: str, patterns: str | None) -> Where | None:
    """`column` matches one of the comma-separated patterns (LIKE when a pattern holds %,
    else GLOB), as SQL text (None: no condition)."""
    if not patterns:
        return None
    return _or([_match_sql(m) for m in db_field_filter(column, patterns)])


def test_where(testpatt: str | None) -> Where | None:
    """Rows of tests matching a test pattern (`test[/item],...`), as SQL text (None: every
    row)."""
    clauses = db_filter(testpatt) if testpatt else None
    if clauses is None:
        return None
    parts = []
    for c in clauses:
        (ts, ta), (isql, ia) = _match_sql(c.test_name), _match_sql(c.item_path)
        parts.append((f"({ts} AND {isql})", ta + ia))
    return _or(parts)


def target_where(keys: list[str], target_patt: str | None) -> list[Where]:
    """Target pattern `a/b/...` on the key columns: one condition per non-empty part."""
    if not target_patt:
        return []
    out = []
    for key, part in zip(keys, target_patt.split("/"), strict=False):
        if part:
            out.append(name_where(key, part))
    return [w for w in out if w is not None]


_BY_NAME = " ORDER BY testname, item_path"


def _tests_where(
    run_id: int,
    testpatt: str | None,
    states: Iterable[str] | None,
    statuses: Iterable[str] | None,
    *,
    not_in: bool = False,
    include_deleted: bool = False,
    since: int | None = None,
) -> Where:
    """The WHERE of LeanStore.get_tests."""
    # with a list of states, `+run_id` keeps the run_id term off tests_index: SQLite would
    # otherwise walk that index (every row of the run) for its ORDER BY rather than seek
    # the few rows of those states in tests_state_index (the runner's kill-request poll)
    states = list(states or ())
    by_state = bool(states) and not not_in
    conds: list[Where] = [("+run_id = ?" if by_state else "run_id = ?", [run_id])]
    patt = test_where(testpatt)
    if patt is not None:
        conds.append(patt)
    for column, values in (("state", states), ("status", statuses)):
        values = list(values or ())
        if values:
            marks = ", ".join("?" * len(values))
            conds.append((f"{column} {'NOT IN' if not_in else 'IN'} ({marks})", values))
    if not include_deleted:
        conds.append(("state != 'DELETED'", []))
    if since is not None:
        conds.append(("last_update >= ?", [since]))
    return _join(conds)


def _join(conds: list[Where]) -> Where:
    if not conds:
        return "1", []
    return " AND ".join(sql for sql, _ in conds), [a for _, args in conds for a in args]


class LeanStore:
    """An area's databases through stdlib sqlite3. Open with `LeanStore.open`."""

    def __init__(self, area_root: Path, conn: sqlite3.Connection, keys: list[str]):
        self.area_root = area_root
        self.db_dir = paths.db_dir(area_root)
        self.main_path = self.db_dir / paths.MAIN_DB_NAME
        self.keys = keys
        self._conn = conn
        self._writers: dict[int, TestWriter] = {}
        self._key_cols = ", ".join(f'"{k}"' for k in keys)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        area_root: str | Path,
        fields: Sequence[str] | Sequence[tuple[str, str]] | None = None,
        create: bool = True,
    ) -> Self:
        """Open an area's store. `fields` = the area's [fields] keys (names, or (name, type)
        pairs, in order); a new area gets main.db at the head revision with those keys.
        Without `fields` the keys stored in main.db are used; new ones are appended."""
        area = Path(area_root).resolve()
        main_path = paths.main_db(area)
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
        if revision is None:
            raise StoreError(f"{main_path}: not a megatest database (it has no schema "
                             "revision table); check the file, or restore it from a backup")
        if revision != migrations.head("main"):
            raise StoreError(
                f"{main_path}: schema revision {revision} is not {migrations.head('main')}; "
                "run `megatest db migrate`"
            )
        conn = sqlite_conn.connect(main_path)
        try:
            with _named_damage(main_path), sqlite_conn.immediate(conn) if wanted else _deferred(conn):
                keys = ensure_keys(conn.execute, wanted) if wanted else stored_keys(conn.execute)
        except BaseException:
            conn.close()
            raise
        return cls(area, conn, keys)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with _named_damage(self.main_path), _deferred(self._conn) as c:
            yield c

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with (_named_damage(self.main_path), sqlite_conn.writing(self.main_path),
              sqlite_conn.immediate(self._conn) as c):
            yield c

    def run_path(self, run_id: int) -> Path:
        """The run's db file (it exists once the run is registered)."""
        return paths.run_db(self.area_root, run_id)

    def _ensure_run_db(self, run_id: int) -> bool:
        """Make the run's db file when it is missing (True: this call made it)."""
        path = self.run_path(run_id)
        if path.is_file():
            return False
        return migrations.build_at_head(path, "run")

    def run_writer(self, run_id: int) -> TestWriter:
        """The run db's writer and connection (one per run, opened on first use, closed with
        the store)."""
        run_id = int(run_id)
        writer = self._writers.get(run_id)
        if writer is None:
            writer = self._writers[run_id] = TestWriter(self.area_root, run_id)
        return writer

    @contextmanager
    def _run_read(self, run_id: int) -> Iterator[sqlite3.Connection]:
        writer = self.run_writer(run_id)
        with _named_damage(writer.path), _deferred(writer.conn) as c:
            yield c

    # ------------------------------------------------------------------ who runs a run
    def claim_run(self, run_id: int) -> RunLock:
        """The run's lock, to hold while this process runs it (a with-block); entering it is a
        UsageError naming the holder's pid when another runner holds it."""
        return RunLock(self.db_dir, run_id)

    def runner_alive(self, run_id: int) -> bool:
        return runner_alive(self.db_dir, run_id)

    # ------------------------------------------------------------------ metadata
    def set_var(self, var: str, val: Any) -> None:
        with self._write() as c:
            c.execute("DELETE FROM metadat WHERE var=?", (var,))
            c.execute("INSERT INTO metadat (var, val) VALUES (?, ?)", (var, str(val)))

    def get_var(self, var: str) -> str | None:
        with self._read() as c:
            row = c.execute("SELECT val FROM metadat WHERE var=?", (var,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------ runs
    def _key_where(self, keyvals: Mapping[str, str]) -> Where:
        missing = [k for k in self.keys if k not in keyvals]
        extra = [k for k in keyvals if k not in self.keys]
        if missing or extra:
            raise UsageError(
                f"target keys {list(keyvals)} do not match the area's [fields] {self.keys}"
            )
        return _join([(f'"{k}" = ?', [str(keyvals[k])]) for k in self.keys])

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
        kw, kargs = self._key_where(keyvals)
        made_db = False
        try:
            with self._write() as c:
                row = c.execute(f"SELECT id, state FROM runs WHERE {kw} AND runname = ?",
                                (*kargs, runname)).fetchone()
                if row is not None:
                    run_id = row[0]
                    if row[1] == "deleted":
                        c.execute("UPDATE runs SET state=?, status=? WHERE id=?",
                                  (state, status, run_id))
                else:
                    names = ["runname", "state", "status", "contour", "owner", "event_time",
                             *(f'"{k}"' for k in self.keys)]
                    values = [runname, state, status, contour,
                              owner if owner is not None else getpass.getuser(),
                              int(time.time()), *(str(keyvals[k]) for k in self.keys)]
                    run_id = c.execute(
                        f"INSERT INTO runs ({', '.join(names)}) VALUES "
                        f"({', '.join('?' * len(names))})", values,
                    ).lastrowid
                    # The new row's db is made before the row is committed: when it cannot be
                    # made (no space, no permission, ...) the row is rolled back with it, and
                    # no other process ever sees a run without its db.
                    made_db = self._ensure_run_db(run_id)
        except BaseException:
            if made_db:  # the commit failed after the db was made: take the db back too
                for f in paths.sidecar_files(self.run_path(run_id)):
                    f.unlink(missing_ok=True)
            raise
        self._ensure_run_db(run_id)  # an older row whose db went missing gets it back here
        return int(run_id)

    def _run_select(self) -> str:
        cols = _RUN_COLS + (", " + self._key_cols if self.keys else "")
        return f"SELECT {cols} FROM runs"

    def _run_record(self, row: Sequence[Any]) -> RunRecord:
        base = dict(zip(RUN_RECORD_COLUMNS, row, strict=False))
        keyvals = dict(zip(self.keys, row[len(RUN_RECORD_COLUMNS):], strict=True))
        base["locked"] = bool(base["locked"])
        return RunRecord(keys=keyvals, **base)

    def get_run(self, run_id: int) -> RunRecord | None:
        with self._read() as c:
            row = c.execute(f"{self._run_select()} WHERE id=?", (run_id,)).fetchone()
        return self._run_record(row) if row is not None else None

    def find_runs(
        self,
        target_patt: str | None = None,
        runname_patt: str | None = None,
        *,
        include_deleted: bool = False,
        newest_first: bool = False,
        state: str | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs whose target and runname match the patterns (LIKE when a part holds %, else
        GLOB), oldest event_time first (get-runs-by-patt) unless newest_first; only those in
        `state`, and at most `limit` of them, when given (a runner asks every second, and an
        area keeps every nightly run)."""
        conds = target_where(self.keys, target_patt)
        runname = name_where("runname", runname_patt)
        if runname is not None:
            conds.append(runname)
        if not include_deleted:
            conds.append(("state != 'deleted'", []))
        if state is not None:
            conds.append(("state = ?", [state]))
        where, args = _join(conds)
        order = "event_time DESC, id DESC" if newest_first else "event_time, id"
        sql = f"{self._run_select()} WHERE {where} ORDER BY {order}"
        if limit is not None:
            sql, args = f"{sql} LIMIT ?", [*args, limit]
        with self._read() as c:
            rows = c.execute(sql, args)
            return [self._run_record(r) for r in rows.fetchall()]

    def set_run_state_status(
        self, run_id: int, state: str | None = None, status: str | None = None,
        comment: str | None = None,
    ) -> None:
        values = [(k, v) for k, v in (("state", state), ("status", status), ("comment", comment))
                  if v is not None]
        if values:
            with self._write() as c:
                c.execute(f"UPDATE runs SET {', '.join(f'{k}=?' for k, _ in values)} WHERE id=?",
                          (*(v for _, v in values), run_id))

    def _set_lock(self, run_id: int, locked: bool, user: str | None) -> None:
        with self._write() as c:
            c.execute("UPDATE runs SET locked=? WHERE id=?", (int(locked), run_id))
            c.execute("INSERT INTO access_log (user, accessed, args) VALUES (?, ?, ?)",
                      (user or getpass.getuser(), int(time.time()),
                       f"{'locked' if locked else 'unlocked'} {run_id}"))

    def lock_run(self, run_id: int, user: str | None = None) -> None:
        self._set_lock(run_id, True, user)

    def unlock_run(self, run_id: int, user: str | None = None) -> None:
        self._set_lock(run_id, False, user)

    def is_locked(self, run_id: int) -> bool:
        with self._read() as c:
            row = c.execute("SELECT locked FROM runs WHERE id=?", (run_id,)).fetchone()
        return bool(row[0]) if row else False

    def remove_run(self, run_id: int) -> None:
        """Delete the run row, its stats and test ids, and its db file."""
        with self._write() as c:
            c.execute("DELETE FROM runs WHERE id=?", (run_id,))
            c.execute("DELETE FROM run_stats WHERE run_id=?", (run_id,))
            c.execute("DELETE FROM test_ids WHERE run_id=?", (run_id,))
        writer = self._writers.pop(int(run_id), None)
        if writer is not None:
            writer.close()
        for f in paths.sidecar_files(self.run_path(run_id)):
            f.unlink(missing_ok=True)

    def rollup_run(self, run_id: int) -> model.RunRollup | None:
        """Set the run's state, status, end_time and pass/fail counts from its top-level tests
        and refresh its run_stats histogram (see model.run_rollup)."""
        with self._run_read(run_id) as c:
            tops = c.execute(
                "SELECT state, status, event_time, run_duration FROM tests "
                "WHERE run_id=? AND item_path='' ORDER BY id", (run_id,)).fetchall()
            stats = c.execute(
                "SELECT state, status, count(*) FROM tests "
                "WHERE run_id=? AND NOT (uname='n/a' AND item_path='') "
                "GROUP BY state, status ORDER BY state, status", (run_id,)).fetchall()
        verdict = model.run_rollup([model.TestSummary(*t) for t in tops])
        with self._write() as c:
            if verdict is not None:
                values: list[tuple[str, Any]] = [
                    ("end_time", verdict.end_time), ("pass_count", verdict.pass_count),
                    ("fail_count", verdict.fail_count)]
                if verdict.state is not None:
                    values.append(("state", verdict.state))
                if verdict.status is not None:
                    values.append(("status", verdict.status))
                c.execute(f"UPDATE runs SET {', '.join(f'{k}=?' for k, _ in values)} WHERE id=?",
                          (*(v for _, v in values), run_id))
            c.execute("DELETE FROM run_stats WHERE run_id=?", (run_id,))
            c.executemany("INSERT INTO run_stats (run_id, state, status, count) VALUES (?,?,?,?)",
                          [(run_id, st, stt, n) for st, stt, n in stats])
        return verdict

    def get_run_stats(self, run_id: int) -> list[tuple[str, str, int]]:
        with self._read() as c:
            return [tuple(r) for r in c.execute(
                "SELECT state, status, count FROM run_stats WHERE run_id=? "
                "ORDER BY state, status", (run_id,)).fetchall()]

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
        self._ensure_run_db(run_id)
        return register.register_tests(
            self.main_path, self.run_path(run_id), run_id, pairs,
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
        with self._read() as c:
            row = c.execute("SELECT run_id FROM test_ids WHERE id=?", (test_id,)).fetchone()
        return row[0] if row else None

    def _test_records(self, run_id: int, where: str, args: Sequence[Any],
                      order: str = "") -> list[TestRecord]:
        with self._run_read(run_id) as c:
            rows = c.execute(f"SELECT {_TEST_COLS} FROM tests WHERE {where}{order}",
                             args).fetchall()
        return [TestRecord(**dict(zip(TEST_RECORD_COLUMNS, r, strict=True))) for r in rows]

    def get_test(self, run_id: int, test_id: int) -> TestRecord | None:
        found = self._test_records(run_id, "id=?", (test_id,))
        return found[0] if found else None

    def get_test_by_name(self, run_id: int, testname: str, item_path: str = "") -> TestRecord | None:
        found = self._test_records(run_id, "run_id=? AND testname=? AND item_path=?",
                                   (run_id, testname, item_path))
        return found[0] if found else None

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
        where, args = _tests_where(run_id, testpatt, states, statuses, not_in=not_in,
                                   include_deleted=include_deleted, since=since)
        return self._test_records(run_id, where, args, _BY_NAME)

    def iter_tests(
        self,
        run_id: int,
        testpatt: str | None = None,
        states: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        *,
        page: int = 1000,
    ) -> Iterator[TestRecord]:
        """get_tests' rows in its order, read `page` rows at a time (each page its own
        short read, from where the last one ended): a listing of a run of any size holds one
        page in memory and keeps no read open while its caller writes them out."""
        where, args = _tests_where(run_id, testpatt, states, statuses)
        after: tuple[str, str] | None = None
        while True:
            cond, more = (where, args) if after is None else (
                f"{where} AND (testname, item_path) > (?, ?)", [*args, *after])
            rows = self._test_records(run_id, cond, more, f"{_BY_NAME} LIMIT {int(page)}")
            yield from rows
            if len(rows) < page:
                return
            after = (rows[-1].testname, rows[-1].item_path)

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
        return self.run_writer(run_id).set_state_status(test_id, state, status, comment)

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
        writer = self.run_writer(run_id)
        with writer.batch():
            return [writer.set_state_status(test_id, state, status, comment)
                    for test_id, state, status, comment in changes]

    def update_test_fields(self, run_id: int, test_id: int, **fields: Any) -> None:
        """Set plain columns of a test row (host, rundir, run_duration, final_logf, ...).
        `pid=` is stored in attemptnum, as the original does."""
        self.run_writer(run_id).update_fields(test_id, **fields)

    def request_kill(self, run_id: int, test_id: int) -> None:
        """Ask the test's monitor to kill it: state KILLREQ (status unchanged)."""
        self.set_test_state_status(run_id, test_id, "KILLREQ", None)

    def kill_requested(self, run_id: int, test_id: int) -> bool:
        with self._run_read(run_id) as c:
            row = c.execute("SELECT state FROM tests WHERE id=?", (test_id,)).fetchone()
        return row is not None and row[0] == "KILLREQ"

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
        with self._write() as c:
            for testname, fields in metas.items():
                columns = sorted(fields)  # names come from the allow-list above
                row = c.execute("SELECT id FROM test_meta WHERE testname=?",
                                (testname,)).fetchone()
                if row is None:
                    names = ["testname", *columns]
                    c.execute(f"INSERT INTO test_meta ({', '.join(names)}) VALUES "
                              f"({', '.join('?' * len(names))})",
                              (testname, *(fields[k] for k in columns)))
                elif columns:
                    c.execute(f"UPDATE test_meta SET {', '.join(f'{k}=?' for k in columns)} "
                              "WHERE id=?", (*(fields[k] for k in columns), row[0]))

    def get_test_meta(self, testname: str) -> dict[str, Any] | None:
        with self._read() as c:
            cur = c.execute("SELECT * FROM test_meta WHERE testname=?", (testname,))
            row = cur.fetchone()
            if row is None:
                return None
            return dict(zip((d[0] for d in cur.description), row, strict=True))


@contextmanager
def _deferred(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction (one consistent snapshot); inside a caller's transaction (a
    TestWriter batch on the same connection) it just reads."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


@contextmanager
def _named_damage(db_path: Path) -> Iterator[None]:
    """A damaged db file is a one-line StoreError naming it."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if sqlite_conn.is_corruption(exc):
            raise sqlite_conn.unreadable(db_path, exc) from None
        raise
