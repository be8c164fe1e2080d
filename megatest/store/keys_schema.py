"""The key columns of `runs` (one per [fields] entry) and their record in the `keys` table.

They are not in any Alembic revision because they differ per area: when main.db is created
(or an area adds a key) they are added here with ALTER TABLE, written to `keys` in [fields]
order, and the unique index over (runname, key...) is rebuilt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from megatest.errors import StoreError
from megatest.store.columns import RESERVED_RUN_COLUMNS

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ()]*$")
RUNS_UNIQUE_INDEX = "runs_keys_unique"


def check_fields(fields: list[tuple[str, str]]) -> None:
    for name, ftype in fields:
        if not _NAME.match(name):
            raise StoreError(f"[fields] key {name!r} is not a valid column name")
        if name.lower() in RESERVED_RUN_COLUMNS:
            raise StoreError(f"[fields] key {name!r} clashes with a column of runs")
        if ftype and not _TYPE.match(ftype):
            raise StoreError(f"[fields] key {name!r} has an unusable type {ftype!r}")


Execute = Callable[..., Any]
"""execute(sql, params=()) -> cursor: sqlite3's Connection.execute or SQLAlchemy's
Connection.exec_driver_sql, so the stdlib converter and the Store share this code."""


def stored_keys(execute: Execute) -> list[str]:
    return [r[0] for r in execute("SELECT fieldname FROM keys ORDER BY id").fetchall()]


def ensure_keys(execute: Execute, fields: list[tuple[str, str]]) -> list[str]:
    """Make main.db's key columns match `fields` ((name, type) in [fields] order).

    A db without keys takes them all; a db whose keys are a prefix of `fields` gets the new
    ones appended (old runs get '' for them). Anything else is an error: renaming or removing a
    key would change what every stored target means.
    """
    check_fields(fields)
    have = stored_keys(execute)
    wanted = [name for name, _ in fields]
    if have == wanted:
        return have
    if have != wanted[: len(have)]:
        raise StoreError(
            f"the area's [fields] ({', '.join(wanted) or 'none'}) do not match the keys of "
            f"main.db ({', '.join(have)}); keys can only be appended"
        )
    add_key_columns(execute, fields[len(have):])
    rebuild_unique_index(execute, wanted)
    return wanted


def add_key_columns(execute: Execute, fields: list[tuple[str, str]]) -> None:
    """Add key columns to runs (unless present) and append them to the keys table."""
    check_fields(fields)
    columns = {r[1] for r in execute("PRAGMA table_info(runs)").fetchall()}
    for name, ftype in fields:
        if name not in columns:
            execute(f'ALTER TABLE runs ADD COLUMN "{name}" {ftype or "TEXT"} DEFAULT \'\'')
        execute(
            "INSERT INTO keys (id, fieldname, fieldtype) "
            "VALUES ((SELECT coalesce(max(id), -1) + 1 FROM keys), ?, ?)",
            (name, ftype or "TEXT"),
        )


def rebuild_unique_index(execute: Execute, key_names: list[str]) -> None:
    """UNIQUE(runname, key1..keyN) as an index (SQLite cannot add a constraint to a table)."""
    cols = ", ".join(["runname", *(f'"{k}"' for k in key_names)])
    execute(f"DROP INDEX IF EXISTS {RUNS_UNIQUE_INDEX}")
    execute(f"CREATE UNIQUE INDEX {RUNS_UNIQUE_INDEX} ON runs ({cols})")
