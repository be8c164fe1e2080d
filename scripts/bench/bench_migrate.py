"""Legacy conversion speed: `megatest db migrate` against a raw copy of the same rows.

Generates an original-format megatest.db (default 1,000 runs x 1,000 tests, 2 step rows per
test, test_meta, run_stats, ...), then times, on separate copies of the area:
  convert : megatest.store.legacy.convert (what `megatest db migrate` runs), which also
            verifies the row counts of every table and keeps resumability marks;
  raw     : the bare minimum into the same file layout: ATTACH + INSERT ... SELECT of the main
            tables into main.db and of each run's rows into <run_id>.db (schemas copied from
            the same Alembic-built templates, same pragmas), without fsync.
The conversion ends with os.sync() (it publishes main.db only once everything is on disk), so
its time includes writing the data out; each phase starts with the page cache flushed.
Prints both times and the ratio convert/raw. Goal: at most 1.5. Exit status 1 when missed.

Usage: python scripts/bench/bench_migrate.py [--runs N] [--tests N] [--steps N] [--keep DIR]
The generated legacy db is cached in DIR (default: $TMPDIR/megatest-bench) between runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "store"))

import legacy_gen  # noqa: E402

from megatest.store import legacy, migrations, schema  # noqa: E402

GOAL = 1.5


def legacy_db(cache: Path, runs: int, tests: int, steps: int) -> Path:
    path = cache / f"legacy-{runs}x{tests}x{steps}.db"
    if not path.exists():
        t0 = time.monotonic()
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        legacy_gen.generate(str(tmp), runs=runs, tests_per_run=tests, items_per_test=5,
                            steps_per_test=steps, data_per_test=0, orphans=False,
                            rundat=False)
        tmp.rename(path)
        print(f"generated {path} in {time.monotonic() - t0:.1f}s")
    return path


def fresh_area(work: Path, name: str, source: Path) -> Path:
    area = work / name
    shutil.rmtree(area, ignore_errors=True)
    area.mkdir(parents=True)
    (area / "megatest.config").write_text("[fields]\nSYSTEM TEXT\nRELEASE TEXT\n")
    (area / "megatest.db").symlink_to(source)
    return area


def raw_copy(area: Path, main_template: Path, run_template: Path) -> int:
    """The same rows into the same layout with nothing but ATTACH + INSERT ... SELECT."""
    db_dir = area / ".db"
    db_dir.mkdir()
    shutil.copyfile(main_template, db_dir / "main.db")
    conn = sqlite3.connect(str(db_dir / "main.db"), isolation_level=None, uri=True)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("ATTACH DATABASE ? AS legacy", (f"file:{area / 'megatest.db'}?mode=ro",))
    conn.execute("BEGIN")
    for key in ("SYSTEM", "RELEASE"):
        conn.execute(f"ALTER TABLE runs ADD COLUMN {key} TEXT")
    for table in schema.MAIN_TABLES:
        if table == "test_ids":
            continue
        lcols = [r[1] for r in conn.execute(f"PRAGMA legacy.table_info({table})")]
        if not lcols:
            continue
        cols = ", ".join(c for c in [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})")]
                         if c in lcols)
        conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM legacy.{table}")
    conn.execute("INSERT INTO main.test_ids (id, run_id) SELECT id, run_id FROM legacy.tests")
    conn.execute("COMMIT")
    run_ids = [r[0] for r in conn.execute("SELECT id FROM legacy.runs ORDER BY id")]
    child_cols = {}
    for table in schema.TEST_CHILD_TABLES:
        lcols = [r[1] for r in conn.execute(f"PRAGMA legacy.table_info({table})")]
        child_cols[table] = ", ".join(c for c in schema.column_names(table) if c in lcols)
    tcols = ", ".join(schema.column_names("tests"))
    for run_id in run_ids:
        target = db_dir / f"{run_id}.db"
        shutil.copyfile(run_template, target)
        conn.execute("ATTACH DATABASE ? AS r", (str(target),))
        conn.execute("PRAGMA r.journal_mode=OFF")
        conn.execute("PRAGMA r.synchronous=OFF")
        conn.execute("BEGIN")
        conn.execute(f"INSERT INTO r.tests ({tcols}) SELECT {tcols} FROM legacy.tests "
                     "WHERE run_id=?", (run_id,))
        for table, cols in child_cols.items():
            conn.execute(f"INSERT INTO r.{table} ({cols}) SELECT {cols} FROM legacy.{table} "
                         "WHERE test_id IN (SELECT id FROM r.tests)")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE r")
    conn.close()
    return len(run_ids)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--tests", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1, help="steps per test (2 rows each)")
    ap.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "megatest-bench")
    args = ap.parse_args()
    args.keep.mkdir(parents=True, exist_ok=True)
    source = legacy_db(args.keep, args.runs, args.tests, args.steps)
    src = sqlite3.connect(source)
    n_tests = src.execute("SELECT count(*) FROM tests").fetchone()[0]
    n_steps = src.execute("SELECT count(*) FROM test_steps").fetchone()[0]
    src.close()
    print(f"legacy db: {args.runs} runs, {n_tests} tests, {n_steps} step rows, "
          f"{source.stat().st_size / 1e6:.0f} MB")

    work = args.keep / "work"
    templates = work / "templates"
    shutil.rmtree(templates, ignore_errors=True)
    templates.mkdir(parents=True)
    main_template = templates / "main.db"
    migrations.upgrade(main_template, "main")
    run_template = migrations.run_template(templates)

    raw_area = fresh_area(work, "raw", source)
    os.sync()  # each phase starts with no write-back pending from the previous one
    t0 = time.monotonic()
    raw_copy(raw_area, main_template, run_template)
    raw_s = time.monotonic() - t0
    shutil.rmtree(raw_area)

    conv_area = fresh_area(work, "convert", source)
    os.sync()
    t0 = time.monotonic()
    summary = legacy.convert(conv_area, progress=sys.stderr.isatty(), say=lambda _: None)
    conv_s = time.monotonic() - t0
    if not all(c.ok for c in summary.counts):
        print("conversion counts do not match", file=sys.stderr)
        return 1
    shutil.rmtree(conv_area)

    ratio = conv_s / raw_s
    print(f"raw ATTACH + INSERT ... SELECT : {raw_s:8.2f} s")
    print(f"megatest db migrate (convert)  : {conv_s:8.2f} s  "
          f"({n_tests / conv_s:,.0f} tests/s, verified)")
    print(f"ratio convert/raw              : {ratio:8.2f}  (goal <= {GOAL})")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
