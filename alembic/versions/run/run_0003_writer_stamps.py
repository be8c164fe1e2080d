"""The writer stamps last_update itself: the three AFTER UPDATE triggers are dropped.

Each trigger re-ran an UPDATE of the row it fired on, which tripled the cost of every test
state change (38 us against 12 us per row on the benchmark machine). megatest.store.testwrite,
the only writer of run databases, sets last_update in the same statement instead.

Revision ID: run_0003
"""

from alembic import op

revision = "run_0003"
down_revision = "run_0002"
branch_labels = None
depends_on = None

TRIGGERS = {
    "tests": "update_tests_trigger",
    "test_steps": "update_teststeps_trigger",
    "test_data": "update_test_data_trigger",
}


def upgrade() -> None:
    for trigger in TRIGGERS.values():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def downgrade() -> None:
    for table, trigger in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER UPDATE ON {table} FOR EACH ROW BEGIN "
            f"UPDATE {table} SET last_update=(strftime('%s','now')) WHERE id=old.id; END"
        )
