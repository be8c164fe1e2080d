"""The item_counts table of a run db (run_0004): how many items of each test are in each
(state, status), so an item's write rolls its parent up in a few rows whatever the number of
items.

Triggers on tests keep the counts (alembic/versions/run/run_0004_item_counts.py); this module
reads them for the rollup, recounts them from the tests rows for `megatest db check` and
rebuilds them for `megatest db cleanup`. Stdlib sqlite3 only: the test helpers' writer
(megatest.store.testwrite) imports it.
"""

from __future__ import annotations

import sqlite3

TABLE = "item_counts"

# The DISTINCT (state, status) pairs of a test's items other than one item whose pair is
# (?, ?): that item counts once less. Same rows and order as the scan of the tests rows
# (testwrite._SIBLINGS): DELETED (and NULL) states left out, ordered by state then status.
SIBLINGS = (
    "SELECT state, status FROM item_counts WHERE testname IS ? AND state != 'DELETED' "
    "AND n > (CASE WHEN state IS ? AND status IS ? THEN 1 ELSE 0 END) ORDER BY state, status"
)
_RECOUNT = (
    "SELECT testname, state, status, count(*) FROM tests WHERE item_path != '' "
    "GROUP BY testname, state, status"
)

Pair = tuple[str | None, str | None, str | None]  # testname, state, status


def present(conn: sqlite3.Connection) -> bool:
    """True when the db has the table (run_0004 and later)."""
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TABLE,)
    ).fetchone() is not None


def mismatches(conn: sqlite3.Connection) -> dict[Pair, tuple[int, int]]:
    """(testname, state, status) -> (kept count, recounted count), where they differ."""
    recount = {(t, s, st): n for t, s, st, n in conn.execute(_RECOUNT)}
    kept: dict[Pair, int] = {}
    for t, s, st, n in conn.execute(f"SELECT testname, state, status, n FROM {TABLE}"):
        key = (t, s, st)
        kept[key] = kept.get(key, 0) + n  # a pair counted on two rows is still one pair
    return {
        key: (kept.get(key, 0), recount.get(key, 0))
        for key in kept.keys() | recount.keys()
        if kept.get(key, 0) != recount.get(key, 0)
    }


def rebuild(conn: sqlite3.Connection) -> None:
    """Recount from the tests rows (inside the caller's transaction); drops the 0 counts."""
    conn.execute(f"DELETE FROM {TABLE}")
    conn.execute(f"INSERT INTO {TABLE} (testname, state, status, n) {_RECOUNT}")
