"""megatest.store: every database access of megatest (main.db + one db per run).

    from megatest.store import open_store
    with open_store(area_root, create=False) as store:
        runs = store.find_runs("ubuntu/%", "nightly")

`open_store` is the only place a concrete store is built; callers type it with the
`Store` protocol (megatest.store.interface). Today it is the direct SQLite store
(megatest.store.api.SqliteStore, on stdlib sqlite3: no SQLAlchemy import while the dbs are at
head); a client of the area's server will be the other. Modules load on first use so that
importing this package stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from megatest.store.interface import Store

__all__ = ["open_store"]


def open_store(
    area_root: str | Path,
    *,
    fields: Sequence[str] | Sequence[tuple[str, str]] | None = None,
    create: bool = True,
) -> Store:
    """The area's store. `fields` = the area's [fields] keys (names, or (name, type) pairs,
    in order): a new area gets its main db with those keys, and new keys are appended.
    `create=False`: a StoreError when the area has no database yet (queries, helpers)."""
    from megatest.store.api import SqliteStore

    return SqliteStore.open(area_root, fields=fields, create=create)
