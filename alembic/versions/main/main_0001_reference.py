"""main.db at the original's schema: the main tables of megatest.db (reference 1.2, 1.4).

Revision ID: main_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "main_0001"
down_revision = None
branch_labels = ("main",)
depends_on = None

NOW = sa.text("(strftime('%s','now'))")


def _t(name, default=None):
    return sa.Column(name, sa.Text, server_default=None if default is None else sa.text(f"'{default}'"))


def _i(name, default=None):
    return sa.Column(name, sa.Integer, server_default=None if default is None else sa.text(str(default)))


def _pk():
    return sa.Column("id", sa.Integer, primary_key=True)


TRIGGERS = {"runs": "update_runs_trigger", "run_stats": "update_run_stats_trigger"}


def upgrade() -> None:
    op.create_table(
        "keys", _pk(), _t("fieldname"), _t("fieldtype"),
        sa.UniqueConstraint("fieldname", name="keyconstraint"),
    )
    # Key columns are added per area by megatest.store.keys_schema (they depend on [fields]).
    op.create_table(
        "runs", _pk(), _t("runname", "norun"), _t("contour", ""), _t("state", ""),
        _t("status", ""), _t("owner", ""), sa.Column("event_time", sa.Integer, server_default=NOW),
        _t("comment", ""), _i("fail_count", 0), _i("pass_count", 0),
        sa.Column("last_update", sa.Integer, server_default=NOW),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "run_stats", _pk(), _i("run_id"), _t("state"), _t("status"), _i("count"),
        sa.Column("last_update", sa.Integer, server_default=NOW),
    )
    op.create_table(
        "test_meta", _pk(), _t("testname", ""), _t("author", ""), _t("owner", ""),
        _t("description", ""), sa.Column("reviewed", sa.Integer), _t("iterated", ""),
        sa.Column("avg_runtime", sa.Float), sa.Column("avg_disk", sa.Float), _t("tags", ""),
        _t("jobgroup", "default"),
        sa.UniqueConstraint("testname", name="test_meta_constraint"),
    )
    op.create_table(
        "tasks_queue", _pk(), _t("action", ""), _t("owner"), _t("state", "new"), _t("target", ""),
        _t("name", ""), _t("testpatt", ""), _t("keylock"), _t("params"),
        sa.Column("creation_time", sa.Integer, server_default=NOW),
        sa.Column("execution_time", sa.Integer),
    )
    op.create_table(
        "archive_disks", _pk(), _t("archive_area_name"), _t("disk_path"), _i("last_df", -1),
        sa.Column("last_df_time", sa.Integer, server_default=NOW),
        sa.Column("creation_time", sa.Integer, server_default=NOW),
    )
    op.create_table(
        "archive_blocks", _pk(), _i("archive_disk_id"), _t("disk_path"), _i("last_du", -1),
        sa.Column("last_du_time", sa.Integer, server_default=NOW),
        sa.Column("creation_time", sa.Integer, server_default=NOW),
    )
    op.create_table(
        "archive_allocations", _pk(), _i("archive_block_id"), _t("testname"), _t("item_path"),
        sa.Column("creation_time", sa.Integer, server_default=NOW),
    )
    op.create_table("extradat", _pk(), _i("run_id"), _t("key"), _t("val"))
    op.create_table(
        "metadat", _pk(), _t("var"), _t("val"),
        sa.UniqueConstraint("var", name="metadat_constraint"),
    )
    op.create_table("access_log", _pk(), _t("user"), sa.Column("accessed", sa.Integer), _t("args"))
    op.create_index("run_stats_index", "run_stats", ["run_id"])
    for table, trigger in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER UPDATE ON {table} FOR EACH ROW BEGIN "
            f"UPDATE {table} SET last_update=(strftime('%s','now')) WHERE id=old.id; END"
        )


def downgrade() -> None:
    for trigger in TRIGGERS.values():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in (
        "access_log", "metadat", "extradat", "archive_allocations", "archive_blocks",
        "archive_disks", "tasks_queue", "test_meta", "run_stats", "runs", "keys",
    ):
        op.drop_table(table)
