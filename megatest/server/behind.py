"""Write-behind for a long-lived writer: its calls queue writes, a thread of its own sends them.

The thread sends whatever is queued as one batch and waits for its answer; what queued
meanwhile goes as the next batch. A caller waits only when the queue is full (`LIMIT`
writes), at `flush()` and at `close()`. A refused batch (a test the run does not have, a bad
value) is sent again one call's writes at a time, so only the bad call's writes are lost, and
its error is raised to the caller at its next call or flush.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from megatest.errors import MegatestError, StoreWriteError, UsageError

LIMIT = 2000  # writes queued before a caller waits: bounds what a crash of the caller loses


class WriteBehind:
    """The queue and the sending thread of one writer."""

    def __init__(self, send: Callable[[list[dict]], None], limit: int = LIMIT) -> None:
        self._send = send
        self._limit = limit
        self._cond = threading.Condition()
        self._queued: list[list[dict]] = []  # one entry per call (or batch() block)
        self._count = 0
        self._busy = False
        self._closed = False
        self._error: MegatestError | None = None
        self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
        self._thread.start()

    def put(self, writes: list[dict]) -> None:
        """Queue one call's writes; raises the error of an earlier call that was refused."""
        with self._cond:
            self._raise_error()
            while self._count >= self._limit and not self._closed:
                self._cond.wait()
            if self._closed:
                raise UsageError("write after the writer was closed")
            self._queued.append(writes)
            self._count += len(writes)
            self._cond.notify_all()

    def flush(self) -> None:
        """Wait until everything queued is committed (or refused)."""
        with self._cond:
            while self._queued or self._busy:
                self._cond.wait()
            self._raise_error()

    def close(self) -> None:
        """Flush, then stop the thread."""
        try:
            self.flush()
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            self._thread.join()

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queued and not self._closed:
                    self._cond.wait()
                if not self._queued:
                    return
                calls, self._queued, self._count = self._queued, [], 0
                self._busy = True
                self._cond.notify_all()  # callers waiting for room
            try:
                error = self._deliver(calls)
            except Exception as exc:  # noqa: BLE001 (a caller waits on this thread's answer)
                error = StoreWriteError(f"writing through the server: {type(exc).__name__}: "
                                        f"{exc}".splitlines()[0])
            with self._cond:
                self._busy = False
                if error is not None and self._error is None:
                    self._error = error
                self._cond.notify_all()

    def _deliver(self, calls: list[list[dict]]) -> MegatestError | None:
        """Send the calls as one batch; when it is refused, each call alone."""
        try:
            self._send([write for call in calls for write in call])
            return None
        except MegatestError as exc:
            if len(calls) == 1:
                return exc
        first: MegatestError | None = None
        for call in calls:
            try:
                self._send(call)
            except MegatestError as exc:
                first = first or exc
        return first
