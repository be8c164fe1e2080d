"""Convert a legacy single-file megatest.db into main.db + one <run_id>.db per run.

Guarantees:
* the original file is opened read-only (SQLite URI mode=ro) and never modified;
* every row of every table is kept with its id (test ids stay unique across the run dbs, so
  steps, data and item/parent relations are untouched); rows that belong nowhere (tests of a
  run id that cannot be a file name, child rows of missing tests) go to .db/orphans.db, which
  `megatest db check` reports and `megatest db cleanup` removes;
* any historical column set converts: only the columns both sides have are copied, the rest
  take the head schema's defaults;
* resumable: main.db is built as .db/main.db.converting with a progress table; each run db is
  written in one transaction and then marked done with the rows it committed per table.
  Killed at any point and started again, the conversion recounts the run dbs marked done by
  the killed process, redoes the others from scratch (no duplicates), and main.db only
  appears, by an atomic rename, after the row counts of every table match the original.

Plain sqlite3 with ATTACH + INSERT ... SELECT does the copying; the schemas come from Alembic
(main.db built at head, run dbs copied from the run template).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from megatest.errors import StoreError
from megatest.store import migrations, paths, schema, sqlite_conn
from megatest.store.keys_schema import add_key_columns, rebuild_unique_index
from megatest.store.progress import Progress

STAGING_NAME = "main.db.converting"
SCRATCH_NAME = ".convert-scratch.db"
ORPHANS_NAME = "orphans.db"
PROGRESS_TABLE = "legacy_convert_progress"
LOCK_NAME = ".migrate.lock"
ORPHAN_UNIT = -1  # progress-table id of orphans.db

MAIN_COPY_TABLES = tuple(t for t in schema.MAIN_TABLES if t != "test_ids")


@dataclass
class TableCount:
    table: str
    legacy: int
    converted: int

    @property
    def ok(self) -> bool:
        return self.legacy == self.converted


@dataclass
class ConversionSummary:
    legacy_path: Path
    runs: int
    resumed: bool
    seconds: float
    counts: list[TableCount] = field(default_factory=list)
    orphan_rows: int = 0

    def lines(self) -> list[str]:
        out = [
            f"converted {self.legacy_path} -> {self.legacy_path.parent / paths.DB_DIR_NAME}/ "
            f"({self.runs} run dbs, {self.seconds:.1f}s{', resumed' if self.resumed else ''})",
            f"  {'table':<22}{'legacy rows':>12}{'converted':>12}",
        ]
        for c in self.counts:
            out.append(f"  {c.table:<22}{c.legacy:>12}{c.converted:>12}  {'ok' if c.ok else 'MISMATCH'}")
        if self.orphan_rows:
            out.append(f"  {self.orphan_rows} orphan rows kept in .db/{ORPHANS_NAME} "
                       "(see `megatest db check`)")
        out.append(f"  original file untouched: {self.legacy_path}")
        return out


@contextmanager
def migrate_lock(db_dir: Path) -> Iterator[None]:
    """One `db migrate` per area at a time."""
    db_dir.mkdir(parents=True, exist_ok=True)
    with open(db_dir / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{db_dir}: another `megatest db migrate` is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def needs_conversion(area_root: Path) -> bool:
    return paths.legacy_db(area_root).is_file() and not paths.main_db(area_root).is_file()


def _ro_uri(path: Path) -> str:
    return "file:" + str(path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"


def _columns(conn: sqlite3.Connection, schema_name: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA "{schema_name}".table_info("{table}")')]


def _tables(conn: sqlite3.Connection, schema_name: str) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute(
        f"SELECT name FROM \"{schema_name}\".sqlite_master WHERE type='table' "
        "AND name NOT LIKE 'sqlite_%'")]
    return {n: _columns(conn, schema_name, n) for n in names}


def _has_leading_index(conn: sqlite3.Connection, table: str, column: str) -> bool:
    for idx in conn.execute(f'PRAGMA legacy.index_list("{table}")').fetchall():
        first = conn.execute(f'PRAGMA legacy.index_info("{idx[1]}")').fetchone()
        if first is not None and first[2] == column:
            return True
    return False


def _common(source_cols: list[str], target_cols: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in target_cols if c in source_cols)


def _remove_db(path: Path) -> None:
    for f in paths.sidecar_files(path):
        f.unlink(missing_ok=True)


class _Converter:
    def __init__(self, area_root: Path, progress_enabled: bool):
        self.area = area_root
        self.legacy_path = paths.legacy_db(area_root)
        self.db_dir = paths.db_dir(area_root)
        self.staging = self.db_dir / STAGING_NAME
        self.scratch = self.db_dir / SCRATCH_NAME
        self.progress_enabled = progress_enabled
        # The working connection lives on a scratch file; the original is attached read-only.
        self.db_dir.mkdir(parents=True, exist_ok=True)
        _remove_db(self.scratch)
        self.conn = sqlite3.connect(str(self.scratch), isolation_level=None, uri=True)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        try:
            self.conn.execute("ATTACH DATABASE ? AS legacy", (_ro_uri(self.legacy_path),))
            self.legacy = _tables(self.conn, "legacy")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read legacy database: {exc}", path=str(self.legacy_path)) from exc
        if "tests" not in self.legacy or "runs" not in self.legacy:
            raise StoreError("not a Megatest database (no runs/tests tables)",
                             path=str(self.legacy_path))

    def close(self) -> None:
        self.conn.close()
        _remove_db(self.scratch)

    # ---------------------------------------------------------------- main.db
    def legacy_keys(self) -> list[tuple[str, str]]:
        if "keys" not in self.legacy:
            return []
        rows = self.conn.execute("SELECT fieldname, fieldtype FROM legacy.keys ORDER BY id")
        return [(name, ftype or "TEXT") for name, ftype in rows]

    def build_main(self) -> None:
        """main.db.converting at head with every main table copied, in one transaction."""
        _remove_db(self.staging)
        migrations.build_at_head(self.staging, "main", prepare=self._fill_main)

    def _fill_main(self, path: Path) -> None:
        c = self.conn
        c.execute("ATTACH DATABASE ? AS m", (str(path),))
        try:
            with sqlite_conn.transaction(c):
                keys = self.legacy_keys()
                have = {r[1] for r in c.execute('PRAGMA m.table_info("runs")')}
                for name, ftype in keys:  # key columns, without touching the keys table yet
                    if name not in have:
                        c.execute(f'ALTER TABLE m.runs ADD COLUMN "{name}" {ftype}')
                for table in MAIN_COPY_TABLES:
                    if table in self.legacy:
                        cols = _common(self.legacy[table], _columns(c, "m", table))
                        c.execute(f'INSERT INTO m."{table}" ({cols}) SELECT {cols} FROM legacy."{table}"')
                c.execute("UPDATE m.runs SET locked=1 WHERE state='locked'")
                c.execute("INSERT INTO m.test_ids (id, run_id) "
                          "SELECT id, coalesce(run_id, -1) FROM legacy.tests")
                counted = ", ".join(f"{t} INTEGER" for t in schema.RUN_TABLES)
                c.execute(f"CREATE TABLE m.{PROGRESS_TABLE} (unit INTEGER PRIMARY KEY, {counted})")
        finally:
            c.execute("DETACH DATABASE m")
        # keys table rows came over verbatim; keys missing from it (none normally) are added,
        # and the unique index over (runname, keys) is built.
        main = sqlite3.connect(str(path), isolation_level=None)
        try:
            with sqlite_conn.transaction(main):
                stored = [r[0] for r in main.execute("SELECT fieldname FROM keys ORDER BY id")]
                add_key_columns(main.execute, [k for k in keys if k[0] not in stored])
                names = [r[0] for r in main.execute("SELECT fieldname FROM keys ORDER BY id")]
                rebuild_unique_index(main.execute, names)
        finally:
            main.close()

    def main_ready(self) -> bool:
        if not self.staging.is_file():
            return False
        conn = sqlite3.connect(str(self.staging))
        try:
            conn.execute(f"SELECT 1 FROM {PROGRESS_TABLE} LIMIT 1")
            return True
        except sqlite3.DatabaseError:
            return False
        finally:
            conn.close()

    # ---------------------------------------------------------------- run dbs
    def run_ids(self) -> list[int]:
        ids = {r[0] for r in self.conn.execute("SELECT id FROM legacy.runs")}
        ids |= {r[0] for r in self.conn.execute(
            "SELECT DISTINCT run_id FROM legacy.tests WHERE typeof(run_id)='integer' AND run_id>0")}
        return sorted(i for i in ids if isinstance(i, int) and i > 0)

    def prepare_sources(self) -> dict[str, str]:
        """Where to read each per-test table from: the original when it has an index leading
        with the lookup column, else an indexed scratch copy (so each run is not a full scan)."""
        sources = {}
        lookups = {"tests": "run_id", **{t: "test_id" for t in schema.TEST_CHILD_TABLES}}
        for table, column in lookups.items():
            if table not in self.legacy:
                continue
            if _has_leading_index(self.conn, table, column):
                sources[table] = f'legacy."{table}"'
            else:
                copy = f"src_{table}"
                self.conn.execute(f'CREATE TABLE main.{copy} AS SELECT * FROM legacy."{table}"')
                self.conn.execute(f"CREATE INDEX main.{copy}_ix ON {copy} ({column})")
                sources[table] = f"main.{copy}"
        return sources

    def copy_unit(self, target: Path, template: Path, sources: dict[str, str],
                  tests_where: str, params: tuple, children_where: str) -> dict[str, int]:
        """Write one run db (or orphans.db) from scratch in one transaction; returns the
        number of rows it committed per run table."""
        inserted = dict.fromkeys(schema.RUN_TABLES, 0)
        _remove_db(target)
        migrations.copy_db(template, target)
        c = self.conn
        c.execute("ATTACH DATABASE ? AS r", (str(target),))
        try:
            c.execute("PRAGMA r.journal_mode=OFF")
            c.execute("PRAGMA r.synchronous=OFF")
            with sqlite_conn.transaction(c):
                if "tests" in sources:
                    cols = _common(self.legacy["tests"], list(schema.column_names("tests")))
                    inserted["tests"] = c.execute(
                        f"INSERT INTO r.tests ({cols}) SELECT {cols} FROM {sources['tests']} "
                        f"WHERE {tests_where}", params).rowcount
                for table in schema.TEST_CHILD_TABLES:
                    if table in sources:
                        cols = _common(self.legacy[table], list(schema.column_names(table)))
                        inserted[table] = c.execute(
                            f'INSERT INTO r."{table}" ({cols}) SELECT {cols} FROM '
                            f"{sources[table]} WHERE {children_where}").rowcount
        finally:
            c.execute("DETACH DATABASE r")
        return inserted

    # ---------------------------------------------------------------- verification
    def main_counts(self) -> list[TableCount]:
        c = self.conn
        counts: list[TableCount] = []
        c.execute("ATTACH DATABASE ? AS m", (str(self.staging),))
        try:
            for table in MAIN_COPY_TABLES:
                if table in self.legacy:
                    counts.append(TableCount(
                        table, c.execute(f'SELECT count(*) FROM legacy."{table}"').fetchone()[0],
                        c.execute(f'SELECT count(*) FROM m."{table}"').fetchone()[0]))
            counts.append(TableCount(
                "test_ids", c.execute("SELECT count(*) FROM legacy.tests").fetchone()[0],
                c.execute("SELECT count(*) FROM m.test_ids").fetchone()[0]))
        finally:
            c.execute("DETACH DATABASE m")
        return counts

    def file_totals(self, files: list[Path]) -> dict[str, int]:
        """Rows per run table, summed over the given run db files."""
        c = self.conn
        totals = dict.fromkeys(schema.RUN_TABLES, 0)
        for f in files:
            c.execute("ATTACH DATABASE ? AS r", (str(f),))
            try:
                for table in schema.RUN_TABLES:
                    totals[table] += c.execute(f'SELECT count(*) FROM r."{table}"').fetchone()[0]
            finally:
                c.execute("DETACH DATABASE r")
        return totals

    def run_counts(self, totals: dict[str, int]) -> list[TableCount]:
        return [TableCount(t, self.conn.execute(f'SELECT count(*) FROM legacy."{t}"').fetchone()[0],
                           totals[t]) for t in schema.RUN_TABLES if t in self.legacy]


def convert(area_root: str | Path, *, progress: bool = False,
            say: Callable[[str], None] = print) -> ConversionSummary:
    """Convert the area's megatest.db (see module doc). Returns the verified summary."""
    area = Path(area_root).resolve()
    start = time.monotonic()
    db_dir = paths.db_dir(area)
    with migrate_lock(db_dir):
        if not needs_conversion(area):
            raise StoreError(f"{area}: nothing to convert (no megatest.db, or main.db exists)")
        for stale in db_dir.glob(".*.new"):  # temp files of a killed earlier attempt
            stale.unlink(missing_ok=True)
        conv = _Converter(area, progress)
        try:
            resumed = conv.main_ready()
            if not resumed:
                conv.build_main()
            staging = sqlite3.connect(str(conv.staging), isolation_level=None)
            # Progress marks need no fsync each: a SIGKILL keeps the OS's buffers, and before
            # main.db is published everything is flushed with os.sync(). A resumed conversion
            # recounts the run dbs an earlier process marked done (below).
            staging.execute("PRAGMA journal_mode=WAL")
            staging.execute("PRAGMA synchronous=OFF")
            marks = {r[0]: dict(zip(schema.RUN_TABLES, r[1:], strict=True)) for r in
                     staging.execute(f"SELECT unit, {', '.join(schema.RUN_TABLES)} "
                                     f"FROM {PROGRESS_TABLE}")}
            run_ids = conv.run_ids()
            if resumed:
                _drop_unverified(conv, staging, marks, {u: _unit_file(area, u) for u in marks})
                say(f"resuming conversion: {sum(1 for u in marks if u in run_ids)} of "
                    f"{len(run_ids)} runs already done")
            todo = [r for r in run_ids if r not in marks]
            template = migrations.run_template(db_dir)
            sources = conv.prepare_sources()
            bar = Progress(len(todo), "converting runs", enabled=progress)
            # For the interrupted-conversion tests: seconds to wait after each run.
            pause = float(os.environ.get("MT_STORE_CONVERT_PAUSE", "0") or 0)
            for run_id in todo:
                marks[run_id] = conv.copy_unit(
                    paths.run_db(area, run_id), template, sources, "run_id = ?", (run_id,),
                    "test_id IN (SELECT id FROM r.tests)")
                _mark(staging, run_id, marks[run_id])
                bar.advance()
                if pause:
                    time.sleep(pause)
            bar.done()
            # Rows that belong to no run go to orphans.db. Finding them costs full scans, so
            # that only happens when the run dbs hold fewer rows than the original.
            orphan_file = _unit_file(area, ORPHAN_UNIT)
            if ORPHAN_UNIT not in marks:
                _remove_db(orphan_file)
                inserted = dict.fromkeys(schema.RUN_TABLES, 0)
                if any(not c.ok for c in conv.run_counts(_sum(marks))):
                    inserted = conv.copy_unit(
                        orphan_file, template, sources,
                        "NOT (typeof(run_id)='integer' AND run_id > 0)", (),
                        "test_id IS NULL OR test_id NOT IN (SELECT id FROM legacy.tests) "
                        "OR test_id IN (SELECT id FROM r.tests)")
                marks[ORPHAN_UNIT] = inserted
                _mark(staging, ORPHAN_UNIT, inserted)
            orphan_rows = sum(marks[ORPHAN_UNIT].values())
            totals = _sum(marks)
            counts = conv.main_counts() + conv.run_counts(totals)
            bad = [c for c in counts if not c.ok]
            if bad:
                # Start the run dbs over on the next attempt instead of trusting the marks.
                staging.execute(f"DELETE FROM {PROGRESS_TABLE}")
                raise StoreError("conversion verification failed (" + ", ".join(
                    f"{c.table}: {c.legacy} legacy rows vs {c.converted} converted" for c in bad)
                    + "); run `megatest db migrate` again to redo the run databases")
            if orphan_file.is_file() and orphan_rows == 0:
                _remove_db(orphan_file)
            with sqlite_conn.transaction(staging):
                staging.execute(f"DROP TABLE {PROGRESS_TABLE}")
                staging.execute("INSERT OR REPLACE INTO metadat (var, val) VALUES "
                                "('LEGACY_SOURCE', ?)", (str(conv.legacy_path),))
            staging.execute("PRAGMA journal_mode=DELETE")  # checkpoint: one self-contained file
            staging.close()
            os.sync()  # run dbs were written without fsync; make them durable before publishing
            os.rename(conv.staging, paths.main_db(area))
        finally:
            conv.close()
    return ConversionSummary(conv.legacy_path, len(run_ids), resumed,
                             time.monotonic() - start, counts, orphan_rows)


def _unit_file(area: Path, unit: int) -> Path:
    return paths.db_dir(area) / ORPHANS_NAME if unit == ORPHAN_UNIT else paths.run_db(area, unit)


def _mark(staging: sqlite3.Connection, unit: int, inserted: dict[str, int]) -> None:
    cols = ", ".join(schema.RUN_TABLES)
    staging.execute(f"INSERT OR REPLACE INTO {PROGRESS_TABLE} (unit, {cols}) VALUES "
                    f"(?, {', '.join('?' * len(schema.RUN_TABLES))})",
                    (unit, *(inserted[t] for t in schema.RUN_TABLES)))


def _sum(marks: dict[int, dict[str, int]]) -> dict[str, int]:
    return {t: sum(m[t] for m in marks.values()) for t in schema.RUN_TABLES}


def _drop_unverified(conv: _Converter, staging: sqlite3.Connection,
                     marks: dict[int, dict[str, int]], files: dict[int, Path]) -> None:
    """Units an earlier (killed) process marked done are trusted only if their file still
    holds the rows it recorded; the others are redone."""
    for unit, recorded in list(marks.items()):
        f = files[unit]
        if unit == ORPHAN_UNIT and not f.is_file() and not any(recorded.values()):
            continue
        if not f.is_file() or conv.file_totals([f]) != recorded:
            del marks[unit]
            staging.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE unit=?", (unit,))
