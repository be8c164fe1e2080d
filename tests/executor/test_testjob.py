import math
import os
import select
import time

import pytest

from megatest.errors import ConfigError
from megatest.executor import steps as steps_module
from megatest.executor.events import StepEnded, TestFinished, TestKilled, TestTimedOut
from megatest.executor.reporter import MemoryReporter, TestRef
from megatest.executor.steps import StepSpec, TestJob, _live_group_members, hms_to_seconds
from megatest.executor.triggers import fire_triggers

T = TestRef("t1", test_id=7)
SAFETY = 30.0  # seconds: only turns a hang into a failure, never judges speed
ERRORS = '(expect:error in "LogFileBody" = 0 "errors" #/ERROR/)'


_JOBS: list[TestJob] = []


def job(tmp_path, steps=(), **kw) -> tuple[TestJob, MemoryReporter]:
    rep = kw.pop("reporter", None) or MemoryReporter()
    env = kw.pop("env", None) or {"PATH": os.environ["PATH"], "MT_TEST_NAME": "t1"}
    j = TestJob(T, run_dir=tmp_path, env=env, reporter=rep, steps=steps, **kw)
    _JOBS.append(j)
    return j, rep


@pytest.fixture(autouse=True)
def _no_process_left_behind():
    """A test that fails halfway leaves no step running: SIGTERM, then SIGKILL at once."""
    yield
    while _JOBS:
        j = _JOBS.pop()
        if not j.done:
            j.kill("test teardown", now=0.0)
            j.poll(now=math.inf)


def run(j: TestJob) -> list:
    events = []
    result = j.run_to_completion(poll_interval=0.05, on_event=events.append)
    assert j.result == result
    return events


def step_rows(rep):
    return [(name, state, status) for _, name, state, status, _, _ in rep.steps]


def test_steps_run_in_order_and_pass(tmp_path):
    j, rep = job(tmp_path, [("compile", "echo compiled"), ("unit", "echo unit; echo more")])
    run(j)
    assert j.result == ("COMPLETED", "PASS")
    assert step_rows(rep) == [("compile", "start", "-"), ("compile", "end", "0"),
                              ("unit", "start", "-"), ("unit", "end", "0")]
    assert (tmp_path / "unit.log").read_text() == "unit\nmore\n"  # the whole command is logged
    assert [(s, st) for _, s, st, _ in rep.history] == [
        ("REMOTEHOSTSTART", "n/a"), ("RUNNING", "n/a"), ("RUNNING", "PASS"), ("COMPLETED", "PASS")]
    assert "compile.log :" in (tmp_path / "Makefile.ezsteps").read_text()
    assert rep.values[T]["process_id"] > 0 and "run_duration" in rep.values[T]


def test_stop_after_first_bad_step(tmp_path):
    j, rep = job(tmp_path, [("a", "true"), ("b", "exit 1"), ("c", "echo never")])
    events = run(j)
    assert j.result == ("COMPLETED", "FAIL")
    assert rep.comments[T] == "Failed at step b"
    assert not (tmp_path / "c.log").exists()
    ended = [e for e in events if isinstance(e, StepEnded)]
    assert [(e.step, e.exit_code, e.status) for e in ended] == [("a", 0, "PASS"), ("b", 1, "FAIL")]
    assert isinstance(events[-1], TestFinished) and events[-1].status == "FAIL"


@pytest.mark.parametrize("code", [1, 2, 3, 4, 5, 6])
def test_without_logpro_any_nonzero_fails(tmp_path, code):
    j, rep = job(tmp_path, [("s", f"exit {code}"), ("next", "true")])
    run(j)
    assert j.result == ("COMPLETED", "FAIL")
    assert ("s", "end", str(code)) in step_rows(rep)
    assert not (tmp_path / "next.log").exists()


LOGPRO_ALL = """
(expect:waive   in "LogFileBody" = 0 "waive" #/WAIVEME/)
(expect:error   in "LogFileBody" = 0 "error" #/ERROR/)
(expect:warning in "LogFileBody" = 0 "warn"  #/WARNING/)
(expect:check   in "LogFileBody" = 0 "check" #/CHECKME/)
(expect:abort   in "LogFileBody" = 0 "abort" #/ABORTME/)
(expect:skip    in "LogFileBody" = 0 "skip"  #/SKIPME/)
"""


@pytest.mark.parametrize(
    ("word", "code", "final", "next_runs"),
    [("fine", 0, "PASS", True), ("ERROR", 1, "FAIL", False), ("WARNING", 2, "WARN", True),
     ("CHECKME", 3, "CHECK", False), ("WAIVEME", 4, "WAIVED", False),
     ("ABORTME", 5, "ABORT", False), ("SKIPME", 6, "SKIP", False)],
)
def test_logpro_codes(tmp_path, word, code, final, next_runs):
    j, rep = job(tmp_path, [StepSpec("s", f"echo {word}", LOGPRO_ALL), ("next", "echo next")])
    run(j)
    assert j.result == ("COMPLETED", final)
    end = [r for r in rep.steps if r[1] == "s" and r[2] == "end"][0]
    assert end[3] == str(code) and end[4] == "s.html"
    assert (tmp_path / "next.log").exists() == next_runs
    assert (tmp_path / "s.html").exists() and (tmp_path / "s.dat").exists()
    assert rep.values[T]["final_logf"] == "s.html"
    assert rep.test_data[T][-1].status == {4: "WAIVE"}.get(code, final)


def test_logpro_verdict_replaces_command_exit_code(tmp_path):
    j, rep = job(tmp_path, [StepSpec("s", "echo all good; exit 1", ERRORS)])
    events = run(j)
    assert j.result == ("COMPLETED", "PASS")
    ended = [e for e in events if isinstance(e, StepEnded)][0]
    assert (ended.exit_code, ended.command_exit) == (0, 1)


def test_logpro_warn_then_later_failure(tmp_path):
    rules = '(expect:warning in "LogFileBody" = 0 "w" #/WARN/)'
    j, rep = job(tmp_path, [StepSpec("a", "echo WARN", rules), ("b", "true"), ("c", "false")])
    run(j)
    assert j.result == ("COMPLETED", "FAIL")
    assert ("RUNNING", "WARN", "Logpro warning found") in [(s, st, c) for _, s, st, c in rep.history]


def test_warn_step_lets_test_end_warn(tmp_path):
    rules = '(expect:warning in "LogFileBody" = 0 "w" #/WARN/)'
    j, _ = job(tmp_path, [StepSpec("a", "echo WARN", rules), ("b", "true")])
    run(j)
    assert j.result == ("COMPLETED", "WARN")


def test_logpro_file_from_test_source_is_used_and_not_overwritten(tmp_path):
    (tmp_path / "s.logpro").write_text(ERRORS + "\n")
    j, _ = job(tmp_path, [StepSpec("s", "echo ERROR", '(expect:error in "LogFileBody" = 0 "x" #/nothing/)')])
    run(j)
    assert j.result == ("COMPLETED", "FAIL")
    assert (tmp_path / "s.logpro").read_text() == ERRORS + "\n"


def test_inline_rules_written_with_header(tmp_path):
    j, _ = job(tmp_path, [StepSpec("s", "true", ERRORS)])
    run(j)
    lines = (tmp_path / "s.logpro").read_text().splitlines()
    assert lines[0].startswith(";;") and lines[1].startswith(";;") and lines[2] == ERRORS


def test_malformed_logpro_fails_step_with_file_and_line(tmp_path):
    j, rep = job(tmp_path, [StepSpec("s", "true", "(expect:error in\n")])
    run(j)
    assert j.result == ("COMPLETED", "FAIL")
    end = [r for r in rep.steps if r[2] == "end"][0]
    assert end[3] == "1" and "s.logpro:" in end[5]


def test_runscript_exit_code_is_final_status(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.sh").write_text("#!/bin/sh\necho from runscript\nexit 3\n")  # not executable
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    j, rep = job(run_dir, runscript="main.sh", test_src_dir=str(src), final_comment="suite:t1:")
    run(j)
    assert j.result == ("COMPLETED", "CHECK")
    assert rep.comments[T] == "suite:t1:"
    assert "from runscript" in (run_dir / "mt_launch.log").read_text()


def test_a_runscript_with_arguments_is_a_command_line(tmp_path):
    (tmp_path / "main.sh").write_text('#!/bin/sh\necho "args: $*"\n')
    (tmp_path / "main.sh").chmod(0o755)
    j, _rep = job(tmp_path, runscript="main.sh --fast 'two words'", test_src_dir=str(tmp_path))
    run(j)
    assert j.result == ("COMPLETED", "PASS")
    assert "args: --fast two words" in (tmp_path / "mt_launch.log").read_text()


def test_runscript_nonzero_still_runs_ezsteps_which_then_fail(tmp_path):
    j, rep = job(tmp_path, [("after", "echo ran")], runscript="/bin/false")
    run(j)
    assert (tmp_path / "after.log").read_text() == "ran\n"
    assert j.result == ("COMPLETED", "FAIL")


def test_final_status_not_written_when_test_completed_itself(tmp_path):
    class SelfReporting(MemoryReporter):
        def set_values(self, test, values):
            super().set_values(test, values)
            if "process_id" in values:  # what `$MT_MEGATEST -test-status` would do meanwhile
                self.states[test] = ("COMPLETED", "PASS")

    j, rep = job(tmp_path, runscript="/bin/false", reporter=SelfReporting())
    run(j)
    assert j.result == ("COMPLETED", "PASS")
    assert rep.history[-1][1:3] == ("RUNNING", "n/a")


def test_steps_see_their_environment_and_dot_on_path(tmp_path):
    (tmp_path / "helper").write_text("#!/bin/sh\necho helper:$MT_TEST_NAME:$CUSTOM\n")
    (tmp_path / "helper").chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "MT_TEST_NAME": "t1", "CUSTOM": "v"}
    j, _ = job(tmp_path, [("s", "helper; pwd")], env=env)
    run(j)
    out = (tmp_path / "s.log").read_text().splitlines()
    assert out == ["helper:t1:v", str(tmp_path)]
    assert "CUSTOM" not in os.environ


def test_shell_syntax_error_is_logged_and_fails(tmp_path):
    j, _ = job(tmp_path, [("s", "if then")])
    run(j)
    assert j.result == ("COMPLETED", "FAIL")
    assert "syntax error" in (tmp_path / "s.log").read_text()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class FakeClock:
    """The clock a TestJob reads, moved by the test: a deadline passes when the test says so."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Fifo:
    """A named pipe between the test and a step's shell, by path (the step's processes inherit
    no descriptor of ours). Held open for reading AND writing, so neither side's open blocks
    and what the test sends waits in the pipe until the shell reads it."""

    def __init__(self, path):
        os.mkfifo(path)
        self.path = str(path)
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._buf = b""

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def line(self) -> str:
        """The next line written to the pipe; waits for it (SAFETY only turns a hang into a
        failure)."""
        give_up = time.monotonic() + SAFETY
        while b"\n" not in self._buf:
            poller = select.poll()
            poller.register(self.fd, select.POLLIN)
            if not poller.poll(max(0.0, give_up - time.monotonic()) * 1000):
                raise AssertionError(f"nothing written to {self.path} in {SAFETY:.0f} s")
            self._buf += os.read(self.fd, 4096)
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def fifo(tmp_path):
    made: list[Fifo] = []

    def make(name: str) -> Fifo:
        made.append(Fifo(tmp_path / name))
        return made[-1]

    yield make
    for f in made:
        f.close()


def _wait_for_an_exit(pids: list[int], timeout: float) -> None:
    """Block until one of `pids` ends (a pidfd becomes readable), or `timeout`."""
    fds = []
    try:
        for pid in pids:
            try:
                fds.append(os.pidfd_open(pid))
            except ProcessLookupError:
                return  # it has just ended
        if not fds:
            return
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        poller.poll(timeout * 1000)
    finally:
        for fd in fds:
            os.close(fd)


def settle(j: TestJob, leader: int) -> list:
    """Poll `j` without moving its clock until it is done, waiting in between for a process of
    its tree (process group `leader`) to end: real processes, frozen time."""
    events: list = []
    give_up = time.monotonic() + SAFETY
    while True:
        events += j.poll()
        if j.done:
            return events
        remaining = give_up - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"test still {j.phase} after {SAFETY:.0f} s, clock at {j.clock()}")
        _wait_for_an_exit(_live_group_members(leader), remaining)


# bash and two background sleeps in the step's process group; the sleeps' pids to `ready`
TREE = 'sleep 3600 & a=$!; sleep 3600 & echo "$a $!" > ready'


def test_runtimelim_kills_whole_process_tree(tmp_path, fifo):
    ready = fifo("ready")
    clock = FakeClock()
    j, rep = job(tmp_path, [("s", f"{TREE}; wait"), ("next", "true")], runtimelim=60, clock=clock)
    events = j.start()
    leader = j.pid
    tree = [leader, *map(int, ready.line().split())]
    clock.now = 59.9
    events += j.poll()
    assert not any(isinstance(e, (TestTimedOut, TestKilled)) for e in events)
    assert not j.done and all(_alive(p) for p in tree)
    clock.now = 60.1
    # the clock stays inside the 5 s grace period: no SIGKILL, SIGTERM alone must end the tree
    events += settle(j, leader)
    assert j.result == ("KILLED", "KILLED")
    assert [p for p in tree if _alive(p)] == []
    assert [e.limit for e in events if isinstance(e, TestTimedOut)] == [60]
    assert any(isinstance(e, TestKilled) and "TIME LIMIT" in e.reason for e in events)
    assert not (tmp_path / "next.log").exists()


def test_sigterm_ignoring_tree_gets_sigkill_after_grace(tmp_path, fifo):
    ready, ping = fifo("ready"), fifo("ping")
    clock = FakeClock()
    # the shell answers each line sent to `ping` on `ready`, for as long as it lives
    answer = 'while read -r word < ping; do echo "$word" > ready; done'
    j, _ = job(tmp_path, [("s", f"trap '' TERM; {TREE}; {answer}")], kill_grace=5, clock=clock)
    j.start()
    leader = j.pid
    tree = [leader, *map(int, ready.line().split())]
    clock.now = 10.0
    j.kill("test says stop")
    clock.now = 14.9
    j.poll()
    # it still answers after the SIGTERM: it ignored it, and no SIGKILL came before the grace ended
    ping.send("still-here")
    assert ready.line() == "still-here"
    assert not j.done and all(_alive(p) for p in tree)
    clock.now = 15.0
    settle(j, leader)
    assert j.result == ("KILLED", "KILLED")
    assert [p for p in tree if _alive(p)] == []


def test_kill_request_seen_at_heartbeat(tmp_path):
    clock = FakeClock()
    j, rep = job(tmp_path, [("s", "sleep 3600")], heartbeat_interval=3, clock=clock)
    j.start()
    leader = j.pid
    rep.request_kill(T)
    clock.now = 2.9
    assert j.poll() == []  # not seen between heartbeats
    assert rep.heartbeats == [] and _alive(leader)
    clock.now = 3.0
    settle(j, leader)
    assert j.result == ("KILLED", "KILLED")
    assert rep.comments[T] == "KILLREQ"
    assert [beat.run_duration for _, beat in rep.heartbeats] == [3.0]
    assert not _alive(leader)


def test_heartbeats_at_the_interval_while_running(tmp_path, fifo):
    gate = fifo("gate")
    clock = FakeClock()
    j, rep = job(tmp_path, [("s", "read -r _ < gate")], heartbeat_interval=3, clock=clock)
    j.start()
    leader = j.pid

    def beats_at(now: float) -> list[float]:
        clock.now = now
        j.poll()
        return [beat.run_duration for _, beat in rep.heartbeats]

    assert beats_at(2.9) == []
    assert beats_at(3.0) == [3.0]
    assert beats_at(5.9) == [3.0]
    assert beats_at(6.0) == [3.0, 6.0]
    assert beats_at(8.9) == [3.0, 6.0]
    assert beats_at(9.0) == [3.0, 6.0, 9.0]
    beat = rep.heartbeats[-1][1]
    assert beat.diskfree_kb > 0 and isinstance(beat.cpuload, float)
    gate.send("go")  # the step ends
    clock.now = 10.0
    settle(j, leader)
    assert j.result == ("COMPLETED", "PASS")
    assert len(rep.heartbeats) == 3  # none once the test has ended


def test_triggers_fire_for_pair_state_and_status_keys(tmp_path, fifo, monkeypatch):
    fired = fifo("fired")
    report = tmp_path / "report"
    # a trigger's output goes to mt_launch.log; then it tells the test
    report.write_text(f'#!/bin/sh\necho "$@"\necho "$@" > {fired.path}\n')
    report.chmod(0o755)
    out = tmp_path / "trig.txt"
    triggers = {"COMPLETED/PASS": f"echo pair >> {out}; {report}",
                "COMPLETED/": f"echo state >> {out}; {report}",
                "/PASS": f"echo status >> {out}; {report}",
                "/FAIL": f"echo never >> {out}; {report}"}
    shells = []

    def fire_and_keep(*args, **kwargs):
        started = fire_triggers(*args, **kwargs)
        shells.extend(started)
        return started

    monkeypatch.setattr(steps_module, "fire_triggers", fire_and_keep)
    j, _ = job(tmp_path, [("s", "true"), ("s2", "true")], triggers=triggers)
    run(j)
    for shell in shells:  # each ran its `echo ... >> trig.txt`, then put `report` in the background
        shell.wait(timeout=SAFETY)
    # /PASS fires twice: RUNNING/PASS after the first step, then COMPLETED/PASS
    assert sorted(out.read_text().splitlines()) == ["pair", "state", "status", "status"]
    # the command got <test-id> <run-dir> <key> appended
    reports = sorted(fired.line() for _ in range(4))
    assert reports == [f"7 {tmp_path} {key}" for key in ("/PASS", "/PASS", "COMPLETED/", "COMPLETED/PASS")]
    log = (tmp_path / "mt_launch.log").read_text().splitlines()
    assert all(line in log for line in reports)


def test_waiver_hook_turns_fail_into_waived(tmp_path):
    calls = []

    def hook(test, comment):
        calls.append((test, comment))
        return "WAIVED", "known failure"

    j, rep = job(tmp_path, [("s", "false")], waiver_hook=hook)
    run(j)
    assert j.result == ("COMPLETED", "WAIVED")
    assert rep.comments[T] == "known failure"
    assert calls == [(T, "Failed at step s")]


def test_kill_before_start_is_failed_to_kill(tmp_path):
    j, _ = job(tmp_path, [("s", "true")])
    events = j.kill("early")
    assert j.done and j.result == ("KILLED", "FAILED TO KILL")
    assert isinstance(events[-1], TestFinished)


def test_step_spec_from_config():
    assert StepSpec.from_config("c", "{VAR=a,b} ./check.sh").command == "./check.sh"
    assert StepSpec.from_config("c", "{V=1} for i in 1; do\n  echo $i\ndone").command == (
        "for i in 1; do\n  echo $i\ndone")
    with pytest.raises(ConfigError):
        StepSpec.from_config("a/b", "true")


def test_hms_to_seconds():
    assert hms_to_seconds("1h 2m 3s") == 3723
    assert hms_to_seconds("1d") == 86400
    assert hms_to_seconds("1h2m 10s") == 10  # glued tokens count 0
    assert hms_to_seconds("") is None and hms_to_seconds(None) is None
