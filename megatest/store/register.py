"""Bulk registration of a run's test rows: many (testname, item_path) in one transaction.

A test id is unique in the whole area: it is allocated in main.db's test_ids and the row is
written to the run's own db. Registering a test one at a time costs three transactions on two
files; here one connection on main.db with the run db ATTACHed does every allocation and
every insert inside a single BEGIN IMMEDIATE ... COMMIT (stdlib sqlite3), a few statements
for the whole batch.

main.db is the connection's first schema, so SQLite commits it before the run db: a crash
between the two commits leaves at worst an allocated id without a row (harmless, the same
state an id handed back by a lost race leaves), never a row whose id another run may reuse.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from megatest.store import sqlite_conn

Key = tuple[str, str]

_RUN_SCHEMA = "rundb"
_EXISTING = f"SELECT testname, item_path, id FROM {_RUN_SCHEMA}.tests WHERE run_id=?"
_LAST_ID = "SELECT coalesce(max(id), 0) FROM main.test_ids"
_ALLOCATE = "INSERT INTO main.test_ids (run_id) VALUES (?)"
_ALLOCATED = "SELECT id FROM main.test_ids WHERE id > ? ORDER BY id"
_INSERT = (
    f"INSERT INTO {_RUN_SCHEMA}.tests (id, run_id, testname, item_path, state, status, "
    "event_time, comment) VALUES (?,?,?,?,?,?,?,coalesce(?, ''))"
)

# An item implies its top-level (parent) row; a parent registered that way starts as a
# plain new test, as Store.get_or_create_test has always registered it.
PARENT_STATE, PARENT_STATUS = "NOT_STARTED", "n/a"


def ordered_keys(pairs: Iterable[Key]) -> tuple[list[Key], set[Key]]:
    """The keys to register, each once, with an item's parent just before its first item;
    and the parents that are there only because of their items (not asked for themselves)."""
    asked = [(str(name), str(item_path or "")) for name, item_path in pairs]
    asked_set = set(asked)
    seen: set[Key] = set()
    out: list[Key] = []
    for key in asked:
        parent = (key[0], "")
        if key[1] and parent not in seen:
            seen.add(parent)
            out.append(parent)
        if key not in seen:
            seen.add(key)
            out.append(key)
    implied = {k for k in out if k not in asked_set}
    return out, implied


def register_tests(
    main_db: Path,
    run_db: Path,
    run_id: int,
    pairs: Iterable[Key],
    *,
    state: str = "NOT_STARTED",
    status: str = "n/a",
    comment: str | None = None,
) -> dict[Key, int]:
    """Ids of every (testname, item_path) in `pairs` (and of the parents of items), creating
    the rows that do not exist yet with `state`/`status`/`comment`; existing rows are left
    as they are. Both files must exist at head."""
    keys, implied = ordered_keys(pairs)
    if not keys:
        return {}
    run_id = int(run_id)
    conn = sqlite_conn.connect(main_db)
    try:
        sqlite_conn.attach(conn, run_db, _RUN_SCHEMA)
        now = int(time.time())
        with sqlite_conn.writing(main_db), sqlite_conn.immediate(conn) as c:
            # a few statements for the whole batch, not three per test: a run registers
            # every test it selects before the first launch
            existing = {(name, path): test_id for name, path, test_id in c.execute(_EXISTING, (run_id,))}
            new = [key for key in keys if key not in existing]
            if new:
                (last,) = c.execute(_LAST_ID).fetchone()
                c.executemany(_ALLOCATE, [(run_id,)] * len(new))
                # the write lock is held since before _LAST_ID: these are exactly the ids just
                # allocated, ascending as they were handed out, one per new key in order (zip
                # checks the count; a mismatch rolls the whole batch back)
                fresh = [row[0] for row in c.execute(_ALLOCATED, (last,))]
                rows = []
                for key, test_id in zip(new, fresh, strict=True):
                    st, stt, com = ((PARENT_STATE, PARENT_STATUS, None) if key in implied
                                    else (state, status, comment))
                    rows.append((test_id, run_id, key[0], key[1], st, stt, now, com))
                    existing[key] = test_id
                c.executemany(_INSERT, rows)
        return {key: existing[key] for key in keys}
    finally:
        conn.close()
