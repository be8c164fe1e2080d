"""The one schema definition: SQLAlchemy Core tables for main.db and for every <run_id>.db.

This module describes the schema at the *head* revision of both Alembic trees; the revisions in
alembic/versions/{main,run}/ build exactly this (tests/store/test_migrations.py compares them). The lean
stdlib write path (megatest/store/testwrite.py) uses the column names declared here; a test checks
that they agree.

`runs` has one TEXT column per key of the area's [fields]. They are not part of any revision:
`keys_schema.ensure_keys()` adds them (ALTER TABLE) and records them in the `keys` table, as the
original did at db creation. `runs_table(keys)` returns a `runs` Table that includes them.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa

from megatest.store.columns import RESERVED_RUN_COLUMNS  # noqa: F401 (re-exported)

NOW = sa.text("(strftime('%s','now'))")


def _text(name: str, default: str | None = None, **kw) -> sa.Column:
    sd = None if default is None else sa.text(f"'{default}'")
    return sa.Column(name, sa.Text, server_default=sd, **kw)


def _int(name: str, default: int | None = None, **kw) -> sa.Column:
    sd = None if default is None else sa.text(str(default))
    return sa.Column(name, sa.Integer, server_default=sd, **kw)


class LooseReal(sa.types.UserDefinedType):
    """A column declared FLOAT (REAL affinity) whose values pass through untouched: the
    original stores comparator strings like ">=" in test_data.tol and text in value."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "FLOAT"


def _pk() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _last_update() -> sa.Column:
    return sa.Column("last_update", sa.Integer, server_default=NOW)


# --------------------------------------------------------------------------- main.db
main_metadata = sa.MetaData()

keys = sa.Table(
    "keys", main_metadata,
    _pk(),
    sa.Column("fieldname", sa.Text),
    sa.Column("fieldtype", sa.Text),
    sa.UniqueConstraint("fieldname", name="keyconstraint"),
)

RUNS_BASE_COLUMNS = (
    "id", "runname", "contour", "state", "status", "owner", "event_time", "comment",
    "fail_count", "pass_count", "last_update", "end_time", "locked",
)


def _runs_columns() -> list[sa.Column]:
    return [
        _pk(),
        _text("runname", "norun"),
        _text("contour", ""),
        _text("state", ""),
        _text("status", ""),
        _text("owner", ""),
        sa.Column("event_time", sa.Integer, server_default=NOW),
        _text("comment", ""),
        _int("fail_count", 0),
        _int("pass_count", 0),
        _last_update(),
        # main 0002: when the run ended (set by the run rollup), and the run lock flag.
        sa.Column("end_time", sa.Integer),
        _int("locked", 0),
    ]


runs = sa.Table("runs", main_metadata, *_runs_columns(), sqlite_autoincrement=True)


def runs_table(key_names: list[str]) -> sa.Table:
    """A `runs` Table (in its own MetaData) that also has the area's key columns."""
    md = sa.MetaData()
    return sa.Table(
        "runs", md, *_runs_columns(), *(sa.Column(k, sa.Text) for k in key_names),
        sqlite_autoincrement=True,
    )


run_stats = sa.Table(
    "run_stats", main_metadata,
    _pk(), _int("run_id"), _text("state"), _text("status"), _int("count"), _last_update(),
)

test_meta = sa.Table(
    "test_meta", main_metadata,
    _pk(),
    _text("testname", ""),
    _text("author", ""),
    _text("owner", ""),
    _text("description", ""),
    sa.Column("reviewed", sa.Integer),
    _text("iterated", ""),
    sa.Column("avg_runtime", sa.Float),
    sa.Column("avg_disk", sa.Float),
    _text("tags", ""),
    _text("jobgroup", "default"),
    sa.UniqueConstraint("testname", name="test_meta_constraint"),
)

tasks_queue = sa.Table(
    "tasks_queue", main_metadata,
    _pk(),
    _text("action", ""),
    _text("owner"),
    _text("state", "new"),
    _text("target", ""),
    _text("name", ""),
    _text("testpatt", ""),
    _text("keylock"),
    _text("params"),
    sa.Column("creation_time", sa.Integer, server_default=NOW),
    sa.Column("execution_time", sa.Integer),
)

# The original's creation_time default on the archive tables is strftime('%','now'), which is
# not a valid format; here it is the epoch time like every other timestamp.
archive_disks = sa.Table(
    "archive_disks", main_metadata,
    _pk(), _text("archive_area_name"), _text("disk_path"), _int("last_df", -1),
    sa.Column("last_df_time", sa.Integer, server_default=NOW),
    sa.Column("creation_time", sa.Integer, server_default=NOW),
)

archive_blocks = sa.Table(
    "archive_blocks", main_metadata,
    _pk(), _int("archive_disk_id"), _text("disk_path"), _int("last_du", -1),
    sa.Column("last_du_time", sa.Integer, server_default=NOW),
    sa.Column("creation_time", sa.Integer, server_default=NOW),
)

archive_allocations = sa.Table(
    "archive_allocations", main_metadata,
    _pk(), _int("archive_block_id"), _text("testname"), _text("item_path"),
    sa.Column("creation_time", sa.Integer, server_default=NOW),
)

extradat = sa.Table(
    "extradat", main_metadata, _pk(), _int("run_id"), _text("key"), _text("val"),
)

metadat = sa.Table(
    "metadat", main_metadata,
    _pk(), _text("var"), _text("val"),
    sa.UniqueConstraint("var", name="metadat_constraint"),
)

access_log = sa.Table(
    "access_log", main_metadata,
    _pk(), _text("user"), sa.Column("accessed", sa.Integer), _text("args"),
)

# main 0002: global test ids. Every test row of every run db takes its id from here, so a test
# id names one test in the whole area (the original API looks tests up by id alone), and the
# table maps a test id back to the run db that holds it.
test_ids = sa.Table(
    "test_ids", main_metadata,
    _pk(), sa.Column("run_id", sa.Integer, nullable=False),
    sqlite_autoincrement=True,
)

sa.Index("test_ids_run_index", test_ids.c.run_id)
sa.Index("run_stats_index", run_stats.c.run_id)

MAIN_TABLES = (
    "keys", "runs", "run_stats", "test_meta", "tasks_queue", "archive_disks",
    "archive_blocks", "archive_allocations", "extradat", "metadat", "access_log", "test_ids",
)

# --------------------------------------------------------------------------- <run_id>.db
run_metadata = sa.MetaData()

tests = sa.Table(
    "tests", run_metadata,
    _pk(),
    _int("run_id", -1),
    _text("testname", "noname"),
    _text("host", "n/a"),
    sa.Column("cpuload", sa.Float, server_default=sa.text("-1")),
    _int("diskfree", -1),
    _text("uname", "n/a"),
    _text("rundir", "/tmp/badname"),
    _text("shortdir", "/tmp/badname"),
    _text("item_path", ""),
    _text("state", "NOT_STARTED"),
    _text("status", "FAIL"),
    _int("attemptnum", 0),
    _text("final_logf", "logs/final.log"),
    _text("logdat", ""),
    _int("run_duration", 0),
    _text("comment", ""),
    sa.Column("event_time", sa.Integer, server_default=NOW),
    _int("fail_count", 0),
    _int("pass_count", 0),
    _int("archived", 0),
    _last_update(),
    sa.UniqueConstraint("run_id", "testname", "item_path", name="testsconstraint"),
)

# The 18-field test record of the original, in its order (db:test-record-fields).
TEST_RECORD_FIELDS = (
    "id", "run_id", "testname", "state", "status", "event_time", "host", "cpuload",
    "diskfree", "uname", "rundir", "item_path", "run_duration", "final_logf", "comment",
    "shortdir", "attemptnum", "archived",
)

test_steps = sa.Table(
    "test_steps", run_metadata,
    _pk(),
    _int("test_id"),
    _text("stepname"),
    _text("state", "NOT_STARTED"),
    _text("status", "n/a"),
    sa.Column("event_time", sa.Integer),
    _text("comment", ""),
    _text("logfile", ""),
    _last_update(),
    sa.UniqueConstraint("test_id", "stepname", "state", name="test_steps_constraint"),
)

test_data = sa.Table(
    "test_data", run_metadata,
    _pk(),
    _int("test_id"),
    _text("category", ""),
    _text("variable"),
    # value/expected/tol are declared REAL as in the original; SQLite keeps strings as given
    # (tol holds comparators like ">=").
    sa.Column("value", LooseReal()),
    sa.Column("expected", LooseReal()),
    sa.Column("tol", LooseReal()),
    _text("units"),
    _text("comment", ""),
    _text("status", "n/a"),
    _text("type", ""),
    _last_update(),
    sa.UniqueConstraint("test_id", "category", "variable", name="test_data_constraint"),
)

test_rundat = sa.Table(
    "test_rundat", run_metadata,
    _pk(),
    _int("test_id"),
    sa.Column("update_time", sa.Integer),
    _int("cpuload", -1),
    _int("diskfree", -1),
    _int("diskusage", -1),
    _int("run_duration", 0),
)

archives = sa.Table(
    "archives", run_metadata,
    _pk(),
    _int("test_id"),
    _text("state", "new"),
    _text("status", "n/a"),
    _text("archive_type", "bup"),
    _int("du"),
    _text("archive_path"),
)

sa.Index("tests_index", tests.c.run_id, tests.c.testname, tests.c.item_path, tests.c.uname)
sa.Index("test_data_index", test_data.c.test_id)
# run 0002: indexes the queries need (dead-test scan, per-test child rows).
sa.Index("tests_state_index", tests.c.state, tests.c.status)
sa.Index("test_rundat_index", test_rundat.c.test_id)
sa.Index("archives_index", archives.c.test_id)

# run 0004: how many items of each test are in each (state, status), kept by triggers on tests
# (alembic/versions/run/run_0004_item_counts.py): an item's write rolls its parent up from these
# instead of from every item row (megatest.store.item_counts).
item_counts = sa.Table(
    "item_counts", run_metadata,
    sa.Column("testname", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("n", sa.Integer, nullable=False, server_default=sa.text("0")),
)
sa.Index("item_counts_index", item_counts.c.testname, item_counts.c.state, item_counts.c.status)

RUN_TABLES = ("tests", "test_steps", "test_data", "test_rundat", "archives")
# Tables whose rows belong to a test through test_id.
TEST_CHILD_TABLES = ("test_steps", "test_data", "test_rundat", "archives")

# The original's "last_update := now on UPDATE" triggers stay on main.db's runs and run_stats
# (alembic/versions/main); run databases dropped theirs in run_0003, and megatest.store.testwrite stamps
# last_update in its own statements.


@functools.cache
def column_names(table: str) -> tuple[str, ...]:
    """Column names of a main or run table (runs: without key columns)."""
    for md in (main_metadata, run_metadata):
        if table in md.tables:
            return tuple(c.name for c in md.tables[table].columns)
    raise KeyError(table)
