"""main.db for the split layout: run end_time and lock flag, global test ids.

* runs.end_time: set by the run rollup when the run has ended (reference 3.5).
* runs.locked: the lock no longer overwrites runs.state (which the run rollup now owns);
  a run whose state was 'locked' becomes locked=1.
* test_ids: one row per test of any run db; tests take their id from here.

Revision ID: main_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "main_0002"
down_revision = "main_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("end_time", sa.Integer))
    op.add_column("runs", sa.Column("locked", sa.Integer, server_default=sa.text("0")))
    op.execute("UPDATE runs SET locked=1 WHERE state='locked'")
    op.create_table(
        "test_ids",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("test_ids_run_index", "test_ids", ["run_id"])


def downgrade() -> None:
    op.drop_index("test_ids_run_index", "test_ids")
    op.drop_table("test_ids")
    op.execute("UPDATE runs SET state='locked' WHERE locked=1")
    # SQLite >= 3.35 drops a column in place.
    op.execute("ALTER TABLE runs DROP COLUMN locked")
    op.execute("ALTER TABLE runs DROP COLUMN end_time")
