"""Routing: a run id -> the engine of its <run_id>.db (and main.db for run id None).

The one place that knows where a run's rows live. A server, when there is one, will be
looked up here too, so callers never build a path or an engine themselves.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from megatest.errors import StoreError
from megatest.store import migrations, paths
from megatest.store.engines import make_engine


class DbRouter:
    def __init__(self, db_dir: Path):
        self.db_dir = Path(db_dir)
        self._lock = threading.Lock()
        self._main: sa.Engine | None = None
        self._runs: dict[int, sa.Engine] = {}

    @property
    def main_path(self) -> Path:
        return self.db_dir / paths.MAIN_DB_NAME

    def run_path(self, run_id: int) -> Path:
        return self.db_dir / f"{int(run_id)}.db"

    def main(self) -> sa.Engine:
        with self._lock:
            if self._main is None:
                if not self.main_path.is_file():
                    raise StoreError(f"{self.main_path}: no main.db")
                self._main = make_engine(self.main_path)
            return self._main

    def run(self, run_id: int, *, create: bool = False) -> sa.Engine:
        """The engine of a run's db; `create` makes the file (at head) when it is missing."""
        run_id = int(run_id)
        with self._lock:
            engine = self._runs.get(run_id)
            if engine is not None:
                return engine
            path = self.run_path(run_id)
            if not path.is_file():
                if not create:
                    raise StoreError(f"{path}: no database for run {run_id}")
                migrations.build_at_head(path, "run")
            engine = make_engine(path)
            self._runs[run_id] = engine
            return engine

    def has_run_db(self, run_id: int) -> bool:
        return self.run_path(run_id).is_file()

    def drop_run(self, run_id: int) -> None:
        """Forget and delete a run's db file."""
        with self._lock:
            engine = self._runs.pop(int(run_id), None)
            if engine is not None:
                engine.dispose()
            for f in paths.sidecar_files(self.run_path(run_id)):
                f.unlink(missing_ok=True)

    def dispose(self) -> None:
        with self._lock:
            for engine in self._runs.values():
                engine.dispose()
            self._runs.clear()
            if self._main is not None:
                self._main.dispose()
                self._main = None
