"""The local launcher: real child processes, supervised from one poll, timers on a clock the
tests move themselves."""

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from megatest.executor.events import StepStarted, TestFinished, TestKilled
from megatest.executor.prepare import PreparedTest
from megatest.executor.reporter import MemoryReporter, TestRef
from megatest.executor.steps import StepSpec, TestJob
from megatest.executor.workarea import WorkArea
from megatest.launch.base import LaunchSpec, RunIdentity, Selector
from megatest.launch.local import LocalLauncher, leftover_processes

ENV = {"PATH": os.environ["PATH"]}
# a safety net that turns a hang into a failure; no assertion depends on it
GIVE_UP_POLLS = 2000


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_jobs(tmp_path, n, steps, rep=None, clock=None, **kw):
    rep = rep or MemoryReporter()
    jobs = []
    for i in range(n):
        d = tmp_path / f"t{i}"
        d.mkdir()
        if clock is not None:
            kw["clock"] = clock
        jobs.append(TestJob(TestRef(f"t{i}"), run_dir=d, env=ENV, reporter=rep, steps=steps,
                            write_makefile=False, **kw))
    return jobs, rep


def poll_until(launcher, done, timeout=0.05):
    for _ in range(GIVE_UP_POLLS):
        if done():
            return
        launcher.poll(timeout)
    raise AssertionError("gave up waiting")


def test_jobs_run_concurrently(tmp_path):
    """Six tests are all running at once: each waits for a file that is only made once all
    six have started, so in sequence they could never end."""
    gate = tmp_path / "go"
    step = f"touch up; while [ ! -e {gate} ]; do sleep 0.01; done"
    jobs, rep = make_jobs(tmp_path, 6, [("a", step), ("b", "echo done")])
    launcher = LocalLauncher()
    for job in jobs:
        launcher.start(job)
    poll_until(launcher, lambda: all((tmp_path / f"t{i}" / "up").exists() for i in range(6)))
    assert launcher.running == 6
    gate.touch()
    events = launcher.run_until_done()
    finished = [e for e in events if isinstance(e, TestFinished)]
    assert sorted(e.test.test_name for e in finished) == [f"t{i}" for i in range(6)]
    assert all((e.state, e.status) == ("COMPLETED", "PASS") for e in finished)
    assert launcher.running == 0


def test_a_poll_that_times_out_reports_nothing_and_no_timer_fires_early(tmp_path):
    clock = Clock()
    jobs, rep = make_jobs(tmp_path, 1, [("a", "sleep 100")], clock=clock, heartbeat_interval=3.0)
    launcher = LocalLauncher(clock=clock)
    launcher.start(jobs[0])
    assert launcher.poll(0.01) == []
    assert rep.heartbeats == []  # the clock has not reached the heartbeat
    clock.now += 3.5
    launcher.poll(0.01)
    assert len(rep.heartbeats) == 1
    launcher.kill_all()
    poll_until(launcher, lambda: not launcher.running)
    assert jobs[0].result == ("KILLED", "KILLED")


def test_the_runtime_limit_is_judged_on_the_launchers_clock(tmp_path):
    clock = Clock()
    jobs, rep = make_jobs(tmp_path, 1, [("a", "sleep 100")], clock=clock, runtimelim=60)
    launcher = LocalLauncher(clock=clock)
    launcher.start(jobs[0])
    launcher.poll(0.01)
    assert launcher.running == 1
    clock.now += 61
    poll_until(launcher, lambda: not launcher.running)
    assert rep.states[jobs[0].test][0] == "KILLED"


def test_kill_one_job(tmp_path):
    gate = tmp_path / "go"
    jobs, rep = make_jobs(tmp_path, 2, [("a", f"while [ ! -e {gate} ]; do sleep 0.01; done")])
    launcher = LocalLauncher()
    for j in jobs:
        launcher.start(j)
    events = launcher.kill(jobs[0].test, "dashboard kill")
    assert any(isinstance(e, TestKilled) for e in events)
    poll_until(launcher, lambda: not launcher.has(jobs[0].test))
    gate.touch()
    launcher.run_until_done()
    assert rep.states[jobs[0].test] == ("KILLED", "KILLED")
    assert rep.states[jobs[1].test] == ("COMPLETED", "PASS")


def test_kill_all_as_incomplete(tmp_path):
    jobs, rep = make_jobs(tmp_path, 2, [("a", "sleep 30")])
    launcher = LocalLauncher()
    for j in jobs:
        launcher.start(j)
    launcher.kill_all("runner got SIGTERM", state="INCOMPLETE")
    launcher.run_until_done()
    assert {rep.states[j.test] for j in jobs} == {("INCOMPLETE", "KILLED")}


def test_same_test_twice_is_refused(tmp_path):
    jobs, _ = make_jobs(tmp_path, 1, [("a", "sleep 30")])
    launcher = LocalLauncher()
    launcher.start(jobs[0])
    dup = TestJob(jobs[0].test, run_dir=tmp_path, env=ENV, reporter=MemoryReporter(),
                  steps=[("a", "true")])
    with pytest.raises(ValueError):
        launcher.start(dup)
    launcher.kill_all()
    launcher.run_until_done()


def test_a_tree_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    """The grace period is a timer on the launcher's clock: nothing exits to wake the launcher
    when SIGTERM is ignored, and nothing is SIGKILLed before the grace period has passed."""
    clock = Clock()
    jobs, rep = make_jobs(tmp_path, 1, [("s", "trap '' TERM; touch trapped; sleep 100 & sleep 100")],
                          clock=clock, kill_grace=5.0)
    launcher = LocalLauncher(clock=clock)
    launcher.start(jobs[0])
    poll_until(launcher, lambda: (tmp_path / "t0" / "trapped").exists())
    launcher.kill(jobs[0].test, "dashboard kill")
    for _ in range(5):
        launcher.poll(0.02)
    assert launcher.running, "ended before the grace period though it ignores SIGTERM"
    clock.now += 6
    poll_until(launcher, lambda: not launcher.running)
    assert rep.states[jobs[0].test] == ("KILLED", "KILLED")


def test_steps_start_as_children_through_submit_of_a_launch_spec(tmp_path):
    """The Launcher interface: a prepared work area and its steps in, the test's life out
    through the reporter the launcher was built with."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    work = WorkArea(run_dir, None, None)
    prepared = PreparedTest(work, dict(ENV), ("", ""))
    rep = MemoryReporter()
    launcher = LocalLauncher(rep)
    ref = TestRef("t", "", 1, 1)
    events = launcher.submit(LaunchSpec(ref, prepared, [StepSpec("a", "echo hi")]))
    assert any(isinstance(e, StepStarted) for e in events)
    assert launcher.has(ref)
    launcher.run_until_done()
    assert rep.states[ref] == ("COMPLETED", "PASS")
    assert (run_dir / "a.log").read_text().strip() == "hi"


def test_a_wait_ends_when_a_file_descriptor_of_the_runner_is_ready(tmp_path):
    """The runner's own pipes share the launcher's wait: a write ends it, however long the
    running tests go on."""
    selector = Selector()
    jobs, _ = make_jobs(tmp_path, 1, [("a", "sleep 100")])
    launcher = LocalLauncher(selector=selector)
    launcher.start(jobs[0])
    r, w = os.pipe()
    try:
        selector.register(r, select.POLLIN)
        os.write(w, b"x")
        assert launcher.poll(None) == []  # returns though no test ended and no timer is due
        assert r in selector.ready
    finally:
        selector.unregister(r)
        os.close(r)
        os.close(w)
        launcher.kill_all()
        launcher.run_until_done()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_leftovers_of_a_dead_runner_are_found_by_their_environment_and_reaped(tmp_path):
    env = {
        **os.environ,
        "MT_RUN_AREA_HOME": str(tmp_path),
        "MT_TARGET": "a/b",
        "MT_RUNNAME": "r",
        "MT_TEST_NAME": "t",
        "MT_ITEMPATH": "x/1",
    }
    child = subprocess.Popen(["sleep", "30"], env=env, start_new_session=True)
    other = subprocess.Popen(["sleep", "30"], env={**env, "MT_RUNNAME": "other"},
                             start_new_session=True)
    try:
        assert leftover_processes(str(tmp_path), "a/b", "r") == {("t", "x/1"): {child.pid}}
        killed = LocalLauncher().reap_stale(RunIdentity(str(Path(tmp_path)), "a/b", "r", 1))
        assert killed == 1
        assert child.wait(timeout=30) == -9
        assert other.poll() is None  # another run's test is left alone
    finally:
        for proc in (child, other):
            proc.kill()
            proc.wait()
