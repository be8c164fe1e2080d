"""megatest.store: every database access of megatest (main.db + one db per run).

`Store` (SQLAlchemy, megatest.store.api) is the full API; `TestWriter`
(megatest.store.testwrite) is the lean stdlib path for per-test helper calls. Both are loaded
on first use so that importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Store", "TestWriter"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from megatest.store.api import Store

        return Store
    if name == "TestWriter":
        from megatest.store.testwrite import TestWriter

        return TestWriter
    raise AttributeError(name)
