"""The local launcher: many TestJobs supervised from the runner's own loop.

No interpreter per test and no thread per test. Each running step has a pidfd (Linux >= 5.3),
registered in the runner's Selector; `poll()` waits there with a timeout that is the nearest
job deadline (heartbeat, runtime limit, kill grace), so the loop sleeps until a child exits,
one of the runner's own fds is ready or a timer is due. Without pidfds a job asks for a 50 ms
timer instead.

`[jobtools] launcher nbfake` (and nbfind, nohup) in existing areas name this launcher: they
ran each test in the background on the runner's host, which is what this one does.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from megatest.executor.events import Event
from megatest.executor.keeper import Witness, current_witness
from megatest.executor.reporter import Reporter, TestRef
from megatest.executor.stepexit import StepRecord, read_record, still_running
from megatest.executor.steps import TestJob
from megatest.launch.base import (
    LauncherContext,
    LaunchEvent,
    LaunchSpec,
    RunIdentity,
    Selector,
    StaleTest,
)


class LocalLauncher:
    """Holds running TestJobs; `poll()` reaps children and advances jobs without busy-waiting."""

    def __init__(self, reporter: Reporter | None = None, *, selector: Selector | None = None,
                 clock: Callable[[], float] = time.monotonic, witness: Witness | None = None):
        self.reporter = reporter
        self.selector = selector if selector is not None else Selector()
        self.clock = clock
        self.witness = witness  # the run's keeper (executor/keeper.py), when it has one
        self._resume: dict[TestRef, StepRecord] = {}  # tests a dead runner left, to carry on
        self._jobs: dict[TestRef, TestJob] = {}
        self._fd_job: dict[int, TestJob] = {}  # registered pidfd -> its job
        self._job_fd: dict[TestRef, tuple[int, int]] = {}  # job -> (fd, pid) registered

    @classmethod
    def from_context(cls, context: LauncherContext) -> LocalLauncher:
        return cls(context.reporter, selector=context.selector, clock=context.clock,
                   witness=current_witness())

    # -- the Launcher interface ---------------------------------------------------------------

    @property
    def running(self) -> int:
        return len(self._jobs)

    def has(self, test: TestRef) -> bool:
        return test in self._jobs

    def submit(self, spec: LaunchSpec) -> list[LaunchEvent]:
        """Start the test's steps as children of this process."""
        if self.reporter is None:
            raise ValueError("a LocalLauncher built without a reporter cannot take a LaunchSpec")
        job = spec.prepared.job(
            spec.test, self.reporter, steps=spec.steps, runscript=spec.runscript,
            test_src_dir=spec.test_src_dir, runtimelim=spec.runtimelim,
            triggers=spec.triggers, waiver_hook=spec.waiver_hook,
            steps_prepared=True,  # the work area was made with its step files
            clock=self.clock, witness=self.witness,
        )
        record = self._resume.pop(spec.test, None)
        if record is not None:
            events = job.resume(record, self.clock())
            self._track(job)
            return list(events)
        return list(self.start(job))

    def poll(self, timeout: float | None = 0.0) -> list[LaunchEvent]:
        """Wait up to `timeout` seconds (None: until something happens) and advance the jobs.

        Returns as soon as a child exits, a registered fd is ready or a job deadline is
        reached; with no jobs and nothing registered it returns at once.
        """
        if not self._jobs and not len(self.selector):
            self.selector.ready = frozenset()
            return []
        now = self.clock()
        deadlines = [(d, job) for job in self._jobs.values()
                     if (d := job.next_deadline()) is not None]
        wait = timeout
        if deadlines:
            until = max(0.0, min(d for d, _ in deadlines) - now)
            wait = until if wait is None else min(wait, until)
        before = now
        ready = self.selector.wait(wait)
        now = self.clock()
        due: dict[TestRef, TestJob] = {}
        for fd in ready:
            job = self._fd_job.get(fd)
            if job is not None:
                due[job.test] = job
        # a wait that ran its full time reached the deadlines it was cut to, whatever the
        # clock says (poll() may return a hair early; a test's clock may stand still)
        horizon = now if ready or wait is None else max(now, before + wait)
        # deadlines as they were before the wait: a job's own only move on when it is polled
        for d, job in deadlines:
            if d <= horizon:
                due[job.test] = job
        events: list[LaunchEvent] = []
        for job in due.values():
            events += job.poll(now)
            self._track(job)
        return events

    def next_due(self) -> float | None:
        deadlines = [d for job in self._jobs.values() if (d := job.next_deadline()) is not None]
        return max(0.0, min(deadlines) - self.clock()) if deadlines else None

    def kill(self, test: TestRef, reason: str = "kill requested") -> list[LaunchEvent]:
        job = self._jobs.get(test)
        if job is None:
            return []
        events = job.kill(reason, self.clock())
        self._track(job)
        return list(events)

    def kill_all(self, reason: str = "runner stopping", *, state: str = "KILLED",
                 status: str = "KILLED") -> list[LaunchEvent]:
        """Kill every job (e.g. the runner got SIGTERM: state="INCOMPLETE")."""
        events: list[LaunchEvent] = []
        for job in list(self._jobs.values()):
            events += job.kill(reason, self.clock(), state=state, status=status)
            self._track(job)
        return events

    def recover(self, run: RunIdentity, stale: Sequence[StaleTest],
                spare: Callable[[TestRef], bool] = lambda _test: False) -> set[TestRef]:
        """Carry on the stale tests whose keeper left a record of their step (ended, or still
        running as the same process: adopted); SIGKILL every other process group still
        running tests of `run` (found from /proc), but those of tests `spare` names."""
        keep: set[int] = set()
        for test, run_dir in stale:
            record = read_record(run_dir) if run_dir else None
            if record is None:
                continue
            if record.ended or still_running(record):
                self._resume[test] = record
                if not record.ended:
                    keep.add(record.pid)
        self.reap_stale(run, keep=keep, spare=spare)
        return set(self._resume)

    def reap_stale(self, run: RunIdentity, *, keep: Iterable[int] = (),
                   spare: Callable[[TestRef], bool] = lambda _test: False) -> int:
        """SIGKILL the process groups still running tests of `run` (found from /proc), but
        those of `keep` and of the tests `spare` names; returns how many were killed."""
        killed = 0
        spared = set(keep)
        for (name, item), pgids in leftover_processes(run.area, run.target,
                                                      run.runname).items():
            if spare(TestRef(name, item)):
                continue
            for pgid in pgids - spared:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                    killed += 1
                except (ProcessLookupError, PermissionError):
                    pass
        return killed

    def close(self) -> None:
        for fd in list(self._fd_job):
            self.selector.unregister(fd)
        self._fd_job.clear()
        self._job_fd.clear()

    # -- jobs made by the caller (tests, the launcher benchmark) ------------------------------

    def start(self, job: TestJob) -> list[Event]:
        """Start a job and supervise it. Returns the events of its start."""
        if job.test in self._jobs:
            raise ValueError(f"{job.test.full_name} is already running in this launcher")
        events = job.start(self.clock())
        self._track(job)
        return events

    def run_until_done(self, jobs: Iterable[TestJob] = ()) -> list[LaunchEvent]:
        """Start `jobs` and poll until every job in the launcher has finished."""
        events: list[LaunchEvent] = []
        for job in jobs:
            events += self.start(job)
        while self._jobs:
            events += self.poll(None)
        return events

    # -- bookkeeping --------------------------------------------------------------------------

    def _track(self, job: TestJob) -> None:
        """Keep the selector in step with the job's current child (fds are reused by number)."""
        old = self._job_fd.pop(job.test, None)
        if old is not None:
            fd, _ = old
            if self._fd_job.get(fd) is job:
                del self._fd_job[fd]
                self.selector.unregister(fd)
        if job.done:
            self._jobs.pop(job.test, None)
            return
        self._jobs[job.test] = job
        fd, pid = job.pidfd, job.pid
        if fd is not None and pid is not None:
            self._fd_job[fd] = job
            self._job_fd[job.test] = (fd, pid)
            self.selector.register(fd)


def leftover_processes(area: str, target: str, runname: str) -> dict[tuple[str, str], set[int]]:
    """Process groups still running tests of this run, found from /proc: (test, item) -> pgids.

    Every test process carries MT_RUN_AREA_HOME, MT_TARGET, MT_RUNNAME, MT_TEST_NAME and
    MT_ITEMPATH in its environment, so leftovers of a dead runner are found even when their pid
    never reached the database, and a reused pid is never mistaken for one.
    """
    want = {
        b"MT_RUN_AREA_HOME": os.fsencode(area),
        b"MT_TARGET": os.fsencode(target),
        b"MT_RUNNAME": os.fsencode(runname),
    }
    found: dict[tuple[str, str], set[int]] = {}
    me = os.getpid()
    # never our own group: a user may start the runner from a shell that sourced megatest.sh
    mine = {os.getpgid(0), os.getsid(0)}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            raw = Path(f"/proc/{entry}/environ").read_bytes()
            pgid = os.getpgid(int(entry))
        except OSError:
            continue
        env = dict(item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
        if pgid in mine:
            continue
        if all(env.get(k) == v for k, v in want.items()) and b"MT_TEST_NAME" in env:
            key = (os.fsdecode(env[b"MT_TEST_NAME"]), os.fsdecode(env.get(b"MT_ITEMPATH", b"")))
            found.setdefault(key, set()).add(pgid)
    return found
