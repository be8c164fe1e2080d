"""SQLAlchemy engines on the store's SQLite files, with explicit BEGIN / BEGIN IMMEDIATE.

pysqlite's own implicit transactions are switched off (see sqlite_conn.configure); the
engine's "begin" event issues BEGIN itself, IMMEDIATE when the connection asked for it with
`write_tx`. Reads therefore run in a deferred transaction (a consistent snapshot) and every
read-modify-write takes the write lock before its first read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from megatest.store import sqlite_conn

_BEGIN_OPTION = "megatest_begin"


def make_engine(db_path: Path, *, pool_size: int = 2) -> sa.Engine:
    """An engine on an existing (or about to be created) SQLite file."""
    engine = sa.create_engine(
        f"sqlite:///{db_path}",
        poolclass=sa.pool.QueuePool,
        pool_size=pool_size,
        max_overflow=8,
        connect_args={"timeout": sqlite_conn.BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        sqlite_conn.configure(dbapi_conn, db_path)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


@contextmanager
def _damage_named(engine: sa.Engine) -> Iterator[None]:
    """A damaged db file surfaces as a one-line StoreError naming it, wherever the first bad
    page is met (on connect or in the middle of a query), not as a driver traceback."""
    try:
        yield
    except sa.exc.DatabaseError as exc:
        if sqlite_conn.is_corruption(exc.orig):
            raise sqlite_conn.unreadable(engine.url.database, exc.orig) from None
        raise


@contextmanager
def write_tx(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside BEGIN IMMEDIATE; commits on success, rolls back on error."""
    with _damage_named(engine), engine.connect() as conn:
        conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn
