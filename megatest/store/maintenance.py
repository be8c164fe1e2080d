"""`megatest db ...`: migrate, status, check and cleanup of all of an area's databases."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from megatest.errors import StoreError
from megatest.store import item_counts, legacy, migrations, paths, schema, sqlite_conn


@dataclass
class DbFile:
    kind: str            # "main", "run" or "orphans"
    path: Path
    run_id: int | None = None

    @property
    def tree(self) -> str:
        return "main" if self.kind == "main" else "run"


@dataclass
class DbStatus:
    db: DbFile
    revision: str | None
    head: str
    problem: str | None = None  # why the revision could not be read (one line)

    @property
    def at_head(self) -> bool:
        return self.revision == self.head


@dataclass
class Problem:
    kind: str
    path: Path
    message: str
    fixable: bool = True

    def line(self) -> str:
        return f"{self.path}: {self.kind}: {self.message}"


def db_files(area_root: Path) -> list[DbFile]:
    """main.db, every <run_id>.db (by run id) and orphans.db, as present on disk."""
    folder = paths.db_dir(area_root)
    found: list[DbFile] = []
    if (folder / paths.MAIN_DB_NAME).is_file():
        found.append(DbFile("main", folder / paths.MAIN_DB_NAME))
    for run_id, path in sorted(paths.run_db_files(folder).items()):
        found.append(DbFile("run", path, run_id))
    if (folder / legacy.ORPHANS_NAME).is_file():
        found.append(DbFile("orphans", folder / legacy.ORPHANS_NAME))
    return found


UNFINISHED_CONVERSION = ("half-written by an interrupted `megatest db migrate` (the legacy "
                         "conversion); run `megatest db migrate` again to finish it")


def status(area_root: Path) -> list[DbStatus]:
    """Each db's revision. A file whose revision cannot be read is a StoreError saying why,
    except a run db an unfinished legacy conversion left half-written: that one gets
    `problem` (rerunning `db migrate` rewrites it; nothing to restore)."""
    converting = legacy.needs_conversion(area_root)
    out = []
    for db in db_files(area_root):
        head = migrations.head(db.tree)
        try:
            out.append(DbStatus(db, migrations.current(db.path), head))
        except StoreError:
            if not converting or db.kind == "main":
                raise
            out.append(DbStatus(db, None, head, UNFINISHED_CONVERSION))
    return out


def migrate(
    area_root: Path,
    fields: Sequence[tuple[str, str]] | None = None,
    *,
    progress: bool = False,
    say: Callable[[str], None] = print,
) -> bool:
    """Bring every db of the area to head, converting a legacy megatest.db first and creating
    main.db for a new area. Returns True when anything changed."""
    changed = False
    if legacy.needs_conversion(area_root):
        for line in legacy.convert(area_root, progress=progress, say=say).lines():
            say(line)
        changed = True
    db_dir = paths.db_dir(area_root)
    with legacy.migrate_lock(db_dir):
        if not paths.main_db(area_root).is_file():
            from megatest.store import open_store

            open_store(area_root, fields=list(fields or []), create=True).close()
            say(f"created {paths.main_db(area_root)} at {migrations.head('main')}")
            changed = True
        for st in status(area_root):
            if st.at_head:
                continue
            if st.problem is not None:
                raise StoreError(st.problem, path=str(st.db.path))
            if st.revision is None:
                raise StoreError("not a megatest database (no schema revision)", path=str(st.db.path))
            migrations.upgrade(st.db.path, st.db.tree)
            say(f"{st.db.path}: {st.revision} -> {st.head}")
            changed = True
        for template in db_dir.glob(".run-template-*.db"):
            if template.name != f".run-template-{migrations.head('run')}.db":
                template.unlink()
    if fields:
        from megatest.store import open_store

        open_store(area_root, fields=list(fields)).close()  # appends new [fields] keys
    if not changed:
        say(f"all {len(db_files(area_root))} databases of {area_root} are at head; nothing to do")
    return changed


# ---------------------------------------------------------------------- check / cleanup
def _connect(path: Path) -> sqlite3.Connection:
    if sqlite_conn.is_empty(path):  # connecting would write a header into it (4096 bytes)
        raise sqlite_conn.empty_file(path)
    return sqlite_conn.connect(path)


def _ids(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> set[int]:
    return {r[0] for r in conn.execute(sql, params)}


def check(area_root: Path) -> list[Problem]:
    """Integrity and orphan checks over every db of the area."""
    problems: list[Problem] = []
    files = db_files(area_root)
    main = next((f for f in files if f.kind == "main"), None)
    if not files:
        if legacy.needs_conversion(area_root):
            return [Problem("legacy", paths.legacy_db(area_root),
                            "legacy database, not converted yet (run `megatest db migrate`)",
                            fixable=False)]
        return []  # a new area: no runs yet, nothing can be wrong
    if main is None:
        if legacy.needs_conversion(area_root):
            return [Problem("legacy", paths.legacy_db(area_root),
                            "the conversion of this legacy database was interrupted; run "
                            "`megatest db migrate` again to finish it", fixable=False)]
        return [Problem("missing", paths.main_db(area_root), "no main.db (run `megatest db migrate`)",
                        fixable=False)]
    template = migrations.template_path(paths.db_dir(area_root))
    if template.exists():
        trouble = migrations.template_problem(template)
        if trouble is not None:
            problems.append(Problem("template", template,
                                    f"run db template {trouble}; new runs rebuild it, "
                                    "`megatest db cleanup` does it now"))
    damaged = {db.path for db in files if _integrity(db.path, problems)}
    if main.path in damaged:
        return problems  # nothing else can be judged without main.db
    files = [db for db in files if db.path not in damaged]
    for db in files:
        st = DbStatus(db, migrations.current(db.path), migrations.head(db.tree))
        if not st.at_head:
            problems.append(Problem("revision", st.db.path,
                                    f"at {st.revision}, head is {st.head}; run `megatest db migrate`",
                                    fixable=False))
    mconn = _connect(main.path)
    try:
        run_ids = _ids(mconn, "SELECT id FROM runs")
        test_index = dict(mconn.execute("SELECT id, run_id FROM test_ids").fetchall())
        for table in ("run_stats", "extradat"):
            n = mconn.execute(f"SELECT count(*) FROM {table} WHERE run_id NOT IN "
                              "(SELECT id FROM runs)").fetchone()[0]
            if n:
                problems.append(Problem("orphan-rows", main.path, f"{n} {table} rows of missing runs"))
    finally:
        mconn.close()
    on_disk = {run_id for run_id in paths.run_db_files(paths.db_dir(area_root))}
    for run_id in sorted(run_ids - on_disk):
        problems.append(Problem("missing-run-db", paths.run_db(area_root, run_id),
                                f"run {run_id} has no database file"))
    seen_tests: set[int] = set()
    for db in files:
        if db.kind == "main":
            continue
        if db.kind == "orphans" or db.run_id not in run_ids:
            problems.append(Problem("orphan-db", db.path, "holds rows of no registered run"))
            continue
        problems += _check_run_db(db, test_index, seen_tests)
    damaged_runs = {run_id for run_id, path in paths.run_db_files(paths.db_dir(area_root)).items()
                    if path in damaged}
    # a damaged run db's tests are not orphans: their rows are there, only unreadable now
    missing = {t for t, r in test_index.items() if r not in damaged_runs} - seen_tests
    if missing:
        problems.append(Problem("orphan-rows", main.path,
                                f"{len(missing)} test_ids rows with no test row"))
    return problems


def _integrity(path: Path, problems: list[Problem]) -> bool:
    """PRAGMA quick_check of one file; a damaged one adds an `integrity` problem (True)."""
    try:
        conn = _connect(path)
        try:
            result = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except StoreError as exc:
        result = [exc.message]
    except sqlite3.DatabaseError as exc:
        result = [f"cannot read this database ({exc})"]
    if result == ["ok"]:
        return False
    # quick_check rows may hold several lines each ("*** in database main ***\nOn tree page..")
    found = [ln.strip() for row in result for ln in row.splitlines()
             if ln.strip() and not ln.startswith("***")]
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    problems.append(Problem("integrity", path, "; ".join(found[:3]) + more, fixable=False))
    return True


def _check_run_db(db: DbFile, test_index: dict[int, int], seen: set[int]) -> list[Problem]:
    out: list[Problem] = []
    conn = _connect(db.path)
    try:
        ids = _ids(conn, "SELECT id FROM tests WHERE run_id=?", (db.run_id,))
        seen |= ids
        wrong = conn.execute("SELECT count(*) FROM tests WHERE run_id IS NOT ?",
                             (db.run_id,)).fetchone()[0]
        if wrong:
            out.append(Problem("orphan-rows", db.path, f"{wrong} tests rows of another run"))
        for table in schema.TEST_CHILD_TABLES:
            n = conn.execute(f"SELECT count(*) FROM {table} WHERE test_id IS NULL OR test_id NOT IN "
                             "(SELECT id FROM tests WHERE run_id=?)", (db.run_id,)).fetchone()[0]
            if n:
                out.append(Problem("orphan-rows", db.path, f"{n} {table} rows of missing tests"))
        unindexed = [i for i in ids if test_index.get(i) != db.run_id]
        if unindexed:
            out.append(Problem("test-ids", db.path,
                               f"{len(unindexed)} tests missing from main.db test_ids"))
        no_parent = conn.execute(
            "SELECT count(DISTINCT testname) FROM tests i WHERE item_path != '' AND NOT EXISTS "
            "(SELECT 1 FROM tests p WHERE p.run_id=i.run_id AND p.testname=i.testname "
            "AND p.item_path='')").fetchone()[0]
        if no_parent:
            out.append(Problem("no-parent", db.path,
                               f"{no_parent} itemized tests have no top-level row"))
        miscounted = _miscounted(conn)
        if miscounted:
            out.append(Problem("item-counts", db.path, miscounted))
    finally:
        conn.close()
    return out


def _miscounted(conn: sqlite3.Connection) -> str | None:
    """What is wrong with the kept item counts (run_0004 and later), against a recount."""
    if not item_counts.present(conn):
        return None
    wrong = item_counts.mismatches(conn)
    if not wrong:
        return None
    (name, state, status), (kept, counted) = min(wrong.items(), key=lambda kv: str(kv[0]))
    more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
    return (f"{len(wrong)} item counts differ from the items' rows: {name} {state}/{status} "
            f"kept {kept}, counted {counted}{more}")


def cleanup(area_root: Path, say: Callable[[str], None] = print) -> int:
    """Remove orphans (rows and run dbs of no registered run), repair test_ids, give every
    registered run its db and a top-level row per itemized test, then VACUUM. Returns the
    number of problems fixed."""
    if not db_files(area_root) and not legacy.needs_conversion(area_root):
        say(f"{paths.db_dir(area_root)}: no databases; nothing to clean")
        return 0
    with legacy.migrate_lock(paths.db_dir(area_root)):
        problems = check(area_root)
        blocking = [p for p in problems if not p.fixable]
        if blocking:
            raise StoreError("; ".join(p.line() for p in blocking))
        fixed = 0
        for p in problems:
            if p.kind == "orphan-db":
                for f in paths.sidecar_files(p.path):
                    f.unlink(missing_ok=True)
                say(f"removed {p.path} ({p.message})")
                fixed += 1
            elif p.kind == "template":
                migrations.rebuild_template(p.path.parent)
                say(f"rebuilt {p.path} (it was damaged)")
                fixed += 1
            elif p.kind == "missing-run-db":
                migrations.build_at_head(p.path, "run")
                say(f"created empty {p.path}")
                fixed += 1
        main_path = paths.main_db(area_root)
        mconn = _connect(main_path)
        try:
            with sqlite_conn.immediate(mconn):
                for table in ("run_stats", "extradat"):
                    fixed += _delete(mconn, say, main_path, table,
                                     "run_id NOT IN (SELECT id FROM runs)")
            for db in db_files(area_root):
                if db.kind == "run":
                    fixed += _clean_run_db(db, mconn, say)
            with sqlite_conn.immediate(mconn):
                on_disk = {f.run_id for f in db_files(area_root) if f.kind == "run"}
                stale = [tid for tid, rid in mconn.execute("SELECT id, run_id FROM test_ids")
                         if rid not in on_disk]
                mconn.executemany("DELETE FROM test_ids WHERE id=?", [(t,) for t in stale])
                if stale:
                    say(f"{main_path}: removed {len(stale)} test_ids rows of missing runs")
                    fixed += len(stale)
        finally:
            mconn.close()
        for db in db_files(area_root):
            conn = _connect(db.path)
            try:
                conn.execute("VACUUM")
            finally:
                conn.close()
        say(f"vacuumed {len(db_files(area_root))} databases")
    return fixed


def _delete(conn: sqlite3.Connection, say, path: Path, table: str, where: str,
            params: tuple = ()) -> int:
    n = conn.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount
    if n:
        say(f"{path}: removed {n} orphan {table} rows")
    return n


def _clean_run_db(db: DbFile, mconn: sqlite3.Connection, say) -> int:
    fixed = 0
    conn = _connect(db.path)
    try:
        with sqlite_conn.immediate(conn):
            fixed += _delete(conn, say, db.path, "tests", "run_id IS NOT ?", (db.run_id,))
            for table in schema.TEST_CHILD_TABLES:
                fixed += _delete(conn, say, db.path, table,
                                 "test_id IS NULL OR test_id NOT IN (SELECT id FROM tests)")
            lonely = conn.execute(
                "SELECT DISTINCT testname FROM tests i WHERE item_path != '' AND NOT EXISTS "
                "(SELECT 1 FROM tests p WHERE p.run_id=i.run_id AND p.testname=i.testname "
                "AND p.item_path='')").fetchall()
            for (testname,) in lonely:
                # a new test row takes a fresh area-wide id from main.db, like the Store does
                with sqlite_conn.immediate(mconn):
                    new_id = mconn.execute("INSERT INTO test_ids (run_id) VALUES (?)",
                                           (db.run_id,)).lastrowid
                conn.execute("INSERT INTO tests (id, run_id, testname, item_path) "
                             "VALUES (?, ?, ?, '')", (new_id, db.run_id, testname))
            if lonely:
                say(f"{db.path}: added {len(lonely)} missing top-level rows of itemized tests")
                fixed += len(lonely)
            if _miscounted(conn):
                item_counts.rebuild(conn)
                say(f"{db.path}: recounted the item counts from the items' rows")
                fixed += 1
            ids = [r[0] for r in conn.execute("SELECT id FROM tests")]
        with sqlite_conn.immediate(mconn):
            known = _ids(mconn, "SELECT id FROM test_ids WHERE run_id=?", (db.run_id,))
            missing = [(i, db.run_id) for i in ids if i not in known]
            mconn.executemany("INSERT OR IGNORE INTO test_ids (id, run_id) VALUES (?, ?)", missing)
            if missing:
                say(f"{db.path}: registered {len(missing)} test ids in main.db")
                fixed += len(missing)
            present = set(ids)
            stale = [(i,) for i in known if i not in present]
            mconn.executemany("DELETE FROM test_ids WHERE id=?", stale)
            fixed += len(stale)
    finally:
        conn.close()
    return fixed
