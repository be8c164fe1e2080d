"""`megatest test execute` (legacy `-execute`): what a batch job runs on its node.

The runner prepared the test's work area and wrote the job file into it
(megatest.launch.jobfile); this process runs the test's runscript and ezsteps there exactly
as the local launcher would (the same TestJob), reports every state, step, value and
heartbeat through the area's server when one is up, else straight to the run's db (the test
helpers' `open_writer`), and writes the exit file the launcher trusts as its last act. A
SIGTERM (the batch system cancelling the job, a time limit) kills the steps and still
writes the exit file, saying so.

Standard library only on top of the executor: the standalone binary runs it on nodes without
Python, and hundreds start at once for an array.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from megatest.engine.helpers import SELF_STATUS_MARK, open_writer
from megatest.engine.recorder import columns, data_row, heartbeat_write
from megatest.errors import UsageError
from megatest.executor.reporter import Heartbeat, TestRef
from megatest.executor.spawn import LAUNCH_LOG
from megatest.launch.jobfile import ExitRecord, JobSpec, read_job, write_exit
from megatest.store.writes import DataWrite, FieldsWrite, StateWrite, StepWrite, Write

if TYPE_CHECKING:
    from megatest.executor.logpro import TestDataRow

# The steps get this long between SIGTERM and SIGKILL: Slurm's KillWait (30 s by default)
# must leave the job time to write its exit file after them.
KILL_GRACE = 3.0
# Variables of the batch system the test may want (its job id, its node list, ...).
_BATCH_PREFIXES = ("SLURM_", "LSB_", "LSF_", "PBS_", "SGE_", "JOB_ID")
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


class WriterReporter:
    """The executor's Reporter over one RunWriter. Reports are held as the store's typed
    writes and applied together (one request through a server, one transaction without) at
    the moments someone else may look: before each process of the test starts (its helper
    calls must find the test as this process left it), at each heartbeat, and at the end. A
    one-step test costs two requests, not one per report."""

    def __init__(self, writer: Any, spec: JobSpec):  # a RunWriter
        self.writer = writer
        self.spec = spec
        self.state: tuple[str, str] = ("LAUNCHED", "n/a")
        self._held: list[Write] = []

    def flush(self) -> None:
        """Send what is held, as one batch."""
        if not self._held:
            return
        held, self._held = self._held, []
        with self.writer.batch():
            self.writer.apply(held)

    def set_state_status(self, test: TestRef, state: str | None, status: str | None,
                         comment: str | None) -> None:
        self._held.append(StateWrite(self.spec.test_id, state, status, comment))
        self.state = (state or self.state[0], status or self.state[1])

    def step(self, test: TestRef, name: str, state: str, status: str, logfile: str,
             comment: str) -> None:
        self._held.append(StepWrite(self.spec.test_id, name, state, str(status), logfile or "",
                                    comment or ""))

    def set_values(self, test: TestRef, values: Mapping[str, object]) -> None:
        self._held.append(FieldsWrite(self.spec.test_id, columns(values)))

    def add_test_data(self, test: TestRef, rows: Sequence[TestDataRow]) -> None:
        if rows:
            self._held.append(DataWrite(self.spec.test_id, [data_row(r) for r in rows]))

    def heartbeat(self, test: TestRef, beat: Heartbeat) -> None:
        self._held.append(heartbeat_write(self.spec.test_id, beat))
        self.flush()

    def current_state_status(self, test: TestRef) -> tuple[str, str] | None:
        """What this process wrote last, unless the test wrote its own state (a helper left
        the mark): then the row, which its final status must not overwrite."""
        if not os.path.exists(os.path.join(self.spec.run_dir, SELF_STATUS_MARK)):
            return self.state
        self.flush()
        from megatest.store import open_store

        with open_store(self.spec.area, create=False) as store:
            rec = store.get_test(self.spec.run_id, self.spec.test_id)
        return (rec.state, rec.status) if rec is not None else self.state


def execute(job_paths: Sequence[str], *, clock: Callable[[], float] = time.monotonic) -> int:
    """Run the test of each job file (or run directory) to its end, one after the other (a
    bundle of cheap tests shares one batch job), and write each one's exit file. 0 once every
    exit file is written, whatever the tests' statuses (the files say them); a UsageError
    naming the first job file that could not be used."""
    host = os.uname().nodename
    bad: list[str] = []
    stopped: int | None = None
    for job_path in job_paths:
        try:
            spec = read_job(job_path)
        except OSError as exc:
            bad.append(f"test execute: {exc.filename or job_path}: "
                       f"{(exc.strerror or str(exc)).lower()}")
            continue
        except ValueError as exc:
            bad.append(f"test execute: {exc}")
            continue
        if len(job_paths) > 1:
            _output_to(spec.run_dir)
        if stopped is not None:  # the batch job was stopped: the rest of its bundle never ran
            write_exit(spec.run_dir, ExitRecord(
                "KILLED", "KILLED", f"the job was stopped by {signal.Signals(stopped).name} "
                "before the test started", host, stopped))
            continue
        began = clock()
        try:
            state, status, comment, stopped = _run(spec, clock)
        except Exception as exc:  # whatever stopped it, the launcher must hear of it
            message = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
            write_exit(spec.run_dir, ExitRecord("INCOMPLETE", "ABORT",
                                                f"the job on {host} failed: {message}", host))
            bad.append(f"test execute {spec.test_name}: {message}")
            continue
        write_exit(spec.run_dir, ExitRecord(state, status, comment, host, stopped,
                                            max(0.0, clock() - began)))
    if bad:
        raise UsageError(bad[0])
    return 0


def _output_to(run_dir: str) -> None:
    """This process's output goes to the test's mt_launch.log while it runs the test."""
    fd = os.open(os.path.join(run_dir, LAUNCH_LOG),
                 os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _run(spec: JobSpec, clock: Callable[[], float]) -> tuple[str, str, str | None, int | None]:
    from megatest.executor.steps import StepSpec, TestJob

    env = dict(spec.env)
    env.update({k: v for k, v in os.environ.items() if k.startswith(_BATCH_PREFIXES)})
    test = TestRef(spec.test_name, spec.item_path, spec.test_id, spec.run_id)
    with open_writer(spec.area, spec.run_id) as writer:
        reporter = WriterReporter(writer, spec)
        job = TestJob(test, run_dir=spec.run_dir, env=env, reporter=reporter,
                      steps=[StepSpec(*s) for s in spec.steps], runscript=spec.runscript,
                      test_src_dir=spec.test_src_dir, runtimelim=spec.runtimelim,
                      triggers=spec.triggers, steps_prepared=True, kill_grace=KILL_GRACE,
                      clock=clock, before_spawn=reporter.flush)
        try:
            stopped_by = _drive(job, clock)
        except BaseException:
            with contextlib.suppress(Exception):  # what stopped it is the news, not this
                reporter.flush()
            raise
        assert job.result is not None
        state, status = job.result
        comment = None
        if stopped_by is not None:
            comment = f"the job was stopped by {signal.Signals(stopped_by).name}"
            if (state, status) != ("KILLED", "KILLED"):
                # the batch system signals every process of the job: a step may have died
                # of it and failed the test before this process acted; it was a kill
                state, status = "KILLED", "KILLED"
                reporter.set_state_status(test, state, status, comment)
        reporter.flush()  # before the exit file: the runner's word on the end comes last
        return state, status, comment, stopped_by


def _drive(job: Any, clock: Callable[[], float]) -> int | None:
    """Poll the job to its end, waking on its child's exit, its deadlines and the signals
    that stop a batch job (which kill the test). Returns the signal that stopped it."""
    read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    caught: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        caught.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNALS}
    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    try:
        job.start()
        killing = False
        while not job.done:
            if caught and not killing:
                killing = True
                name = signal.Signals(caught[0]).name
                job.kill(f"the batch job got {name}", state="KILLED", status="KILLED")
                continue
            poller = select.poll()
            poller.register(read_fd, select.POLLIN)
            if job.pidfd is not None:
                poller.register(job.pidfd, select.POLLIN)
            deadline = job.next_deadline()
            timeout = 1.0 if deadline is None else max(0.0, min(1.0, deadline - clock()))
            poller.poll(timeout * 1000)
            with contextlib.suppress(BlockingIOError):
                os.read(read_fd, 512)
            job.poll()
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(read_fd)
        os.close(write_fd)
    return caught[0] if caught else None


def main(args: Sequence[str]) -> int:
    """`test execute --job FILE [--job FILE ...]` (also `--cmdinfo FILE`, the legacy
    `-execute FILE`); `-m`/`--comment` (the original's tag for `ps`) changes nothing."""
    words = list(args)
    jobs: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, value = word.partition("=")
        if name in ("--job", "--cmdinfo", "--comment", "-m"):
            if not eq:
                if i + 1 >= len(words):
                    raise UsageError(f"test execute: {word} needs a value")
                value = words[i + 1]
                i += 1
            if name in ("--job", "--cmdinfo"):
                jobs.append(value)
        elif not word.startswith("-"):
            jobs.append(word)
        else:
            raise UsageError(f"test execute: unexpected {word!r} (usage: test execute --job FILE)")
        i += 1
    if not jobs:
        raise UsageError("test execute needs --job FILE (the job file a launcher wrote)")
    return execute(jobs)
