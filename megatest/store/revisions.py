"""The head revision of each Alembic tree, known without importing Alembic.

Opening a store compares main.db's alembic_version row with HEADS["main"]; importing Alembic
(and walking its script directory) just for that costs half a second or more on every command.
Only the paths that upgrade a db import Alembic (megatest.store.migrations); a new db is made
from the recorded head schema (megatest.store.head_schema).

A new migration (a file in alembic/versions/<tree>/) must move its tree's entry here:
tests/store/test_revisions.py asserts these equal the heads Alembic's script directories
report, so a forgotten bump fails the tests. Then regenerate the head schema
(scripts/store/gen_head_schema.py; tests/store/test_head_schema.py).
"""

from __future__ import annotations

HEADS: dict[str, str] = {
    "main": "main_0002",
    "run": "run_0004",
}

# Older run-db revisions the writer may still write: they differ from the head only in ways the
# writer does not depend on (run_0002 still has the last_update triggers, which set the column
# the writer sets too) or that it works without (before run_0004 there are no item_counts: an
# item's parent is rolled up from the item rows). `megatest db migrate` brings them to the head.
WRITABLE_RUN_REVISIONS: frozenset[str] = frozenset({HEADS["run"], "run_0003", "run_0002"})
