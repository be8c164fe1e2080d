"""One test's steps, supervised without a per-test interpreter (run-engine §2.5, §3.2).

A TestJob runs a test's `[setup] runscript` and/or `[ezsteps]` as plain child processes, each
`/bin/bash -c "<cmd> > <step>.log 2>&1"` in its own session (so its process group holds the
whole tree), and is driven by `poll()`: nothing here blocks or sleeps. The local launcher polls
many jobs from one loop; `run_to_completion()` drives a single job synchronously (the remote
path: `megatest test execute` on the node).
"""

from __future__ import annotations

import functools
import os
import re
import select
import shlex
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from megatest.errors import ConfigError
from megatest.executor import exitcodes
from megatest.executor import triggers as trigger_mod
from megatest.executor.events import (
    Event,
    StepEnded,
    StepStarted,
    TestFinished,
    TestKilled,
    TestTimedOut,
)
from megatest.executor.reporter import Heartbeat, Reporter, TestRef
from megatest.executor.spawn import LAUNCH_LOG, plain_command, spawn_bash, spawn_direct
from megatest.executor.stepexit import (
    RUNSCRIPT_INDEX,
    StepRecord,
    drop_record,
    keeper_alive,
    read_record,
    still_running,
)
from megatest.executor.triggers import fire_triggers
from megatest.procstat import PGRP, STATE, stat_fields

if TYPE_CHECKING:
    from megatest.executor.keeper import Witness
    from megatest.executor.waivers import WaiverHook

RUNNING_STATES = ("REMOTEHOSTSTART", "RUNNING")
# How long an adopted step's end may wait for its keeper to write the exit code down
KEEPER_GRACE = 5.0
_STEP_PARAMS = re.compile(r"^\{[^}]*\}[ \t]*")
_HMS_TOKEN = re.compile(r"(\d+)([smhd])")
_HMS_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def hms_to_seconds(text: str | None) -> int | None:
    """`[requirements] runtimelim` / `[setup] runtimelim`: `1h 2m 3s` -> 3723.

    Whitespace-separated tokens, each exactly `<int>[smhd]`; any other token (glued `1h2m`
    too) counts 0, as in the original. None or blank -> None (no limit).
    """
    if text is None or not text.strip(" \t\n"):
        return None
    total = 0
    for token in re.split(r"[ \t\n]+", text.strip(" \t\n")):
        m = _HMS_TOKEN.fullmatch(token)
        if m:
            total += int(m.group(1)) * _HMS_SECONDS[m.group(2)]
    return total


class StepSpec(NamedTuple):
    """One ezstep: its name, its command, and optionally inline [logpro] rules for it."""

    name: str
    command: str
    logpro_rules: str | None = None

    @classmethod
    def from_config(cls, name: str, value: str, logpro_rules: str | None = None) -> StepSpec:
        """From an `[ezsteps]` entry: the `{...}` prefix is parsed and ignored. A multi-line
        value (continuation lines) is one script, run by `bash -c` as written."""
        if not name or "/" in name or name in (".", ".."):
            raise ConfigError(f"[ezsteps] {name!r}: not usable as a step (log file) name")
        return cls(name, _STEP_PARAMS.sub("", value), logpro_rules)


def logpro_file_text(step: str, rules: str) -> str:
    """What a `[logpro] <step>` entry becomes on disk: two `;;` header lines, then the rules."""
    return f";; rules for step {step}\n;; written by megatest from the testconfig [logpro] section\n{rules}\n"


def _write_text(path: str, text: str) -> None:
    # (open, not pathlib: a test's node process imports this module, pathlib costs it 5 ms)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(text)


def write_step_files(run_dir: str, steps: Sequence[StepSpec], *, makefile: bool = True,
                     first_log: bool = False) -> None:
    """Write `[logpro]` rules to `S.logpro` (unless the file came with the test source) and
    the `Makefile.ezsteps` rules for every step, in one go before the first step runs. A
    multi-line step's text is written to `S.ezstep.sh`, which its rule runs.

    `first_log`: also create (empty) the first step's log, which its start would create:
    only when nothing runs before that step (no runscript). Creating a file is the costliest
    part of starting a short step, and the runner waits for it while the process starts;
    made here, ahead, it is off that path."""
    if first_log and steps:
        os.close(os.open(os.path.join(run_dir, f"{steps[0].name}.log"),
                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666))
    rules: list[str] = []
    for step in steps:
        logpro_path = os.path.join(run_dir, f"{step.name}.logpro")
        has_logpro = os.path.exists(logpro_path)
        if step.logpro_rules is not None and not has_logpro:
            _write_text(logpro_path, logpro_file_text(step.name, step.logpro_rules))
            has_logpro = True
        if makefile:
            command = step.command
            if "\n" in command:
                # not one recipe line: the script goes to a file the recipe runs with bash
                script = f"{step.name}.ezstep.sh"
                _write_text(os.path.join(run_dir, script), command + "\n")
                command = f"/bin/bash ./{shlex.quote(script)}"
            rules += [f"{step.name}.log :", f"\t{command} > {step.name}.log 2>&1"]
            if has_logpro:
                rules.append(f"\tlogpro {step.name}.logpro {step.name}.html < {step.name}.log")
            rules += [f"{step.name} : {step.name}.log", ""]
    if rules:
        # one open and one write: appended as a whole, like the original's file
        fd = os.open(os.path.join(run_dir, "Makefile.ezsteps"),
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
        try:
            os.write(fd, ("\n".join(rules) + "\n").encode("utf-8", "surrogateescape"))
        finally:
            os.close(fd)


def resolve_runscript(runscript: str, test_src_dir: str | None) -> str:
    """`/` in the name: as is. Else `<test src>/<name>` when executable, else looked up on PATH.

    A found script that is not executable gets `ug+x` (the test process does the same).
    """
    if "/" in runscript:
        path = runscript
    elif test_src_dir and os.path.isfile(os.path.join(test_src_dir, runscript)):
        path = os.path.join(test_src_dir, runscript)
    else:
        return runscript
    if os.path.isfile(path) and not os.access(path, os.X_OK):
        try:
            os.chmod(path, os.stat(path).st_mode | 0o110)
        except OSError:
            pass  # the shell will report it
    return path


def _live_group_members(pgid: int) -> list[int]:
    """Pids (not zombies) still in process group `pgid`; Linux /proc, else a killpg probe."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in entries:
        if not entry.isdigit():
            continue
        fields = stat_fields(entry)
        if fields is not None and int(fields[PGRP]) == pgid and fields[STATE] != b"Z":
            members.append(int(entry))
    return members


@functools.cache
def _host_values() -> dict[str, str]:
    """The `host` and `uname` of every test this process runs (read once)."""
    uname = os.uname()
    return {
        "host": uname.nodename,  # what socket.gethostname() answers, without importing it
        "uname": f"{uname.sysname} {uname.release} {uname.version} {uname.machine}",
    }


class _Child:
    """One supervised child: pid, pidfd (when the kernel has them), start time, exit status.

    Spawned with os.posix_spawn (vfork-like, no Python in between) in a new session, and
    reaped with waitpid(WNOHANG) only when its pidfd says it exited or a timer is due.
    """

    def __init__(self, pid: int, started: float):
        self.pid = pid
        self.started = started
        self.returncode: int | None = None
        self.pidfd: int | None = None
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def poll(self) -> int | None:
        """The exit code (negative: killed by that signal), or None while it runs."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -255  # reaped by someone else: the status is lost
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class _AdoptedChild:
    """A step a dead runner started and that still runs: not this process's child, so its
    end is seen through a pidfd (or /proc) and its exit code is read from the record its
    keeper writes once it has reaped it (executor/stepexit.py)."""

    def __init__(self, record: StepRecord, run_dir: str, clock: Callable[[], float]):
        self.pid = record.pid
        self.record = record
        self.run_dir = run_dir
        self.clock = clock
        self.started = clock()
        self.returncode: int | None = None
        self.lost = False
        self._gone_at: float | None = None
        self.pidfd: int | None = None
        try:
            self.pidfd = os.pidfd_open(record.pid)
        except (AttributeError, OSError):
            self.pidfd = None
        if not still_running(record):  # the pid was reused before the pidfd was had
            self.close()

    def poll(self) -> int | None:
        """The exit code once the keeper has written it; None while it runs (or while the
        keeper may still write it). `lost` is set when it never will."""
        if self.returncode is not None or self.lost:
            return self.returncode
        if still_running(self.record):
            return None
        self.close()  # ended: the pidfd would stay readable and wake every wait
        record = read_record(self.run_dir)
        if record is not None and record.pid == self.pid and record.ended:
            self.returncode = record.code
            return self.returncode
        now = self.clock()
        if self._gone_at is None:
            self._gone_at = now
        if keeper_alive(self.record) and now - self._gone_at < KEEPER_GRACE:
            return None  # reaped, the keeper is writing it down
        self.lost = True
        return None

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class TestJob:
    """One test's life after its work area exists: runscript, ezsteps, status, kill, heartbeat.

    Drive it with `start()` then `poll()` (or `run_to_completion()`). Every report goes through
    `reporter`; every state/status it writes fires the test's own `triggers`.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        test: TestRef,
        *,
        run_dir: str | os.PathLike[str],
        env: Mapping[str, str],
        reporter: Reporter,
        steps: Sequence[StepSpec | tuple[str, str]] = (),
        runscript: str | None = None,
        test_src_dir: str | None = None,
        runtimelim: float | None = None,
        triggers: Mapping[str, str] | None = None,
        waiver_hook: WaiverHook | None = None,
        final_comment: str | None = None,
        kill_grace: float = 5.0,
        heartbeat_interval: float = 3.0,
        write_makefile: bool = True,
        steps_prepared: bool = False,
        clock: Callable[[], float] = time.monotonic,
        witness: Witness | None = None,
        before_spawn: Callable[[], None] | None = None,
    ):
        self.test = test
        self.run_dir = os.fspath(run_dir)
        self.env = dict(env)
        self.reporter = reporter
        self.steps = [s if isinstance(s, StepSpec) else StepSpec.from_config(*s) for s in steps]
        self.runscript = runscript
        self.test_src_dir = test_src_dir
        self.runtimelim = runtimelim if runtimelim else None  # 0 means no limit
        self.triggers = dict(triggers or {})
        self.waiver_hook = waiver_hook
        self.final_comment = final_comment
        self.kill_grace = kill_grace
        self.heartbeat_interval = heartbeat_interval
        self.write_makefile = write_makefile
        self.steps_prepared = steps_prepared  # write_step_files already ran for this work area
        self.clock = clock
        self.witness = witness  # the run's keeper hears of every step started and reaped
        # called before each process of the test starts (a reporter that holds its reports
        # sends them: the process's helper calls must find the test as it was left)
        self.before_spawn = before_spawn

        self.phase = "new"  # new -> running -> (killing ->) done
        self.result: tuple[str, str] | None = None  # final state/status once done
        self._state = "LAUNCHED"
        self._status = "n/a"
        self._child: _Child | _AdoptedChild | None = None
        self._child_kind = ""  # "runscript" or "step"
        self._step_index = -1
        self._rollup = 0
        self._started_at = 0.0
        self._was_started = False
        self._next_heartbeat = 0.0
        self._kill_reason = ""
        self._kill_state = ("KILLED", "KILLED")
        self._kill_deadline = 0.0
        self._kill_giveup = 0.0
        self._sigkilled = False
        self._pgid: int | None = None
        # each step gets PATH + ":."
        self._step_env = dict(self.env)
        self._step_env["PATH"] = f"{self.env.get('PATH', '')}:."

    # -- public -------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.phase == "done"

    @property
    def pidfd(self) -> int | None:
        """An fd that becomes readable when the current child exits (None: poll on a timer)."""
        return self._child.pidfd if self._child is not None else None

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def next_deadline(self) -> float | None:
        """The clock time by which poll() must be called even if no child exits."""
        if self.phase == "running":
            times = [self._next_heartbeat]
            if self.runtimelim is not None:
                times.append(self._started_at + self.runtimelim)
            if self._child is not None and self._child.pidfd is None:
                times.append(self.clock() + 0.05)  # no pidfd: fall back to a short timer
            return min(times)
        if self.phase == "killing":
            return self.clock() + 0.05
        return None

    def start(self, now: float | None = None) -> list[Event]:
        """Mark the test started and launch its first process."""
        if self.phase != "new":
            return []
        now = self.clock() if now is None else now
        self.phase = "running"
        self._was_started = True
        self._started_at = now
        self._next_heartbeat = now + self.heartbeat_interval
        events: list[Event] = []
        self._write_state("REMOTEHOSTSTART", "n/a", None)
        self.reporter.set_values(self.test, _host_values())
        self._write_state("RUNNING", None, None)
        self._prepare_steps()
        if self.runscript:
            self._start_runscript(now, events)
        else:
            self._start_next_step(now, events)
        return events

    def resume(self, record: StepRecord, now: float | None = None) -> list[Event]:
        """Carry on a test whose runner died, from the step `record` names (its keeper's
        record): judge that step if it has ended, else adopt its still running process;
        then go on with the next steps as start() would have."""
        if self.phase != "new":
            return []
        now = self.clock() if now is None else now
        self.phase = "running"
        self._was_started = True
        self._started_at = min(record.started, now)  # the test's own start, when the clock agrees
        self._next_heartbeat = now
        self._state, self._status = "RUNNING", "n/a"
        self._rollup = record.rollup
        events: list[Event] = []
        runscript = record.step_index == RUNSCRIPT_INDEX
        known = bool(self.runscript) if runscript else 0 <= record.step_index < len(self.steps)
        if not known:
            drop_record(self.run_dir)
            self._finish("INCOMPLETE", "DEAD", "the test's steps changed while no runner was "
                         "alive; it runs again", events)
            return events
        self._child_kind = "runscript" if runscript else "step"
        self._step_index = -1 if runscript else record.step_index
        self._pgid = record.pid
        if record.ended:
            drop_record(self.run_dir)
            assert record.code is not None
            self._child_ended(record.code, now, events)
        else:
            self._child = _AdoptedChild(record, self.run_dir, self.clock)
        return events

    def poll(self, now: float | None = None) -> list[Event]:
        """Reap, judge and advance; check the runtime limit, heartbeat and kill requests."""
        now = self.clock() if now is None else now
        events: list[Event] = []
        self._reap_background()
        if self.phase == "running":
            child = self._child
            if child is not None:
                rc = child.poll()
                if rc is not None:
                    self._reaped(child)
                    self._child_ended(rc, now, events)
                elif isinstance(child, _AdoptedChild) and child.lost:
                    self._reaped(child)
                    self._finish("INCOMPLETE", "DEAD", "the step running when the runner died "
                                 "ended unwatched; its exit code is lost", events)
            if self.phase == "running":
                if self.runtimelim is not None and now - self._started_at > self.runtimelim:
                    events.append(TestTimedOut(self.test, self.runtimelim))
                    self._begin_kill(
                        f"KILLING TEST DUE TO TIME LIMIT EXCEEDED ({self.runtimelim:g}s)", now, events
                    )
                elif now >= self._next_heartbeat:
                    self._heartbeat(now, events)
        if self.phase == "killing":
            self._poll_killing(now, events)
        return events

    def kill(self, reason: str = "kill requested", now: float | None = None, *,
             state: str = "KILLED", status: str = "KILLED") -> list[Event]:
        """Kill the whole process tree (SIGTERM, SIGKILL after the grace period).

        The test ends as `state/status` (KILLED/KILLED; the remote executor uses INCOMPLETE/
        KILLED when it is itself terminated). Poll until `done`.
        """
        now = self.clock() if now is None else now
        events: list[Event] = []
        if self.phase in ("done", "killing"):
            return events
        self._kill_state = (state, status)
        if self.phase == "new" or self._child is None:
            # nothing to kill: the original records FAILED TO KILL when there was no pid
            events.append(TestKilled(self.test, reason))
            self.phase = "killing"
            self._finish(state, "FAILED TO KILL" if status == "KILLED" else status, reason, events)
            return events
        self._begin_kill(reason, now, events)
        self._poll_killing(now, events)
        return events

    def run_to_completion(
        self, poll_interval: float = 1.0, on_event: Callable[[Event], None] | None = None
    ) -> tuple[str, str]:
        """Run synchronously (the remote path): wait on the child, wake for deadlines.

        Returns the final (state, status); `on_event` sees every event as it happens.
        """
        emit = on_event if on_event is not None else (lambda _e: None)
        for event in self.start():
            emit(event)
        while not self.done:
            timeout = poll_interval
            deadline = self.next_deadline()
            if deadline is not None:
                timeout = max(0.0, min(timeout, deadline - self.clock()))
            fd = self.pidfd
            if fd is not None:
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                poller.poll(timeout * 1000)
            elif timeout > 0:
                time.sleep(min(timeout, 0.05))
            for event in self.poll():
                emit(event)
        assert self.result is not None
        return self.result

    # -- processes ----------------------------------------------------------------------------

    def _spawn(self, log_name: str, command: str, now: float, *, append: bool = False) -> _Child:
        """Start `command` in the run dir with its output in `log_name` (see executor.spawn:
        the program itself for a plain command, else `/bin/bash -c`)."""
        if self.before_spawn is not None:
            self.before_spawn()
        pid = None
        words = plain_command(command)
        if words is not None:
            pid = spawn_direct(words, cwd=self.run_dir, env=self._step_env,
                               log_path=os.path.join(self.run_dir, log_name), append=append)
        if pid is None:
            redirect = f"{'>>' if append else '>'} {shlex.quote(log_name)}"
            pid = spawn_bash(command, cwd=self.run_dir, env=self._step_env, redirect=redirect)
        self._pgid = pid
        self.reporter.set_values(self.test, {"process_id": pid})
        if self.witness is not None:
            index = RUNSCRIPT_INDEX if self._child_kind == "runscript" else self._step_index
            self.witness.step_started(pid, self.run_dir, log_name, index, self._rollup,
                                      self._started_at)
        return _Child(pid, now)

    def _reaped(self, child: _Child | _AdoptedChild) -> None:
        """The current child has ended and its status is taken."""
        self._child = None
        child.close()
        if isinstance(child, _AdoptedChild):
            drop_record(self.run_dir)  # acted on: a later rerun here must not see it
        elif self.witness is not None:
            self.witness.step_reaped(child.pid)

    def _start_runscript(self, now: float, events: list[Event]) -> None:
        script = resolve_runscript(self.runscript or "", self.test_src_dir)
        # a file of that name runs as it is; any other text is a shell command line, as the
        # original's process-run has it (`runscript main.sh --fast`: ./main.sh with an argument)
        command = shlex.quote(script) if os.path.isfile(script) else self.runscript or ""
        # the runscript's output goes to the launch log, as the -execute process's did
        self._child_kind = "runscript"
        try:
            self._child = self._spawn(LAUNCH_LOG, command, now, append=True)
        except OSError as exc:
            self._finish("COMPLETED", "FAIL", f"could not start runscript: {exc}", events)
            return
        events.append(StepStarted(self.test, os.path.basename(script), self._child.pid, LAUNCH_LOG))

    def _start_next_step(self, now: float, events: list[Event]) -> None:
        self._step_index += 1
        if self._step_index >= len(self.steps):
            self._final_status(self._rollup, events)
            return
        step = self.steps[self._step_index]
        log = f"{step.name}.log"
        self.reporter.step(self.test, step.name, "start", "-", "", "")
        self._child_kind = "step"
        try:
            # the whole command's output is logged, also for `a; b` and `a & b`
            self._child = self._spawn(log, step.command, now)
        except OSError as exc:
            self._finish("COMPLETED", "FAIL", f"could not start step {step.name}: {exc}", events)
            return
        events.append(StepStarted(self.test, step.name, self._child.pid, log))

    def _prepare_steps(self) -> None:
        if not self.steps_prepared:
            write_step_files(self.run_dir, self.steps, makefile=self.write_makefile)

    def _child_ended(self, rc: int, now: float, events: list[Event]) -> None:
        sig = -rc if rc < 0 else None
        command_exit = rc if rc >= 0 else None
        if self._child_kind == "runscript":
            events.append(StepEnded(self.test, os.path.basename(self.runscript or ""), command_exit,
                                    command_exit, sig, exitcodes.final_status(command_exit), LAUNCH_LOG))
            if sig is not None:
                self._final_status(None, events)  # killed by a signal: no ezsteps, FAIL
                return
            self._rollup = rc
            self._start_next_step(now, events)
            return
        self._step_ended(command_exit, sig, now, events)

    def _step_ended(self, command_exit: int | None, sig: int | None, now: float, events: list[Event]) -> None:
        step = self.steps[self._step_index]
        logpro_path = os.path.join(self.run_dir, f"{step.name}.logpro")
        uses_logpro = os.path.exists(logpro_path)
        code = command_exit
        comment = ""
        logfile = ""
        if uses_logpro:
            from pathlib import Path

            from megatest.executor import logpro  # only areas with rule files pay for it

            html_name = f"{step.name}.html"
            try:
                result = logpro.run_logpro(
                    Path(logpro_path), Path(self.run_dir) / f"{step.name}.log",
                    Path(self.run_dir) / html_name, env=self.env,
                )
                code = result.exit_code  # logpro's verdict replaces the command's exit code
                comment = "PASS" if code == 0 else f"{result.exit_status}: {result.message()}"
                self.reporter.add_test_data(self.test, logpro.test_data_rows(result, step.name))
            except ConfigError as exc:
                code = 1  # logpro exits 1 on a syntax error in its rule file
                comment = f"FAIL: {exc.one_line()}"
            logfile = html_name
            self.reporter.set_values(self.test, {"final_logf": html_name})
        if sig is not None:
            code = None  # a signal-killed step is a failure whatever the log says
        self.reporter.step(self.test, step.name, "end", "-" if code is None else str(code), logfile, comment)
        events.append(StepEnded(self.test, step.name, code, command_exit, sig,
                                exitcodes.step_status(code, logpro=uses_logpro),
                                logfile or f"{step.name}.log"))
        roll = exitcodes.combine_step(self._rollup, step.name, code, logpro=uses_logpro)
        self._rollup = roll.code
        last = self._step_index == len(self.steps) - 1
        state = "COMPLETED" if last or roll.result == "fail" else "RUNNING"
        self._write_state(state, roll.status, roll.comment)
        if sig is None and exitcodes.step_is_good(code, logpro=uses_logpro) and not last:
            self._start_next_step(now, events)
        else:
            self._final_status(self._rollup if sig is None else None, events)

    def _final_status(self, code: int | None, events: list[Event]) -> None:
        """End of the steps: COMPLETED/<status of R> unless someone already completed the row."""
        current = self.reporter.current_state_status(self.test)
        state, status = current if current is not None else (self._state, self._status)
        if state in RUNNING_STATES:
            self._finish("COMPLETED", exitcodes.final_status(code, status), self.final_comment, events)
        elif state == "KILLREQ":
            # the test asked for its own kill and ended before it was acted on: nothing is
            # left to kill, so it ends KILLED with the status it gave, as a kill request on a
            # test no one runs does (the runner would otherwise wait for an end never told)
            self._finish("KILLED", status, None, events)
        else:
            self._finish(None, None, None, events)

    def _finish(self, state: str | None, status: str | None, comment: str | None, events: list[Event]) -> None:
        if state is not None:
            self._write_state(state, status, comment)
        current = self.reporter.current_state_status(self.test)
        final = current if current is not None else (self._state, self._status)
        if self._was_started:
            self.reporter.set_values(self.test, {"run_duration": max(0.0, self.clock() - self._started_at)})
        self.phase = "done"
        self.result = final
        events.append(TestFinished(self.test, final[0], final[1], comment))

    # -- state writes, heartbeat, kill --------------------------------------------------------

    def _write_state(self, state: str | None, status: str | None, comment: str | None) -> None:
        if status == "FAIL" and self.waiver_hook is not None:
            waived = self.waiver_hook(self.test, comment)
            if waived is not None:
                status, comment = waived
        self.reporter.set_state_status(self.test, state, status, comment)
        self._state = state if state is not None else self._state
        self._status = status if status is not None else self._status
        if self.triggers:
            fire_triggers(
                self.triggers, state=self._state, status=self._status, test_id=self.test.test_id,
                run_dir=self.run_dir, env=self.env, test_name=self.test.test_name,
                item_path=self.test.item_path,
            )

    def _reap_background(self) -> None:
        trigger_mod.reap_finished()  # trigger shells of any job; cheap when there are none

    def _heartbeat(self, now: float, events: list[Event]) -> None:
        self._next_heartbeat = now + self.heartbeat_interval
        try:
            load = os.getloadavg()[0] / (os.cpu_count() or 1)
        except OSError:
            load = -1.0
        try:
            st = os.statvfs(self.run_dir)
            free = st.f_bavail * st.f_frsize // 1024
        except OSError:
            free = -1
        self.reporter.heartbeat(self.test, Heartbeat(now - self._started_at, load, free))
        current = self.reporter.current_state_status(self.test)
        if current is not None and current[0] == "KILLREQ":
            self._begin_kill("KILLREQ", now, events)

    def _begin_kill(self, reason: str, now: float, events: list[Event]) -> None:
        self.phase = "killing"
        self._kill_reason = reason
        self._kill_deadline = now + self.kill_grace
        self._kill_giveup = self._kill_deadline + 2.0
        events.append(TestKilled(self.test, reason))
        self._signal_group(signal.SIGTERM)

    def _signal_group(self, sig: int) -> None:
        if self._pgid is None:
            return
        try:
            os.killpg(self._pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _poll_killing(self, now: float, events: list[Event]) -> None:
        child = self._child
        if child is not None and (child.poll() is not None or getattr(child, "lost", False)):
            self._reaped(child)
        survivors = _live_group_members(self._pgid) if self._pgid is not None else []
        if self._child is None and not survivors:
            self._finish(*self._kill_state, self._kill_reason, events)
            return
        if not self._sigkilled and now >= self._kill_deadline:
            self._sigkilled = True
            self._signal_group(signal.SIGKILL)
        elif self._sigkilled and now >= self._kill_giveup:
            if self._child is not None:
                self._child.close()  # still alive after SIGKILL (uninterruptible): give up on it
                self._child = None
            state, status = self._kill_state
            self._finish(state, "FAILED TO KILL" if status == "KILLED" else status,
                         f"{self._kill_reason}; survivors: {' '.join(map(str, survivors))}", events)
