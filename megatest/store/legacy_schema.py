"""The original Megatest's single-file megatest.db schema (reference 1.2), as DDL text.

Used to recognise a legacy db and, in tests and benchmarks, to create one. Two historical
column sets are described: "head" (v1.64/v1.65: last_update columns, contour, archive tables)
and "old" (before db:patch-schema-*: no last_update, no contour, none of the tables that came
later). The converter does not depend on either: it reads whatever columns a file has.
"""

from __future__ import annotations

import sqlite3

VARIANTS = ("head", "old")
NOW = "(strftime('%s','now'))"

_LAST_UPDATE_TABLES = {"runs": "update_runs_trigger", "run_stats": "update_run_stats_trigger",
                       "tests": "update_tests_trigger", "test_steps": "update_teststeps_trigger",
                       "test_data": "update_test_data_trigger"}


def ddl(keys: list[tuple[str, str]], variant: str = "head") -> list[str]:
    """CREATE statements of a legacy megatest.db with the given [fields] keys."""
    if variant not in VARIANTS:
        raise ValueError(variant)
    head = variant == "head"
    lu = f", last_update INTEGER DEFAULT {NOW}" if head else ""
    keycols = "".join(f", {name} {ftype}" for name, ftype in keys)
    keynames = "".join(f", {name}" for name, _ in keys)
    stmts = [
        "CREATE TABLE keys (id INTEGER PRIMARY KEY, fieldname TEXT, fieldtype TEXT, "
        "CONSTRAINT keyconstraint UNIQUE (fieldname))",
        f"CREATE TABLE runs (id INTEGER PRIMARY KEY{keycols}, runname TEXT DEFAULT 'norun', "
        + ("contour TEXT DEFAULT '', " if head else "")
        + "state TEXT DEFAULT '', status TEXT DEFAULT '', owner TEXT DEFAULT '', "
        f"event_time TIMESTAMP DEFAULT {NOW}, comment TEXT DEFAULT '', "
        f"fail_count INTEGER DEFAULT 0, pass_count INTEGER DEFAULT 0{lu}, "
        f"CONSTRAINT runsconstraint UNIQUE (runname{keynames}))",
        f"CREATE INDEX runs_index ON runs (runname{keynames})",
        "CREATE TABLE test_meta (id INTEGER PRIMARY KEY, testname TEXT DEFAULT '', "
        "author TEXT DEFAULT '', owner TEXT DEFAULT '', description TEXT DEFAULT '', "
        "reviewed TIMESTAMP, iterated TEXT DEFAULT '', avg_runtime REAL, avg_disk REAL, "
        "tags TEXT DEFAULT '', jobgroup TEXT DEFAULT 'default', "
        "CONSTRAINT test_meta_constraint UNIQUE (testname))",
        "CREATE TABLE extradat (id INTEGER PRIMARY KEY, run_id INTEGER, key TEXT, val TEXT)",
        "CREATE TABLE metadat (id INTEGER PRIMARY KEY, var TEXT, val TEXT, "
        "CONSTRAINT metadat_constraint UNIQUE (var))",
        "CREATE TABLE tests (id INTEGER PRIMARY KEY, run_id INTEGER DEFAULT -1, "
        "testname TEXT DEFAULT 'noname', host TEXT DEFAULT 'n/a', cpuload REAL DEFAULT -1, "
        "diskfree INTEGER DEFAULT -1, uname TEXT DEFAULT 'n/a', "
        "rundir TEXT DEFAULT '/tmp/badname', shortdir TEXT DEFAULT '/tmp/badname', "
        "item_path TEXT DEFAULT '', state TEXT DEFAULT 'NOT_STARTED', "
        "status TEXT DEFAULT 'FAIL', attemptnum INTEGER DEFAULT 0, "
        "final_logf TEXT DEFAULT 'logs/final.log', logdat TEXT DEFAULT '', "
        "run_duration INTEGER DEFAULT 0, comment TEXT DEFAULT '', "
        f"event_time TIMESTAMP DEFAULT {NOW}, fail_count INTEGER DEFAULT 0, "
        f"pass_count INTEGER DEFAULT 0, archived INTEGER DEFAULT 0{lu}, "
        "CONSTRAINT testsconstraint UNIQUE (run_id, testname, item_path))",
        "CREATE INDEX tests_index ON tests (run_id, testname, item_path, uname)",
        "CREATE INDEX teststeps_index ON tests (run_id, testname, item_path)",
        "CREATE TABLE test_steps (id INTEGER PRIMARY KEY, test_id INTEGER, stepname TEXT, "
        "state TEXT DEFAULT 'NOT_STARTED', status TEXT DEFAULT 'n/a', event_time TIMESTAMP, "
        f"comment TEXT DEFAULT '', logfile TEXT DEFAULT ''{lu}, "
        "CONSTRAINT test_steps_constraint UNIQUE (test_id, stepname, state))",
        "CREATE TABLE test_data (id INTEGER PRIMARY KEY, test_id INTEGER, "
        "category TEXT DEFAULT '', variable TEXT, value REAL, expected REAL, tol REAL, "
        "units TEXT, comment TEXT DEFAULT '', status TEXT DEFAULT 'n/a', "
        f"type TEXT DEFAULT ''{lu}, "
        "CONSTRAINT test_data_constraint UNIQUE (test_id, category, variable))",
        "CREATE INDEX test_data_index ON test_data (test_id)",
    ]
    if head:
        stmts += [
            "CREATE TABLE run_stats (id INTEGER PRIMARY KEY, run_id INTEGER, state TEXT, "
            f"status TEXT, count INTEGER, last_update INTEGER DEFAULT {NOW})",
            "CREATE TABLE tasks_queue (id INTEGER PRIMARY KEY, action TEXT DEFAULT '', "
            "owner TEXT, state TEXT DEFAULT 'new', target TEXT DEFAULT '', name TEXT DEFAULT '', "
            "testpatt TEXT DEFAULT '', keylock TEXT, params TEXT, "
            f"creation_time TIMESTAMP DEFAULT {NOW}, execution_time TIMESTAMP)",
            "CREATE TABLE archive_disks (id INTEGER PRIMARY KEY, archive_area_name TEXT, "
            f"disk_path TEXT, last_df INTEGER DEFAULT -1, last_df_time TIMESTAMP DEFAULT {NOW}, "
            "creation_time TIMESTAMP DEFAULT (strftime('%','now')))",
            "CREATE TABLE archive_blocks (id INTEGER PRIMARY KEY, archive_disk_id INTEGER, "
            f"disk_path TEXT, last_du INTEGER DEFAULT -1, last_du_time TIMESTAMP DEFAULT {NOW}, "
            "creation_time TIMESTAMP DEFAULT (strftime('%','now')))",
            "CREATE TABLE archive_allocations (id INTEGER PRIMARY KEY, "
            "archive_block_id INTEGER, testname TEXT, item_path TEXT, "
            "creation_time TIMESTAMP DEFAULT (strftime('%','now')))",
            "CREATE TABLE access_log (id INTEGER PRIMARY KEY, user TEXT, accessed TIMESTAMP, "
            "args TEXT)",
            "CREATE TABLE test_rundat (id INTEGER PRIMARY KEY, test_id INTEGER, "
            "update_time TIMESTAMP, cpuload INTEGER DEFAULT -1, diskfree INTEGER DEFAULT -1, "
            "diskusage INTGER DEFAULT -1, run_duration INTEGER DEFAULT 0)",
            "CREATE TABLE archives (id INTEGER PRIMARY KEY, test_id INTEGER, "
            "state TEXT DEFAULT 'new', status TEXT DEFAULT 'n/a', "
            "archive_type TEXT DEFAULT 'bup', du INTEGER, archive_path TEXT)",
        ]
        for table, trigger in _LAST_UPDATE_TABLES.items():
            stmts.append(
                f"CREATE TRIGGER {trigger} AFTER UPDATE ON {table} FOR EACH ROW BEGIN "
                f"UPDATE {table} SET last_update={NOW} WHERE id=old.id; END"
            )
    return stmts


def create_legacy_db(path: str, keys: list[tuple[str, str]], variant: str = "head",
                     version: str = "1.6524-a1b2") -> sqlite3.Connection:
    """Create an empty legacy megatest.db (keys and MEGATEST_VERSION filled in); returns an
    open connection for the caller to fill."""
    conn = sqlite3.connect(path)
    with conn:
        for stmt in ddl(keys, variant):
            conn.execute(stmt)
        conn.executemany("INSERT OR REPLACE INTO keys (fieldname, fieldtype) VALUES (?, ?)", keys)
        conn.execute("INSERT INTO metadat (var, val) VALUES ('MEGATEST_VERSION', ?)", (version,))
    return conn
