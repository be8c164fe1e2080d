"""The run's keeper: the process that outlives a dead runner and keeps its steps' results.

Tests' steps are children of the runner, which sequences them and records their ends. If the
runner dies (SIGKILL, the OOM killer, a closed terminal), the steps running at that moment
go on, and their exit statuses would go to init and be lost: the next `runs start` would have
to run those tests again. So `runs start` forks first: the parent becomes the keeper, a
child subreaper (prctl PR_SET_CHILD_SUBREAPER) that waits for the runner, and the child goes
on as the runner. Orphaned steps are re-parented to the keeper, which reaps them and writes
each one's exit code into its test's run directory (executor/stepexit.py), where the next
`runs start` finds it: the test goes on from its next step, and a step still running then
is adopted, not killed.

What the keeper knows of the steps comes over a pipe: the runner writes one record when it
starts a step and one when it has reaped it (a non-blocking write of a few dozen bytes;
nothing else is done per step while the runner lives). The keeper reads the pipe at most
`DRAIN_INTERVAL` apart, so it costs the run a few wake-ups a second.

The keeper exits with the runner's exit code (128+N when a signal N ended it) once the runner
is gone and no step of its own is left running. It passes SIGTERM on to the runner; the
terminal's SIGINT/SIGQUIT reach the runner directly (same process group), and SIGHUP,
which ends the runner, leaves the keeper to keep what still runs. After the runner's death,
SIGINT or SIGTERM stop the keeper's wait (the steps go on, unwatched; their ends are then
unknown and those steps run again).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import sys
from typing import NoReturn

from megatest.executor.stepexit import StepRecord, start_ticks, write_record
from megatest.procstat import PPID, stat_fields

DRAIN_INTERVAL = 0.05
_PIPE_SIZE = 1 << 20  # room for ~10,000 steps between two reads
_RECORD_SIZES = {b"S": 7, b"E": 2}  # fields of each kind of record, the kind included
_PR_SET_CHILD_SUBREAPER = 36


class Witness:
    """The runner's end of the pipe: tells the keeper which steps run where."""

    def __init__(self, fd: int):
        self.fd = fd
        self.dropped = 0  # records the full pipe refused (the keeper was not reading)

    def step_started(self, pid: int, run_dir: str, log: str, step_index: int, rollup: int,
                     started: float) -> None:
        self._send(b"S\0%d\0%d\0%d\0%a\0%s\0%s\0" % (
            pid, step_index, rollup, started, os.fsencode(run_dir), os.fsencode(log)))

    def step_reaped(self, pid: int) -> None:
        self._send(b"E\0%d\0" % pid)

    def _send(self, record: bytes) -> None:
        try:
            os.write(self.fd, record)
        except BlockingIOError:
            self.dropped += 1  # the step is still found alive after a death (see _Keeper)
        except OSError:
            pass  # the keeper is gone: the run goes on unguarded, as before it had one


_witness: Witness | None = None


def current_witness() -> Witness | None:
    """The witness of this process's keeper; None when the process has none."""
    return _witness


def start_keeper() -> None:
    """Fork: return in the child, which goes on as the runner; the parent keeps it (never
    returns). Without fork (or when it fails) the runner simply runs unkept."""
    global _witness
    try:
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    except (AttributeError, OSError):
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # or the keeper would print the same buffered text again
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return
    if pid == 0:
        os.close(read_fd)
        os.set_blocking(write_fd, False)
        _witness = Witness(write_fd)
        return
    os.close(write_fd)
    _Keeper(pid, read_fd).run()


class _Step:
    __slots__ = ("pid", "step_index", "rollup", "started", "run_dir", "log", "ticks")

    def __init__(self, pid: int, step_index: int, rollup: int, started: float, run_dir: str,
                 log: str):
        self.pid, self.step_index, self.rollup = pid, step_index, rollup
        self.started, self.run_dir, self.log = started, run_dir, log
        self.ticks: int | None = None


class _Keeper:
    def __init__(self, runner: int, read_fd: int):
        self.runner = runner
        self.read_fd = read_fd
        self.steps: dict[int, _Step] = {}
        self.runner_status: int | None = None
        self.ended: dict[int, int] = {}  # pid -> exit code of children reaped here
        self.stop = False
        self.me = os.getpid()
        self.my_ticks = start_ticks(self.me) or 0
        self._partial = b""

    def run(self) -> NoReturn:
        code = 70  # EX_SOFTWARE: not even the runner's end could be waited for
        try:
            code = self._run()
        except BaseException:  # noqa: BLE001 - whatever failed, the runner's code is what counts
            code = self._plain_wait(code)
        finally:
            os._exit(code)

    def _plain_wait(self, fallback: int) -> int:
        """The runner's exit code, waited for without keeping anything."""
        if self.runner_status is None:
            try:
                _pid, self.runner_status = os.waitpid(self.runner, 0)
            except (ChildProcessError, InterruptedError, KeyboardInterrupt):
                return fallback
        return _exit_code(self.runner_status)

    def _run(self) -> int:
        _become_subreaper()
        with contextlib.suppress(OSError):
            fcntl.fcntl(self.read_fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        wake_r, wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the poll below
        os.set_blocking(self.read_fd, False)
        signals = select.poll()
        signals.register(wake_r, select.POLLIN)
        both = select.poll()
        both.register(wake_r, select.POLLIN)
        both.register(self.read_fd, select.POLLIN)
        while self.runner_status is None:
            both.poll()
            _drain_wakeups(wake_r)
            got = self._read_records()
            self._reap()
            if got and self.runner_status is None:
                # let records gather (one read for many steps); a signal still ends the wait
                signals.poll(DRAIN_INTERVAL * 1000)
        self._read_records()  # what the runner wrote before it ended is all in the pipe
        self._after_runner()
        signal.signal(signal.SIGINT, self._on_term)
        while self.steps and not self.stop:
            signals.poll()
            _drain_wakeups(wake_r)
            self._reap()
            self._write_ended()
        return _exit_code(self.runner_status)

    def _on_term(self, signum: int, _frame: object) -> None:
        if self.runner_status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.runner, signum)
        else:
            self.stop = True

    def _read_records(self) -> bool:
        """Take in what the pipe holds; whether there was anything."""
        got = False
        while True:
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except BlockingIOError:
                return got
            except OSError:
                return got
            if not chunk:
                return got
            got = True
            self._partial = self._take(self._partial + chunk)

    def _take(self, data: bytes) -> bytes:
        """Note every whole record in `data`; returns the incomplete rest. A record is its
        fields, each ended by NUL (which no path holds): S pid index rollup started run_dir
        log, or E pid."""
        fields = data.split(b"\0")
        rest = fields.pop()  # after the last NUL: the start of a field still to come
        at = 0
        while at < len(fields):
            kind = fields[at]
            size = _RECORD_SIZES.get(kind)
            if size is None:  # cannot happen with one writer: skip to a known kind
                at += 1
                continue
            if at + size > len(fields):
                break
            record = fields[at:at + size]
            at += size
            if kind == b"S":
                pid = int(record[1])
                self.steps[pid] = _Step(pid, int(record[2]), int(record[3]), float(record[4]),
                                        os.fsdecode(record[5]), os.fsdecode(record[6]))
            else:
                self.steps.pop(int(record[1]), None)
        return b"".join(f + b"\0" for f in fields[at:]) + rest

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.runner:
                self.runner_status = status
            else:
                # a step orphaned by the runner's death, or a test's background process
                # orphaned earlier (nothing to keep): told apart once the pipe is read
                self.ended[pid] = os.waitstatus_to_exitcode(status)
        if self.runner_status is None:
            self.ended.clear()  # while the runner lives its steps are its own children

    def _after_runner(self) -> None:
        """The runner has ended: which of its steps still run (or have just ended here)."""
        for pid, step in list(self.steps.items()):
            if pid in self.ended:
                continue
            ticks = start_ticks(pid)
            if ticks is None or _parent_of(pid) != self.me:
                del self.steps[pid]  # ended under the runner, which died before saying so
                continue
            step.ticks = ticks
            self._write(step, None)
        self._write_ended()
        left = len(self.steps)
        if left:
            _say(f"megatest: the runner (pid {self.runner}) {_how_ended(self.runner_status)}; "
                 f"waiting for its {left} running step{'s' if left != 1 else ''} to end so "
                 "that `runs start` keeps the results (Ctrl-C stops waiting)")

    def _write_ended(self) -> None:
        for pid, code in self.ended.items():
            step = self.steps.pop(pid, None)
            if step is not None:
                self._write(step, code)
        self.ended.clear()

    def _write(self, step: _Step, code: int | None) -> None:
        record = StepRecord(step.pid, step.ticks or 0, step.step_index, step.rollup,
                            step.started, step.log, self.me, self.my_ticks, code)
        try:
            write_record(step.run_dir, record)
        except OSError as exc:
            _say(f"megatest: could not keep the end of {step.run_dir}/{step.log}: "
                 f"{exc.strerror or exc}; that step runs again")


def _become_subreaper() -> None:
    import ctypes  # only the keeper needs it

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _parent_of(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[PPID]) if fields is not None else None


def _drain_wakeups(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 4096):
            pass


def _exit_code(status: int | None) -> int:
    if status is None:
        return 1
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _how_ended(status: int | None) -> str:
    code = os.waitstatus_to_exitcode(status) if status is not None else 0
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"ended with exit code {code}"


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)
