"""Counts of an itemized test's items per (state, status), kept by triggers on tests.

An item's write rolls its parent up from the DISTINCT (state, status) pairs of the other
items. Reading them from the tests rows cost one row per item on every item write (a run of
n items cost O(n^2)); reading them from these counts costs a few rows whatever n is. The
triggers keep the counts for every writer of the file (the runner, test helpers in other
processes, maintenance), in the writer's own transaction. Rows whose count falls to 0 stay
(the pairs a test's items pass through are few); `megatest db cleanup` rebuilds the table.

State and status may be NULL, so the key is matched with IS (NULL-safe) rather than by a
UNIQUE constraint, which would let NULL keys repeat.

Revision ID: run_0004
"""

from alembic import op

revision = "run_0004"
down_revision = "run_0003"
branch_labels = None
depends_on = None

_SAME_OLD = "testname IS old.testname AND state IS old.state AND status IS old.status"
_SAME_NEW = "testname IS new.testname AND state IS new.state AND status IS new.status"
# the new row's pair counted once more: its count row made first when it is not there yet
_COUNT_NEW = (
    "INSERT INTO item_counts (testname, state, status, n) SELECT new.testname, new.state, "
    f"new.status, 0 WHERE NOT EXISTS (SELECT 1 FROM item_counts WHERE {_SAME_NEW}); "
    f"UPDATE item_counts SET n = n + 1 WHERE {_SAME_NEW};"
)
_UNCOUNT_OLD = f"UPDATE item_counts SET n = n - 1 WHERE {_SAME_OLD};"
_CHANGED = ("(old.state IS NOT new.state OR old.status IS NOT new.status "
            "OR old.testname IS NOT new.testname OR old.item_path IS NOT new.item_path)")

TRIGGERS = {
    "item_counts_insert": (
        "CREATE TRIGGER item_counts_insert AFTER INSERT ON tests "
        f"WHEN new.item_path != '' BEGIN {_COUNT_NEW} END"
    ),
    "item_counts_delete": (
        "CREATE TRIGGER item_counts_delete AFTER DELETE ON tests "
        f"WHEN old.item_path != '' BEGIN {_UNCOUNT_OLD} END"
    ),
    # two triggers for an update: a row may become an item or stop being one
    "item_counts_update_old": (
        "CREATE TRIGGER item_counts_update_old AFTER UPDATE OF testname, item_path, state, "
        f"status ON tests WHEN old.item_path != '' AND {_CHANGED} BEGIN {_UNCOUNT_OLD} END"
    ),
    "item_counts_update_new": (
        "CREATE TRIGGER item_counts_update_new AFTER UPDATE OF testname, item_path, state, "
        f"status ON tests WHEN new.item_path != '' AND {_CHANGED} BEGIN {_COUNT_NEW} END"
    ),
}


def upgrade() -> None:
    op.execute(
        "CREATE TABLE item_counts (testname TEXT, state TEXT, status TEXT, "
        "n INTEGER NOT NULL DEFAULT 0)"
    )
    op.execute("CREATE INDEX item_counts_index ON item_counts (testname, state, status)")
    op.execute(
        "INSERT INTO item_counts (testname, state, status, n) SELECT testname, state, status, "
        "count(*) FROM tests WHERE item_path != '' GROUP BY testname, state, status"
    )
    for sql in TRIGGERS.values():
        op.execute(sql)


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("item_counts_index", "item_counts")
    op.drop_table("item_counts")
