"""Indexes the store's queries need: tests by state (dead-test scan, filters), and the per-test
child rows that the original left unindexed.

Revision ID: run_0002
"""

from alembic import op

revision = "run_0002"
down_revision = "run_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("tests_state_index", "tests", ["state", "status"])
    op.create_index("test_rundat_index", "test_rundat", ["test_id"])
    op.create_index("archives_index", "archives", ["test_id"])


def downgrade() -> None:
    op.drop_index("archives_index", "archives")
    op.drop_index("test_rundat_index", "test_rundat")
    op.drop_index("tests_state_index", "tests")
