"""Column-name constants the stdlib paths need without importing the SQLAlchemy schema.

megatest.store.schema (SQLAlchemy Core) stays the one schema definition; it takes
RESERVED_RUN_COLUMNS from here, and tests/store/test_lean_store.py checks that every other
name here is a column of the table schema.py declares.
"""

from __future__ import annotations

# The columns of `runs` the original reserves; a key of [fields] may not use these names.
RESERVED_RUN_COLUMNS = (
    "runname", "state", "status", "owner", "event_time", "comment", "fail_count",
    "pass_count", "contour",
    # new in this implementation (revision main 0002)
    "end_time", "locked", "id", "last_update",
)

# runs columns a RunRecord is built from (besides the area's key columns).
RUN_RECORD_COLUMNS = (
    "id", "runname", "state", "status", "owner", "event_time", "comment", "fail_count",
    "pass_count", "contour", "last_update", "end_time", "locked",
)

# tests columns a TestRecord is built from (megatest.store.records.TestRecord fields).
TEST_RECORD_COLUMNS = (
    "id", "run_id", "testname", "item_path", "state", "status", "event_time", "host",
    "cpuload", "diskfree", "uname", "rundir", "shortdir", "run_duration", "final_logf",
    "comment", "attemptnum", "archived", "fail_count", "pass_count", "logdat", "last_update",
)

# test_meta fields a caller may set (Store.set_test_meta_many).
TEST_META_FIELDS = frozenset({
    "author", "owner", "description", "reviewed", "iterated", "avg_runtime", "avg_disk", "tags",
    "jobgroup",
})

# tests columns update_fields may set; state and status only change through set_state_status
# (which rolls up), identity columns never. Store.update_test_fields and the server's write
# API use the same list.
UPDATABLE_TEST_FIELDS = frozenset({
    "host", "cpuload", "diskfree", "uname", "rundir", "shortdir", "attemptnum", "final_logf",
    "logdat", "run_duration", "comment", "event_time", "archived", "fail_count", "pass_count",
})
