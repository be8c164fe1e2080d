"""megatest.store: every database access of megatest (main.db + one db per run).

`Store` (megatest.store.api) is the full API: `LeanStore` (megatest.store.lean, what the
runner and the run/query commands call) plus steps, test data and heartbeats. Both are stdlib
sqlite3, with no SQLAlchemy import while the dbs are at head; `TestWriter`
(megatest.store.testwrite) is the per-run writer under both and the test helpers. All are loaded on first use so that
importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LeanStore", "Store", "TestWriter"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from megatest.store.api import Store

        return Store
    if name == "LeanStore":
        from megatest.store.lean import LeanStore

        return LeanStore
    if name == "TestWriter":
        from megatest.store.testwrite import TestWriter

        return TestWriter
    raise AttributeError(name)
