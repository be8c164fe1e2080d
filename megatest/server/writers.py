"""The server's writers: ONE thread per run db, which takes every batch that arrived while it
was writing the last transaction and writes them together in one transaction.

A request's handler thread queues its batch and waits; it is answered once the transaction
holding its batch is committed (a 200 means the writes are in the db). Each batch is a
savepoint inside that transaction, so a batch that fails (a test the run does not have)
is refused alone and the others still commit.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import OrderedDict
from pathlib import Path

from megatest.errors import MegatestError, StoreError, StoreWriteError, UsageError
from megatest.server import wire
from megatest.store.paths import run_db

REMEMBERED = 10_000  # committed batch ids kept, to answer a repeated batch without writing it


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a file, None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class Refused(Exception):
    """A batch not written: `status` is the HTTP answer, the message its one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Job:
    __slots__ = ("batch", "writes", "done", "error")

    def __init__(self, batch: str, writes: list[dict]) -> None:
        self.batch, self.writes = batch, writes
        self.done = threading.Event()
        self.error: Refused | None = None


class RunQueue:
    """The writer thread of one run db (an sqlite3 connection belongs to its thread)."""

    def __init__(self, area: Path, run_id: int) -> None:
        self.run_id = run_id
        self._file: tuple[int, int] | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._opened = threading.Event()
        self._open_error: MegatestError | None = None
        self.thread = threading.Thread(target=self._run, args=(area,), daemon=True,
                                       name=f"writer-{run_id}")
        self.thread.start()
        self._opened.wait()
        if self._open_error is not None:
            raise self._open_error

    def write(self, batch: str, writes: list[dict]) -> None:
        """Returns once the writes are committed; Refused when they are not."""
        job = _Job(batch, writes)
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error

    def stop(self) -> None:
        self._jobs.put(None)
        self.thread.join()

    def _run(self, area: Path) -> None:
        writer = self._open(area)
        self._opened.set()
        if writer is None:
            return
        try:
            while True:
                jobs = self._take()
                if not jobs:
                    return
                writer = self._current(area, writer)
                if writer is None:
                    self._refuse([j for j in jobs if j is not None])
                else:
                    self._write(writer, [j for j in jobs if j is not None])
                if None in jobs:
                    return
        finally:
            if writer is not None:
                writer.close()

    def _open(self, area: Path):
        """The run's writer and the identity of the file it opened; None (the error kept)
        when the run has no db."""
        from megatest.store import open_run_writer

        try:
            writer = open_run_writer(area, self.run_id)
        except StoreError as exc:
            self._open_error = exc
            return None
        self._file = _identity(run_db(area, self.run_id))
        return writer

    def _current(self, area: Path, writer):
        """`writer`, or a new one when the run's db file was removed or replaced since it
        was opened (a run removed, a `.db/` wiped and made again): writes must never go to
        a file no one will read."""
        if writer is not None:
            if _identity(run_db(area, self.run_id)) == self._file:
                return writer
            writer.close()
        self._open_error = None
        return self._open(area)

    def _refuse(self, jobs: list[_Job]) -> None:
        message = (self._open_error.one_line() if self._open_error is not None
                   else f"run {self.run_id} has no database")
        for job in jobs:
            job.error = Refused(400, message)
            job.done.set()

    def _take(self) -> list[_Job | None]:
        """The next job and every one already waiting (they share a transaction)."""
        jobs = [self._jobs.get()]
        while jobs[-1] is not None:
            try:
                jobs.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        return [] if jobs == [None] else jobs

    def _write(self, writer, jobs: list[_Job]) -> None:
        try:
            with writer.batch():
                for job in jobs:
                    job.error = _apply(writer, self.run_id, job.writes)
        except StoreWriteError as exc:  # the commit failed: nothing of this transaction is in
            for job in jobs:
                job.error = Refused(503, exc.one_line())
        except Exception as exc:  # noqa: BLE001 (the thread must answer every waiting call)
            for job in jobs:
                job.error = Refused(500, f"internal error: {type(exc).__name__}: {exc}"
                                    .splitlines()[0])
        for job in jobs:
            job.done.set()


def _apply(writer, run_id: int, writes: list[dict]) -> Refused | None:
    """One batch in its own savepoint: None when written, the refusal otherwise."""
    wanted = {w["test_id"] for w in writes}
    missing = wanted - writer.known_tests(wanted)
    if missing:
        return Refused(400, f"run {run_id} has no test {', '.join(map(str, sorted(missing)))}")
    try:
        with writer.batch():
            writer.apply(wire.to_records(writes))
    except StoreWriteError:
        raise  # the db itself failed: the whole transaction goes
    except (StoreError, UsageError) as exc:
        return Refused(400, exc.one_line())
    return None


class RunWriters:
    """Every run's writer thread, made on a run's first batch; and the committed batch ids."""

    def __init__(self, area: Path) -> None:
        self.area = area
        self._queues: dict[int, RunQueue] = {}
        self._committed: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.batches = 0  # batches committed since the server started

    def write(self, run_id: int, batch: str, writes: list[dict]) -> bool:
        """Write a checked batch; False when this batch id was already committed here (a
        client's retry after a lost answer), so it is not written again."""
        key = f"{run_id}/{batch}"
        with self._lock:
            if key in self._committed:
                return False
            run_queue = self._queues.get(run_id)
            if run_queue is None:
                try:
                    run_queue = RunQueue(self.area, run_id)
                except StoreError as exc:
                    raise Refused(400, exc.one_line()) from None
                self._queues[run_id] = run_queue
        run_queue.write(batch, writes)
        with self._lock:
            self.batches += 1
            self._committed[key] = None
            while len(self._committed) > REMEMBERED:
                self._committed.popitem(last=False)
        return True

    def close(self) -> None:
        with self._lock:
            queues, self._queues = list(self._queues.values()), {}
        for run_queue in queues:
            run_queue.stop()
