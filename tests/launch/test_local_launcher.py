import os
import resource
import time

import pytest

from megatest.executor.events import StepStarted, TestFinished, TestKilled
from megatest.executor.reporter import MemoryReporter, TestRef
from megatest.executor.steps import TestJob
from megatest.launch.local import LocalLauncher

ENV = {"PATH": os.environ["PATH"]}


def make_jobs(tmp_path, n, steps, rep=None, **kw):
    rep = rep or MemoryReporter()
    jobs = []
    for i in range(n):
        d = tmp_path / f"t{i}"
        d.mkdir()
        jobs.append(TestJob(TestRef(f"t{i}"), run_dir=d, env=ENV, reporter=rep, steps=steps,
                            write_makefile=False, **kw))
    return jobs, rep


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def test_jobs_run_concurrently(tmp_path):
    jobs, rep = make_jobs(tmp_path, 6, [("a", "sleep 0.3"), ("b", "echo done")])
    launcher = LocalLauncher()
    t0 = time.monotonic()
    events = launcher.run_until_done(jobs)
    assert time.monotonic() - t0 < 1.2  # 6 x 0.3 s in parallel, not 1.8 s in sequence
    finished = [e for e in events if isinstance(e, TestFinished)]
    assert sorted(e.test.test_name for e in finished) == [f"t{i}" for i in range(6)]
    assert all((e.state, e.status) == ("COMPLETED", "PASS") for e in finished)
    assert launcher.running == 0


def test_waiting_does_not_spin(tmp_path):
    jobs, _ = make_jobs(tmp_path, 2, [("a", "sleep 0.5")], heartbeat_interval=0.2)
    launcher = LocalLauncher()
    for j in jobs:
        launcher.submit(j)
    c0, polls = cpu_seconds(), 0
    while launcher.running:
        launcher.poll(None)
        polls += 1
    assert cpu_seconds() - c0 < 0.15
    assert polls < 20  # woken by child exits and heartbeats only


def test_poll_timeout_returns_without_events(tmp_path):
    jobs, _ = make_jobs(tmp_path, 1, [("a", "sleep 0.5")])
    launcher = LocalLauncher()
    launcher.submit(jobs[0])
    t0 = time.monotonic()
    assert launcher.poll(0.1) == []
    assert 0.08 < time.monotonic() - t0 < 0.3
    launcher.kill_all()
    while launcher.running:
        launcher.poll(None)
    assert jobs[0].result == ("KILLED", "KILLED")


def test_kill_one_job(tmp_path):
    jobs, rep = make_jobs(tmp_path, 2, [("a", "sleep 0.4")])
    launcher = LocalLauncher()
    for j in jobs:
        launcher.submit(j)
    events = launcher.kill(jobs[0].test, "dashboard kill")
    assert any(isinstance(e, TestKilled) for e in events)
    events += launcher.run_until_done()
    assert rep.states[jobs[0].test] == ("KILLED", "KILLED")
    assert rep.states[jobs[1].test] == ("COMPLETED", "PASS")


def test_kill_all_as_incomplete(tmp_path):
    jobs, rep = make_jobs(tmp_path, 2, [("a", "sleep 30")])
    launcher = LocalLauncher()
    for j in jobs:
        launcher.submit(j)
    launcher.kill_all("runner got SIGTERM", state="INCOMPLETE")
    launcher.run_until_done()
    assert {rep.states[j.test] for j in jobs} == {("INCOMPLETE", "KILLED")}


def test_same_test_twice_is_refused(tmp_path):
    jobs, _ = make_jobs(tmp_path, 1, [("a", "sleep 0.2")])
    launcher = LocalLauncher()
    launcher.submit(jobs[0])
    dup = TestJob(jobs[0].test, run_dir=tmp_path, env=ENV, reporter=MemoryReporter(), steps=[("a", "true")])
    with pytest.raises(ValueError):
        launcher.submit(dup)
    launcher.run_until_done()


def test_supervisor_overhead_per_step(tmp_path):
    """200 `true` steps, two tests at a time: the supervisor's own CPU stays under 2 ms/step.

    (A busy-waiting loop would burn the whole wall time, ~5 ms/step here.)
    """
    jobs, _ = make_jobs(tmp_path, 100, [("a", "true"), ("b", "true")])
    launcher = LocalLauncher()
    pending = list(jobs)
    started = 0
    c0 = cpu_seconds()
    while pending or launcher.running:
        while pending and launcher.running < 2:
            events = launcher.submit(pending.pop())
            started += sum(isinstance(e, StepStarted) for e in events)
        started += sum(isinstance(e, StepStarted) for e in launcher.poll(None))
    per_step = (cpu_seconds() - c0) / 200
    assert started == 200
    assert all(j.result == ("COMPLETED", "PASS") for j in jobs)
    assert per_step < 0.002, f"{per_step * 1000:.2f} ms of supervisor CPU per step"


def test_a_tree_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    """The grace period is a timer: nothing exits to wake the launcher when SIGTERM is ignored."""
    jobs, rep = make_jobs(tmp_path, 1, [("s", "trap '' TERM; sleep 100 & sleep 100")],
                          kill_grace=0.3)
    launcher = LocalLauncher()
    launcher.submit(jobs[0])
    time.sleep(0.2)  # the shell has set its trap
    launcher.kill(jobs[0].test, "dashboard kill")
    give_up = time.monotonic() + 5
    while launcher.running and time.monotonic() < give_up:
        launcher.poll(None)
    assert not launcher.running, "still running 5 s after a kill with a 0.3 s grace period"
    assert rep.states[jobs[0].test] == ("KILLED", "KILLED")
