"""`runs start --junit FILE`: the run's JUnit file, rewritten as its tests end.

A listener on the run's events (megatest.engine.run_events). When a test ends it marks the
file out of date; at the end of a runner's turn it writes the file again from the store (the
same export as `megatest util junit`), at most once per interval, and always at the run's
end. The interval grows with the cost of a rewrite (ten times the last one's duration, one
second at least), so that a run of 100,000 tests spends at most a tenth of its time on it.
Between writes the file holds what the store held at the last one: tests not over yet are
left out of it until the end.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from megatest.engine.run_events import RunEnd, RunListener, TestChange
from megatest.report import cases

if TYPE_CHECKING:
    from megatest.store.interface import Store

MIN_INTERVAL = 1.0
COST_FACTOR = 10.0


def check_writable(path: Path) -> None:
    """Make `path`'s folder and a file in it now, so that a FILE that cannot be written stops
    `runs start` before the run (an OSError, one line), not in the middle of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(prefix=f".{path.name}.", dir=path.parent):
        pass


class LiveJUnit(RunListener):
    """Keeps FILE up to date with the run's ended tests. A write that fails (a full disk) is
    told on `err` and tried again later: the report never stops the run."""

    def __init__(self, area: Path, path: Path,
                 clock: Callable[[], float] = time.monotonic, err: TextIO | None = None) -> None:
        self.area = area
        self.path = path
        self.clock = clock
        self.err = err or sys.stderr
        self._told: set[str] = set()
        self.run_id: int | None = None
        self.dirty = False
        self.next_at = float("-inf")
        self.writes = 0
        self._store: Store | None = None

    def test_changed(self, change: TestChange) -> None:
        if self.run_id is None:
            self.run_id = change.test.run_id
        if cases.verdict(change.state, change.status) != cases.PENDING:
            self.dirty = True

    def turn(self) -> None:
        now = self.clock()
        if self.dirty and now >= self.next_at:
            self._try_write(final=False)
            spent = self.clock() - now
            self.next_at = now + max(MIN_INTERVAL, COST_FACTOR * spent)

    def run_ended(self, end: RunEnd) -> None:
        self.run_id = end.outcome.run_id
        try:
            self._try_write(final=True)
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _try_write(self, *, final: bool) -> None:
        try:
            self._write(final=final)
        except OSError as exc:
            line = f"megatest: warning: --junit {self.path}: {exc.strerror or exc}"
            if line not in self._told:  # once per cause, not once per turn
                self._told.add(line)
                print(line + ("" if final else "; tried again as tests end"), file=self.err)

    def _write(self, *, final: bool) -> None:
        from megatest.report.junit import JUnitExport

        if self.run_id is None:
            return
        if self._store is None:
            from megatest.store import open_store

            self._store = open_store(self.area, create=False)
        run = self._store.get_run(self.run_id)
        if run is None:
            return
        JUnitExport(self._store, final=final).write_file(
            self.path, cases.run_leaves(self._store, [run]))
        self.dirty = False
        self.writes += 1
