"""The local launcher: many TestJobs supervised from the runner's own loop.

No interpreter per test and no thread per test. Each running step has a pidfd (Linux >= 5.3);
one `select.poll()` waits on all of them with a timeout that is the nearest job deadline
(heartbeat, runtime limit, kill grace), so the loop sleeps until a child exits or a timer is
due. Without pidfds it falls back to a 50 ms timer.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterable

from megatest.executor.events import Event
from megatest.executor.reporter import TestRef
from megatest.executor.steps import TestJob


class LocalLauncher:
    """Holds running TestJobs; `poll()` reaps children and advances jobs without busy-waiting."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._jobs: dict[TestRef, TestJob] = {}
        self._poller = select.poll()
        self._fd_job: dict[int, TestJob] = {}  # registered pidfd -> its job
        self._job_fd: dict[TestRef, tuple[int, int]] = {}  # job -> (fd, pid) registered
        self._extra: dict[int, int] = {}  # other fds that end a poll() -> their event mask
        self.ready_extra: frozenset[int] = frozenset()  # watched fds the last poll() found ready

    # -- public -------------------------------------------------------------------------------

    def submit(self, job: TestJob) -> list[Event]:
        """Start a job and supervise it. Returns the events of its start."""
        if job.test in self._jobs:
            raise ValueError(f"{job.test.full_name} is already running in this launcher")
        events = job.start(self.clock())
        self._track(job)
        return events

    @property
    def running(self) -> int:
        return len(self._jobs)

    def job(self, test: TestRef) -> TestJob | None:
        return self._jobs.get(test)

    def kill(self, test: TestRef, reason: str = "kill requested") -> list[Event]:
        job = self._jobs.get(test)
        if job is None:
            return []
        events = job.kill(reason, self.clock())
        self._track(job)
        return events

    def kill_all(self, reason: str = "runner stopping", **final: str) -> list[Event]:
        """Kill every job (e.g. the runner got SIGTERM: state="INCOMPLETE")."""
        events: list[Event] = []
        for job in list(self._jobs.values()):
            events += job.kill(reason, self.clock(), **final)
            self._track(job)
        return events

    def watch(self, fd: int, mask: int = select.POLLIN) -> None:
        """Also end poll() when `fd` is ready for `mask` (the caller reads it afterwards)."""
        if self._extra.get(fd) == mask:
            return
        if fd in self._extra:
            self._poller.modify(fd, mask)
        else:
            self._poller.register(fd, mask)
        self._extra[fd] = mask

    def unwatch(self, fd: int) -> None:
        if self._extra.pop(fd, None) is not None:
            self._poller.unregister(fd)

    def poll(self, timeout: float | None = 0.0) -> list[Event]:
        """Wait up to `timeout` seconds (None: until something happens) and advance the jobs.

        Returns as soon as a child exits, a watched fd is ready or a job deadline is reached;
        with no jobs and nothing watched it returns at once.
        """
        self.ready_extra = frozenset()
        if not self._jobs and not self._extra:
            return []
        now = self.clock()
        deadlines = [(d, job) for job in self._jobs.values()
                     if (d := job.next_deadline()) is not None]
        wait = timeout
        if deadlines:
            until = max(0.0, min(d for d, _ in deadlines) - now)
            wait = until if wait is None else min(wait, until)
        ready = self._poller.poll(None if wait is None else wait * 1000)
        now = self.clock()
        due: dict[TestRef, TestJob] = {}
        extra: list[int] = []
        for fd, _ in ready:
            job = self._fd_job.get(fd)
            if job is not None:
                due[job.test] = job
            elif fd in self._extra:
                extra.append(fd)
        self.ready_extra = frozenset(extra)
        # deadlines as they were before the wait: a job's own only move on when it is polled
        for d, job in deadlines:
            if d <= now:
                due[job.test] = job
        events: list[Event] = []
        for job in due.values():
            events += job.poll(now)
            self._track(job)
        return events

    def run_until_done(self, jobs: Iterable[TestJob] = ()) -> list[Event]:
        """Submit `jobs` and poll until every job in the launcher has finished."""
        events: list[Event] = []
        for job in jobs:
            events += self.submit(job)
        while self._jobs:
            events += self.poll(None)
        return events

    # -- bookkeeping --------------------------------------------------------------------------

    def _track(self, job: TestJob) -> None:
        """Keep the poll set in step with the job's current child (fds are reused by number)."""
        old = self._job_fd.pop(job.test, None)
        if old is not None:
            fd, _ = old
            if self._fd_job.get(fd) is job:
                del self._fd_job[fd]
                self._poller.unregister(fd)
        if job.done:
            self._jobs.pop(job.test, None)
            return
        self._jobs[job.test] = job
        fd, pid = job.pidfd, job.pid
        if fd is not None and pid is not None:
            self._fd_job[fd] = job
            self._job_fd[job.test] = (fd, pid)
            self._poller.register(fd, select.POLLIN)
