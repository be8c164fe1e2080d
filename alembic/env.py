"""Alembic environment of both schema trees (versions/main: main.db, versions/run: each
<run_id>.db). The body is megatest.store.migrations.run_env: it migrates the connection megatest
hands in (`megatest db migrate`, new areas) or, run by hand through alembic.ini, the db file
named by `-x db=PATH`."""

from megatest.store.migrations import run_env

run_env()
