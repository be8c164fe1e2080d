import os
import time

import pytest

from megatest.errors import ConfigError
from megatest.executor.events import StepEnded, TestFinished, TestKilled, TestTimedOut
from megatest.executor.reporter import MemoryReporter, TestRef
from megatest.executor.steps import StepSpec, TestJob, _live_group_members, hms_to_seconds

T = TestRef("t1", test_id=7)
ERRORS = '(expect:error in "LogFileBody" = 0 "errors" #/ERROR/)'


def job(tmp_path, steps=(), **kw) -> tuple[TestJob, MemoryReporter]:
    rep = kw.pop("reporter", None) or MemoryReporter()
    env = kw.pop("env", None) or {"PATH": os.environ["PATH"], "MT_TEST_NAME": "t1"}
    return TestJob(T, run_dir=tmp_path, env=env, reporter=rep, steps=steps, **kw), rep


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


def _tree_pids(j: TestJob, want: int) -> list[int]:
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        pids = _live_group_members(j.pid)
        if len(pids) >= want:
            return pids
        time.sleep(0.01)
    raise AssertionError("step tree did not start")


def test_runtimelim_kills_whole_process_tree(tmp_path):
    j, rep = job(tmp_path, [("s", "sleep 100 & sleep 100"), ("next", "true")], runtimelim=0.3)
    events = []
    events += j.start()
    pids = _tree_pids(j, 3)  # bash and both sleeps
    t0 = time.monotonic()
    while not j.done:
        time.sleep(0.02)
        events += j.poll()
    assert time.monotonic() - t0 < 1.0  # SIGTERM was enough, no 5 s grace wait
    assert j.result == ("KILLED", "KILLED")
    assert [p for p in pids if _alive(p)] == []
    assert any(isinstance(e, TestTimedOut) for e in events)
    assert any(isinstance(e, TestKilled) and "TIME LIMIT" in e.reason for e in events)
    assert not (tmp_path / "next.log").exists()


def test_sigterm_ignoring_tree_gets_sigkill_after_grace(tmp_path):
    j, _ = job(tmp_path, [("s", "trap '' TERM; sleep 100 & sleep 100")], kill_grace=0.3)
    j.start()
    pids = _tree_pids(j, 3)
    t0 = time.monotonic()
    j.kill("test says stop")
    while not j.done:
        time.sleep(0.02)
        j.poll()
    assert 0.25 < time.monotonic() - t0 < 1.5
    assert j.result == ("KILLED", "KILLED")
    assert [p for p in pids if _alive(p)] == []


def test_kill_request_seen_at_heartbeat(tmp_path):
    j, rep = job(tmp_path, [("s", "sleep 100")], heartbeat_interval=0.1)
    j.start()
    rep.request_kill(T)
    events = []
    deadline = time.monotonic() + 1.5
    while not j.done and time.monotonic() < deadline:
        time.sleep(0.02)
        events += j.poll()
    assert j.result == ("KILLED", "KILLED")
    assert rep.comments[T] == "KILLREQ"
    assert rep.heartbeats and rep.heartbeats[0][1].run_duration >= 0.1


def test_heartbeats_while_running(tmp_path):
    j, rep = job(tmp_path, [("s", "sleep 0.35")], heartbeat_interval=0.1)
    run(j)
    assert len(rep.heartbeats) >= 2
    beat = rep.heartbeats[-1][1]
    assert beat.diskfree_kb > 0 and beat.run_duration > 0.1


def test_triggers_fire_for_pair_state_and_status_keys(tmp_path):
    out = tmp_path / "trig.txt"
    triggers = {"COMPLETED/PASS": f"echo pair >> {out}; echo",
                "COMPLETED/": f"echo state >> {out}; echo",
                "/PASS": f"echo status >> {out}; echo",
                "/FAIL": f"echo never >> {out}; echo"}
    j, _ = job(tmp_path, [("s", "true"), ("s2", "true")], triggers=triggers)
    run(j)
    log = tmp_path / "mt_launch.log"
    want = f"7 {tmp_path} COMPLETED/PASS"
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline and (
        len(out.read_text().splitlines() if out.exists() else []) < 4 or want not in log.read_text()
    ):
        time.sleep(0.02)
    lines = sorted(out.read_text().splitlines())
    # /PASS fires twice: RUNNING/PASS after the first step, then COMPLETED/PASS
    assert lines == ["pair", "state", "status", "status"]
    assert want in log.read_text()  # the command got <test-id> <run-dir> <key> appended


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
    with pytest.raises(ConfigError, match="one line"):
        StepSpec.from_config("c", "a\nb")
    with pytest.raises(ConfigError):
        StepSpec.from_config("a/b", "true")


def test_hms_to_seconds():
    assert hms_to_seconds("1h 2m 3s") == 3723
    assert hms_to_seconds("1d") == 86400
    assert hms_to_seconds("1h2m 10s") == 10  # glued tokens count 0
    assert hms_to_seconds("") is None and hms_to_seconds(None) is None
