"""Where an area's databases live: <area>/.db/main.db and <area>/.db/<run_id>.db."""

from __future__ import annotations

import re
from pathlib import Path

DB_DIR_NAME = ".db"
MAIN_DB_NAME = "main.db"
LEGACY_DB_NAME = "megatest.db"
_RUN_DB = re.compile(r"^(\d+)\.db$")


def db_dir(area_root: str | Path) -> Path:
    return Path(area_root) / DB_DIR_NAME


def main_db(area_root: str | Path) -> Path:
    return db_dir(area_root) / MAIN_DB_NAME


def run_db(area_root: str | Path, run_id: int) -> Path:
    return db_dir(area_root) / f"{int(run_id)}.db"


def legacy_db(area_root: str | Path) -> Path:
    return Path(area_root) / LEGACY_DB_NAME


def run_db_files(directory: str | Path) -> dict[int, Path]:
    """run id -> file for every <run_id>.db in a db folder."""
    found: dict[int, Path] = {}
    folder = Path(directory)
    if folder.is_dir():
        for entry in folder.iterdir():
            m = _RUN_DB.match(entry.name)
            if m:
                found[int(m.group(1))] = entry
    return found


def sidecar_files(db_file: Path) -> list[Path]:
    """The db file and the journal files SQLite may keep next to it."""
    return [db_file, *(db_file.with_name(db_file.name + s) for s in ("-wal", "-shm", "-journal"))]
