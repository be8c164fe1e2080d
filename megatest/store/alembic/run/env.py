"""Alembic environment of the <run_id>.db tree; the shared body lives in megatest.store.migrations."""

from megatest.store.migrations import run_env

run_env()
