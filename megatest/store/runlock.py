"""One runner per run: an advisory lock file held for as long as the runner lives.

The SQLite store's answer to "is a runner alive for this run" (Store.claim_run and
Store.runner_alive): a file `.db/runner-<id>.lock` next to the run's db. Only a process that
sees the same file system can ask it; a store that is a server's client asks the server.

The kernel drops an flock when its holder dies, even by SIGKILL, so a runner that gets the
lock knows that any row of the run still LAUNCHED/RUNNING belongs to a dead runner (stale),
and a second `runs start` of the same run while one is running is refused instead of
launching every test twice.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from megatest.errors import UsageError


def lock_path(lock_dir: Path, run_id: int) -> Path:
    return Path(lock_dir) / f"runner-{run_id}.lock"


def runner_alive(lock_dir: Path, run_id: int) -> bool:
    """Whether a `runs start` of this run is alive: some process holds its lock."""
    try:
        fd = os.open(lock_path(lock_dir, run_id), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


class RunLock:
    def __init__(self, lock_dir: Path, run_id: int):
        self.path = lock_path(lock_dir, run_id)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UsageError(
                f"this run is already being run by another megatest (pid {holder}); "
                f"wait for it or stop it with `megatest runs kill`"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
