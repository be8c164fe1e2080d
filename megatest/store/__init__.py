"""megatest.store: every database access of megatest (main.db + one db per run).

    from megatest.store import open_store
    with open_store(area_root, create=False) as store:
        runs = store.find_runs("ubuntu/%", "nightly")

`open_store` (and `open_run_writer`, one run's writer alone, for the test helpers) are the
only places a concrete store is built; callers type it with the
`Store` protocol (megatest.store.interface). Today it is the direct SQLite store
(megatest.store.api.SqliteStore, on stdlib sqlite3: no SQLAlchemy import while the dbs are at
head); a client of the area's server will be the other. Modules load on first use so that
importing this package stays cheap.
"""

from __future__ import annotations

# not `from typing import TYPE_CHECKING`: the test helpers import this package, and typing
# costs each of their calls several ms
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from megatest.store.interface import RunWriter, Store

__all__ = ["open_run_writer", "open_store"]


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


def open_run_writer(area_root: str | Path, run_id: int) -> RunWriter:
    """One run's writer on its own, without the area's main db: what a test's helper calls
    (`-test-status`, `-step`, ...) need, and they run thousands of times per run. Close it
    (or use it in a with-block) when done."""
    from megatest.store.testwrite import TestWriter

    return TestWriter(area_root, run_id)
