"""<run_id>.db at the original's schema: the per-run tables of megatest.db (reference 1.2, 1.4).

Revision ID: run_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "run_0001"
down_revision = None
branch_labels = ("run",)
depends_on = None

NOW = sa.text("(strftime('%s','now'))")


def _t(name, default=None):
    return sa.Column(name, sa.Text, server_default=None if default is None else sa.text(f"'{default}'"))


def _i(name, default=None):
    return sa.Column(name, sa.Integer, server_default=None if default is None else sa.text(str(default)))


def _pk():
    return sa.Column("id", sa.Integer, primary_key=True)


def _last_update():
    return sa.Column("last_update", sa.Integer, server_default=NOW)


TRIGGERS = {
    "tests": "update_tests_trigger",
    "test_steps": "update_teststeps_trigger",
    "test_data": "update_test_data_trigger",
}


def upgrade() -> None:
    op.create_table(
        "tests", _pk(), _i("run_id", -1), _t("testname", "noname"), _t("host", "n/a"),
        sa.Column("cpuload", sa.Float, server_default=sa.text("-1")), _i("diskfree", -1),
        _t("uname", "n/a"), _t("rundir", "/tmp/badname"), _t("shortdir", "/tmp/badname"),
        _t("item_path", ""), _t("state", "NOT_STARTED"), _t("status", "FAIL"),
        _i("attemptnum", 0), _t("final_logf", "logs/final.log"), _t("logdat", ""),
        _i("run_duration", 0), _t("comment", ""),
        sa.Column("event_time", sa.Integer, server_default=NOW),
        _i("fail_count", 0), _i("pass_count", 0), _i("archived", 0), _last_update(),
        sa.UniqueConstraint("run_id", "testname", "item_path", name="testsconstraint"),
    )
    op.create_index("tests_index", "tests", ["run_id", "testname", "item_path", "uname"])
    op.create_table(
        "test_steps", _pk(), _i("test_id"), _t("stepname"), _t("state", "NOT_STARTED"),
        _t("status", "n/a"), sa.Column("event_time", sa.Integer), _t("comment", ""),
        _t("logfile", ""), _last_update(),
        sa.UniqueConstraint("test_id", "stepname", "state", name="test_steps_constraint"),
    )
    op.create_table(
        "test_data", _pk(), _i("test_id"), _t("category", ""), _t("variable"),
        sa.Column("value", sa.Float), sa.Column("expected", sa.Float), sa.Column("tol", sa.Float),
        _t("units"), _t("comment", ""), _t("status", "n/a"), _t("type", ""), _last_update(),
        sa.UniqueConstraint("test_id", "category", "variable", name="test_data_constraint"),
    )
    op.create_index("test_data_index", "test_data", ["test_id"])
    op.create_table(
        "test_rundat", _pk(), _i("test_id"), sa.Column("update_time", sa.Integer),
        _i("cpuload", -1), _i("diskfree", -1), _i("diskusage", -1), _i("run_duration", 0),
    )
    op.create_table(
        "archives", _pk(), _i("test_id"), _t("state", "new"), _t("status", "n/a"),
        _t("archive_type", "bup"), _i("du"), _t("archive_path"),
    )
    for table, trigger in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER UPDATE ON {table} FOR EACH ROW BEGIN "
            f"UPDATE {table} SET last_update=(strftime('%s','now')) WHERE id=old.id; END"
        )


def downgrade() -> None:
    for trigger in TRIGGERS.values():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in ("archives", "test_rundat", "test_data", "test_steps", "tests"):
        op.drop_table(table)
