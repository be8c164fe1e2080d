"""The launcher of every batch system: jobs submitted in groups, watched with one status
call per interval, ended by the exit file each job writes.

A BatchSystem (command templates for LSF/PBS/SGE, Slurm) only knows its commands: submit a
group of jobs (one call; Slurm makes it an array), tell the states of many jobs (one call),
cancel many jobs (one call), list the jobs of a run (after a runner's death). Everything
else is here, the same for all of them:

- `submit()` writes the job file into the test's run directory and queues the test; the
  queue goes out once its oldest entry waited `coalesce` seconds (so the tests a runner hands
  over in one go share one submit call), within the caps on queued jobs and on submit calls
  per minute.
- Bundles (megatest.launch.bundles) need each test's time: from earlier runs, else from its
  first items in this run. A test with no known time goes out a slot's worth at a time
  (`probe_width()`), its other items held until one of the first ends COMPLETED and says
  how long it took, or `probe_wait` passed; held items could not have started anyway.
- `poll()` waits in the runner's selector until the next thing due: the exit files of the
  submitted jobs are looked at often (a stat each: cheap), the batch system is asked at an
  interval that backs off while nothing changes and starts again at its shortest when
  something does.
- A test ends when its exit file says so. A job the batch system reports ended (or no longer
  knows) without one is given a short grace for the file to show (a shared file system's
  cache), then ends as the system's word says (megatest.launch.endings), the reason in the
  comment; one the system no longer knows at all is a JobLost.
- `kill()` / `kill_all()` cancel in one batched call at the next poll; the test ends KILLED
  (or as the runner asked) with the reason, once its job is gone.
- `recover()` finds the jobs a dead runner submitted (their ids are in the run directories,
  the batch system is asked once) and carries on those still queued or running or already
  ended, instead of submitting them again; it cancels the run's other jobs.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple, Protocol

from megatest.errors import MegatestError, UsageError
from megatest.executor.events import TestFinished
from megatest.executor.reporter import Reporter, TestRef
from megatest.launch import endings
from megatest.launch.base import (
    JobLost,
    LauncherContext,
    LaunchEvent,
    LaunchSpec,
    RunIdentity,
    StaleTest,
)
from megatest.launch.jobfile import (
    ExitRecord,
    forget_job,
    job_spec,
    read_exit,
    read_job_id,
    write_job,
    write_job_id,
)

if TYPE_CHECKING:
    from megatest.executor.waivers import WaiverHook

# How long a job that ended (or vanished) without an exit file gets for the file to show.
EXIT_GRACE = 5.0
# A cancel the batch system did not act on is sent again after this long.
CANCEL_AGAIN = 30.0


class SubmitError(MegatestError):
    """The batch system refused a submission (its message in one line)."""


class Submission(NamedTuple):
    """One test for the batch system: where it runs and how its job starts there."""

    test: TestRef
    run_dir: str
    job_file: str
    env: dict[str, str]  # the test's environment (a template's shell text sees it)
    command: str  # shell text: megatest running this test's job file
    line: str  # the launcher line that chose the batch system for this test
    runtimelim: float | None = None  # the test's own limit, seconds (its job's, with a margin)
    expected: float | None = None  # how long it took before (seconds; None: not known)


class BatchSystem(Protocol):
    """The commands of one batch system."""

    name: str  # in comments: `slurm job 12 was cancelled`

    def group_key(self, sub: Submission) -> Hashable | None:
        """Submissions with the same key may go in one submit call; None: each alone."""

    def submit(self, group: Sequence[Submission], jobname: str) -> list[str]:
        """Submit the group (one call where the system allows it); the job id of each, in
        order. SubmitError when the system refused."""

    def states(self, job_ids: Collection[str], jobname: str) -> dict[str, str]:
        """The word (endings vocabulary) of each job the system still knows; one call."""

    def cancel(self, job_ids: Sequence[str]) -> None:
        """Cancel the jobs, in one call where the system allows it."""

    def run_jobs(self, jobname: str) -> dict[str, str]:
        """Every job of the run the system knows (id -> word), for a runner taking over."""

    def probe_width(self) -> int | None:
        """When it plans bundles from test times: how many tests of a test with no known
        time go out alone at first (the slots it has), the rest waiting for their times.
        None: nothing waits."""


@dataclass
class BatchLimits:
    """`max-queued` jobs submitted and not yet running; `submits-per-minute` calls;
    `poll-min`/`poll-max`: the status interval's back-off; `coalesce`: how long a queued
    test waits for others to share its submit call."""

    max_queued: int = 1000
    submits_per_minute: float = 120.0
    poll_min: float = 0.5
    poll_max: float = 10.0
    coalesce: float = 0.2
    exit_check: float = 0.25
    max_group: int = 1000
    probe_wait: float = 60.0  # the longest a test's held items wait for its first ones' times


@dataclass
class _Job:
    test: TestRef
    run_dir: str
    job_id: str | None = None
    word: str | None = None  # the batch system's last word for it; None: not asked yet
    gone_since: float | None = None  # ended without an exit file: since when
    kill: tuple[str, str, str] | None = None  # state, status, reason: a kill was asked
    cancel_sent: float | None = None
    queued_at: float = 0.0
    sub: Submission | None = field(default=None, repr=False)
    waiver_hook: WaiverHook | None = field(default=None, repr=False)


def run_jobname(area: str, run_id: int | None) -> str:
    """One job name per run (the batch system lists a run's jobs by it), short enough for
    every system: the run's id and a digest of the area's path."""
    digest = hashlib.sha1(os.fsencode(os.path.abspath(area))).hexdigest()[:8]
    return f"mt{run_id}_{digest}"


def job_command(env: dict[str, str], job_file: str) -> str:
    """Shell text starting `megatest test execute` on `job_file` with the runner's program
    ($MT_MEGATEST: a path, quoted; a command line such as `python -m megatest`, as is)."""
    megatest = env.get("MT_MEGATEST") or "megatest"
    program = shlex.quote(megatest) if os.path.exists(megatest) else megatest
    return f"{program} test execute --job {shlex.quote(job_file)}"


class BatchLauncher:
    """A Launcher over one BatchSystem (see the module's description)."""

    def __init__(self, system: BatchSystem, reporter: Reporter, context: LauncherContext,
                 limits: BatchLimits | None = None, line_for: Callable[[TestRef], str] | None = None):
        self.system = system
        self.reporter = reporter
        self.selector = context.selector
        self.clock = context.clock
        self.limits = limits or BatchLimits()
        self.line_for = line_for or (lambda _test: "")
        self.past = context.expected  # a test's time in earlier runs
        self._seen: dict[str, float] = {}  # test name -> its longest COMPLETED item so far
        self._probes: dict[str, float] = {}  # test name -> when its first items went out
        self.jobname: str | None = None
        self._jobs: dict[TestRef, _Job] = {}
        self._pending: list[_Job] = []  # not submitted yet, oldest first
        self._resume: dict[TestRef, str | None] = {}  # carried on from a dead runner: job id
        self._cancels: list[str] = []
        now = self.clock()
        self._next_exit_check = now
        self._next_status = now
        self._interval = self.limits.poll_min
        self._next_submit = now

    # -- the Launcher interface ---------------------------------------------------------------

    @property
    def running(self) -> int:
        return len(self._jobs)

    def has(self, test: TestRef) -> bool:
        return test in self._jobs

    def submit(self, spec: LaunchSpec) -> list[LaunchEvent]:
        test = spec.test
        run_dir = spec.prepared.work_area.run_dir_str
        env = spec.prepared.env
        if self.jobname is None:
            self.jobname = run_jobname(env.get("MT_RUN_AREA_HOME", ""), test.run_id)
        now = self.clock()
        if test in self._resume:
            job = _Job(test, run_dir, self._resume.pop(test), word=endings.QUEUED, queued_at=now,
                       waiver_hook=spec.waiver_hook)
            self._jobs[test] = job
            self._next_exit_check = now
            return []
        forget_job(run_dir)
        job_file = write_job(job_spec(
            env.get("MT_RUN_AREA_HOME", ""), test.run_id or 0, test.test_id or 0,
            test.test_name, test.item_path, run_dir, env, spec.steps,
            runscript=spec.runscript, test_src_dir=spec.test_src_dir,
            runtimelim=spec.runtimelim, triggers=dict(spec.triggers or {}) or None,
        ))
        sub = Submission(test, run_dir, job_file, dict(env), job_command(env, job_file),
                         self.line_for(test), spec.runtimelim)
        job = _Job(test, run_dir, queued_at=now, sub=sub, waiver_hook=spec.waiver_hook)
        self._jobs[test] = job
        self._pending.append(job)
        return []

    def poll(self, timeout: float | None = 0.0) -> list[LaunchEvent]:
        if not self._jobs and not len(self.selector):
            self.selector.ready = frozenset()
            return []
        events: list[LaunchEvent] = []
        before = self.clock()
        wait = self._until_due(before)
        if timeout is not None:
            wait = timeout if wait is None else min(wait, timeout)
        ready = self.selector.wait(wait)
        now = self.clock()
        if not ready and wait is not None:
            # a wait that ran its full time reached what it was cut to, whatever the clock
            # says (a clock that stands still in the tests, a poll that returns a hair early)
            now = max(now, before + wait)
        self._submit_due(now, events)
        self._send_cancels(now)
        if now >= self._next_exit_check:
            self._check_exits(now, events)
        if now >= self._next_status:
            self._check_states(now, events)
        return events

    def kill(self, test: TestRef, reason: str = "kill requested") -> list[LaunchEvent]:
        return self._kill(self._jobs.get(test), reason, "KILLED", "KILLED")

    def kill_all(self, reason: str = "runner stopping", *, state: str = "KILLED",
                 status: str = "KILLED") -> list[LaunchEvent]:
        events: list[LaunchEvent] = []
        for job in list(self._jobs.values()):
            events += self._kill(job, reason, state, status)
        self._send_cancels(self.clock())
        return events

    def next_due(self) -> float | None:
        return self._until_due(self.clock()) if self._jobs else None

    def recover(self, run: RunIdentity, stale: Sequence[StaleTest],
                spare: Callable[[TestRef], bool] = lambda _test: False) -> set[TestRef]:
        # (`spare` changes nothing: the jobs it cancels are its own system's, with the run's
        # job name, never another launcher's)
        self.jobname = run_jobname(run.area, run.run_id)
        live = self.system.run_jobs(self.jobname)
        ids = {test: read_job_id(run_dir) if run_dir else None for test, run_dir in stale}
        unlisted = [job_id for job_id in ids.values() if job_id is not None and job_id not in live]
        if unlisted:  # jobs the run's listing does not show (blocking submits): asked directly
            try:
                live.update(self.system.states(unlisted, self.jobname))
            except (SubmitError, OSError):
                pass  # not carried on: submitted again
        carried: set[str] = set()
        for test, run_dir in stale:
            if not run_dir:
                continue
            job_id = ids[test]
            if read_exit(run_dir) is not None or (job_id is not None
                                                  and endings.is_alive(live.get(job_id))):
                self._resume[test] = job_id
                if job_id is not None:
                    carried.add(job_id)
        leftovers = [job_id for job_id, word in live.items()
                     if job_id not in carried and endings.is_alive(word)]
        if leftovers:
            self.system.cancel(leftovers)
        return set(self._resume)

    def close(self) -> None:
        self._send_cancels(self.clock())

    # -- timing -------------------------------------------------------------------------------

    def _until_due(self, now: float) -> float | None:
        """Seconds to the next thing due (None: nothing is)."""
        times = []
        if self._pending and self._queued() < self.limits.max_queued:
            # (at the cap, the status poll that frees room is what is due)
            ready, release = self._ready(now)
            if ready:
                times.append(max(ready[0].queued_at + self.limits.coalesce, self._next_submit))
            if release is not None:
                times.append(release)
        if len(self._jobs) > len(self._pending):  # some are with the batch system
            times += [self._next_exit_check, self._next_status]
        if self._cancels:
            times.append(now)
        return max(0.0, min(times) - now) if times else None

    # -- submitting ---------------------------------------------------------------------------

    def _queued(self) -> int:
        return sum(1 for job in self._jobs.values()
                   if job.job_id is not None and job.word in (None, endings.QUEUED))

    def expected(self, test: TestRef) -> float | None:
        """The test's time: in earlier runs, else that of its items ended in this run."""
        past = self.past(test)
        return past if past is not None else self._seen.get(test.test_name)

    def _ready(self, now: float) -> tuple[list[_Job], float | None]:
        """The pending jobs that may go out now, oldest first, and when held ones are let go.

        A test with no known time probes: as many of its items as the system has slots go
        out alone; the others wait (they could not start yet anyway) for the time of the
        first to end, then go out bundled by it. None ends within `probe_wait`: they go
        alone, so a long test's items wait that long at most."""
        width = self.system.probe_width()
        if width is None:
            return self._pending, None
        flying: dict[str, int] = {}
        for job in self._jobs.values():
            if job.sub is None:  # submitted
                flying[job.test.test_name] = flying.get(job.test.test_name, 0) + 1
        ready: list[_Job] = []
        release = None
        for job in self._pending:
            name = job.test.test_name
            started = self._probes.get(name)
            if (started is not None and now - started >= self.limits.probe_wait) \
                    or self.expected(job.test) is not None:
                ready.append(job)
            elif flying.get(name, 0) < width:
                flying[name] = flying.get(name, 0) + 1
                ready.append(job)
            elif started is not None:
                until = started + self.limits.probe_wait
                release = until if release is None else min(release, until)
        return ready, release

    def _submit_due(self, now: float, events: list[LaunchEvent]) -> None:
        limits = self.limits
        while self._pending and now >= self._next_submit:
            ready = self._ready(now)[0]
            if not ready:
                return  # held for their probes' times (_until_due knows when to look again)
            full = len(ready) >= limits.max_group
            if not full and now < ready[0].queued_at + limits.coalesce:
                return
            room = limits.max_queued - self._queued()
            if room <= 0:
                return  # the next status poll frees room
            take = ready[: min(room, limits.max_group)]
            for job in take:
                if job.sub is not None:
                    job.sub = job.sub._replace(expected=self.expected(job.test))
                    if job.sub.expected is None:
                        self._probes.setdefault(job.test.test_name, now)
            key = self.system.group_key(take[0].sub)
            group = [take[0]] if key is None else [
                job for job in take if self.system.group_key(job.sub) == key]
            for job in group:
                self._pending.remove(job)
            self._next_submit = now + (60.0 / limits.submits_per_minute
                                       if limits.submits_per_minute > 0 else 0.0)
            self._submit_group(group, now, events)

    def _submit_group(self, group: list[_Job], now: float, events: list[LaunchEvent]) -> None:
        try:
            ids = self.system.submit([job.sub for job in group], self.jobname or "megatest")
            if len(ids) != len(group):
                raise SubmitError(f"{self.system.name}: {len(ids)} job ids for {len(group)} jobs")
        except (SubmitError, OSError) as exc:
            message = exc.one_line() if isinstance(exc, MegatestError) else str(exc)
            for job in group:
                self._finish(job, "INCOMPLETE", "ABORT", f"launch failed: {message}", events)
            return
        for job, job_id in zip(group, ids, strict=True):
            job.job_id = job_id
            job.sub = None
            try:
                write_job_id(job.run_dir, job_id)
            except OSError:
                pass  # only a runner taking over would need it: it resubmits this test
        self._interval = self.limits.poll_min
        self._next_status = min(self._next_status, now + self._interval)
        self._next_exit_check = min(self._next_exit_check, now + self.limits.exit_check)

    # -- watching -----------------------------------------------------------------------------

    def _check_exits(self, now: float, events: list[LaunchEvent]) -> None:
        for job in [job for job in self._jobs.values() if job.sub is None]:
            record = read_exit(job.run_dir)
            if record is not None:
                self._ended(job, record, events, now)
        # a stat per job: spread out for runs with thousands of queued jobs
        self._next_exit_check = now + max(self.limits.exit_check, len(self._jobs) / 4000)

    def _check_states(self, now: float, events: list[LaunchEvent]) -> None:
        asked = {job.job_id: job for job in self._jobs.values() if job.job_id is not None}
        if not asked:
            self._next_status = now + self._interval
            return
        try:
            words = self.system.states(list(asked), self.jobname or "")
        except (SubmitError, OSError):
            words = None  # the system did not answer: ask again later, judge nothing now
        changed = False
        if words is not None:
            for job_id, job in asked.items():
                word = words.get(job_id)
                changed |= self._judge(job, word, now, events)
        self._interval = (self.limits.poll_min if changed
                          else min(self.limits.poll_max, self._interval * 1.5))
        self._next_status = now + self._interval

    def _judge(self, job: _Job, word: str | None, now: float, events: list[LaunchEvent]) -> bool:
        """Take the system's word for a job; True when it is news."""
        if endings.is_alive(word):
            news = word != job.word
            job.word = word
            job.gone_since = None
            return news
        record = read_exit(job.run_dir)
        if record is not None:
            job.word = word
            self._ended(job, record, events, now, gone=word is None)
            return True
        never_ran = job.word in (None, endings.QUEUED) and job.kill is not None
        if job.gone_since is None and not never_ran:
            job.gone_since = now
            job.word = word or job.word
            return True
        if never_ran or now - job.gone_since >= EXIT_GRACE:
            self._no_exit_file(job, word, events)
            return True
        return False

    def _ended(self, job: _Job, record: ExitRecord, events: list[LaunchEvent], now: float,
               gone: bool = False) -> None:
        """The job wrote its exit file: the test's end as it says. A job stopped by a signal
        waits (up to EXIT_GRACE) for the batch system's word on why, for the comment."""
        if job.kill is not None:
            self._finish(job, *job.kill, events)
            return
        comment = None  # the job wrote the test's own comment
        if record.signal is not None:
            word = job.word
            if endings.is_alive(word) or (word is None and not gone):
                if job.gone_since is None:
                    job.gone_since = now
                if now - job.gone_since < EXIT_GRACE:
                    self._next_status = min(self._next_status, now + self.limits.poll_min)
                    return
            comment = (endings.ending(self.system.name, job.job_id or "?", word).comment
                       if word is not None and not endings.is_alive(word) else record.comment)
        state, status = record.state, record.status
        if record.seconds is not None and state == "COMPLETED":
            name = job.test.test_name
            self._seen[name] = max(record.seconds, self._seen.get(name, 0.0))
        if status == "FAIL" and job.waiver_hook is not None:
            # `[waivers]` are judged here, where the earlier runs are (the node has none)
            waived = job.waiver_hook(job.test, record.comment)
            if waived is not None:
                status, comment = waived
        self._finish(job, state, status, comment, events)

    def _no_exit_file(self, job: _Job, word: str | None, events: list[LaunchEvent]) -> None:
        if job.kill is not None:
            self._finish(job, *job.kill, events)
        elif word is None:
            self._jobs.pop(job.test, None)
            events.append(JobLost(job.test, f"{self.system.name} job {job.job_id} is no longer "
                                            "known to the batch system and left no exit file"))
        else:
            end = endings.ending(self.system.name, job.job_id or "?", word)
            self._finish(job, end.state, end.status, end.comment, events)

    def _finish(self, job: _Job, state: str, status: str, comment: str | None,
                events: list[LaunchEvent]) -> None:
        self._jobs.pop(job.test, None)
        self.reporter.set_state_status(job.test, state, status, comment)
        events.append(TestFinished(job.test, state, status, comment))

    # -- killing ------------------------------------------------------------------------------

    def _kill(self, job: _Job | None, reason: str, state: str, status: str) -> list[LaunchEvent]:
        events: list[LaunchEvent] = []
        if job is None or job.kill is not None:
            return events
        job.kill = (state, status, reason)
        if job in self._pending:  # never submitted: nothing to cancel
            self._pending.remove(job)
            self._finish(job, state, status, reason, events)
        elif job.job_id is not None:
            self._cancels.append(job.job_id)
        return events

    def _send_cancels(self, now: float) -> None:
        for job in self._jobs.values():  # a cancel the system did not act on
            if job.cancel_sent is not None and now - job.cancel_sent >= CANCEL_AGAIN:
                job.cancel_sent = None
                if job.job_id is not None:
                    self._cancels.append(job.job_id)
        if not self._cancels:
            return
        ids, self._cancels = list(dict.fromkeys(self._cancels)), []
        try:
            self.system.cancel(ids)
        except (SubmitError, OSError):
            pass  # sent again after CANCEL_AGAIN
        sent = set(ids)
        for job in self._jobs.values():
            if job.job_id in sent:
                job.cancel_sent = now
        self._interval = self.limits.poll_min
        self._next_status = min(self._next_status, now + self._interval)


def limits_from(section: Mapping[str, str], where: str,
                defaults: BatchLimits | None = None) -> BatchLimits:
    """The caps and intervals a launcher section sets (`defaults` for the others)."""
    limits = BatchLimits() if defaults is None else replace(defaults)
    names = {"max-queued": ("max_queued", int), "submits-per-minute": ("submits_per_minute", float),
             "poll-min": ("poll_min", float), "poll-max": ("poll_max", float),
             "array-size": ("max_group", int), "coalesce": ("coalesce", float),
             "probe-wait": ("probe_wait", float)}
    for key, (attr, kind) in names.items():
        if key in section:
            setattr(limits, attr, number(section, key, kind, where))
    return limits


def number(section: Mapping[str, str], key: str, kind: type, where: str) -> float:
    """`key`'s value as a positive number (int: at least 1); a UsageError naming it."""
    try:
        value = kind(section[key])
    except ValueError:
        raise UsageError(f"{where} {key} {section[key]!r}: not a number") from None
    if value < 0 or (kind is int and value < 1):
        raise UsageError(f"{where} {key} {section[key]!r}: must be positive")
    return value
