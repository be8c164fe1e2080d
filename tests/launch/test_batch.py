"""The batch launcher's own logic over a fake batch system, on a clock the tests move: one
submit call for the tests handed over together, caps, one status call per interval with
back-off, the exit file as the truth, the batch system's words when there is none, batched
cancels, and a runner taking over a dead one's jobs."""

from __future__ import annotations

import os

import pytest

from megatest.executor.events import TestFinished
from megatest.executor.prepare import PreparedTest
from megatest.executor.reporter import MemoryReporter, TestRef
from megatest.executor.steps import StepSpec
from megatest.executor.workarea import WorkArea
from megatest.launch import endings
from megatest.launch.base import JobLost, LauncherContext, LaunchSpec, RunIdentity, StaleTest
from megatest.launch.batch import EXIT_GRACE, BatchLauncher, BatchLimits, SubmitError
from megatest.launch.jobfile import (
    JOB_FILE,
    ExitRecord,
    read_job,
    read_job_id,
    write_exit,
    write_job_id,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ClockSelector:
    """A selector with nothing to watch: a wait moves the clock by the time asked."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.ready = frozenset()
        self.waits: list[float | None] = []

    def __len__(self) -> int:
        return 0

    def wait(self, timeout):
        self.waits.append(timeout)
        self.clock.now += timeout if timeout is not None else 0
        return frozenset()


class FakeSystem:
    """Records every call; job states are what the test sets."""

    name = "fake"

    def __init__(self, grouping: bool = True, width: int | None = None) -> None:
        self.grouping = grouping
        self.width = width  # probe_width: None, nothing waits for times
        self.submits: list[list[str]] = []
        self.status_calls = 0
        self.cancels: list[list[str]] = []
        self.words: dict[str, str] = {}
        self.refuse: str | None = None
        self.next_id = 100

    def group_key(self, sub):
        return "all" if self.grouping else None

    def submit(self, group, jobname):
        if self.refuse:
            raise SubmitError(self.refuse)
        self.submits.append([s.test.test_name for s in group])
        ids = [f"{self.next_id}_{i}" for i in range(len(group))]
        self.next_id += 1
        for job_id in ids:
            self.words[job_id] = endings.QUEUED
        return ids

    def states(self, job_ids, jobname):
        self.status_calls += 1
        return {j: w for j, w in self.words.items() if j in set(job_ids)}

    def cancel(self, job_ids):
        self.cancels.append(list(job_ids))

    def run_jobs(self, jobname):
        return dict(self.words)

    def probe_width(self):
        return self.width


def make(tmp_path, limits=None, grouping=True, width=None, past=None):
    clock = Clock()
    system = FakeSystem(grouping, width)
    rep = MemoryReporter()
    selector = ClockSelector(clock)
    ctx = LauncherContext(rep, selector, clock, expected=past or (lambda _test: None))
    launcher = BatchLauncher(system, rep, ctx, limits or BatchLimits())
    return launcher, system, rep, clock, selector


def spec(tmp_path, name: str, run_id: int = 7) -> LaunchSpec:
    run_dir = tmp_path / name
    run_dir.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "MT_RUN_AREA_HOME": str(tmp_path),
           "MT_MEGATEST": "/no/such/megatest"}
    prepared = PreparedTest(WorkArea(run_dir, None, None), env, ("", ""))
    return LaunchSpec(TestRef(name, "", 1, run_id), prepared, [StepSpec("go", "true")])


def run_dir(launcher_spec: LaunchSpec) -> str:
    return launcher_spec.prepared.work_area.run_dir_str


def poll_until(launcher, done, step=0.1, limit=2000):
    events = []
    for _ in range(limit):
        if done():
            return events
        events += launcher.poll(step)
    raise AssertionError("gave up waiting")


def test_tests_handed_over_together_go_out_in_one_submit_call(tmp_path):
    launcher, system, _rep, _clock, _sel = make(tmp_path)
    specs = [spec(tmp_path, f"t{i}") for i in range(5)]
    for s in specs:
        assert launcher.submit(s) == []
    assert system.submits == []  # waits a moment for more
    poll_until(launcher, lambda: system.submits)
    assert system.submits == [["t0", "t1", "t2", "t3", "t4"]]
    assert launcher.running == 5
    # the node's job file and the job id are in each run directory
    job = read_job(run_dir(specs[3]))
    assert (job.test_name, job.steps) == ("t3", [("go", "true", None)])
    assert read_job_id(run_dir(specs[3])) == "100_3"


def test_the_exit_file_ends_the_test_as_it_says(tmp_path):
    launcher, system, rep, _clock, _sel = make(tmp_path)
    s = spec(tmp_path, "t0")
    launcher.submit(s)
    poll_until(launcher, lambda: system.submits)
    system.words["100_0"] = endings.RUNNING
    write_exit(run_dir(s), ExitRecord("COMPLETED", "FAIL", "Failed at step go", "node1"))
    events = poll_until(launcher, lambda: not launcher.running)
    assert TestFinished(s.test, "COMPLETED", "FAIL", None) in events
    assert rep.states[s.test] == ("COMPLETED", "FAIL")


def test_the_status_call_backs_off_while_nothing_changes_and_is_one_call_per_poll(tmp_path):
    launcher, system, _rep, clock, _sel = make(tmp_path, BatchLimits(poll_min=0.5, poll_max=4))
    for i in range(50):
        launcher.submit(spec(tmp_path, f"t{i}"))
    poll_until(launcher, lambda: system.submits)
    start, calls_at = clock.now, []
    while clock.now - start < 30:
        before = system.status_calls
        launcher.poll(None)
        if system.status_calls > before:
            calls_at.append(clock.now)
        assert system.status_calls - before <= 1  # never one call per job
    gaps = [b - a for a, b in zip(calls_at, calls_at[1:], strict=False)]
    assert gaps[0] < 1 and gaps[-1] == pytest.approx(4, abs=0.3)
    assert len(calls_at) < 15  # not 60 calls of every 0.5 s
    # news (a job started) makes it look again soon
    system.words["100_1"] = endings.RUNNING
    calls = system.status_calls
    while system.status_calls == calls:
        launcher.poll(None)
    seen = clock.now
    while system.status_calls == calls + 1:
        launcher.poll(None)
    assert clock.now - seen == pytest.approx(0.5, abs=0.3)


def test_a_job_gone_without_exit_file_ends_as_its_word_says_after_a_grace(tmp_path):
    launcher, system, rep, clock, _sel = make(tmp_path)
    s = spec(tmp_path, "t0")
    launcher.submit(s)
    poll_until(launcher, lambda: system.submits)
    system.words["100_0"] = endings.RUNNING
    launcher.poll(1.0)
    system.words["100_0"] = "TIMEOUT"
    gone_at = clock.now
    events = poll_until(launcher, lambda: not launcher.running)
    assert clock.now - gone_at >= EXIT_GRACE  # the file could still have shown up
    assert rep.states[s.test] == ("KILLED", "KILLED")
    assert rep.comments[s.test] == "fake job 100_0 reached its time limit (TIMEOUT)"
    assert any(isinstance(e, TestFinished) for e in events)


def test_a_job_the_system_forgot_without_exit_file_is_lost_not_waited_for(tmp_path):
    launcher, system, _rep, _clock, _sel = make(tmp_path)
    s = spec(tmp_path, "t0")
    launcher.submit(s)
    poll_until(launcher, lambda: system.submits)
    del system.words["100_0"]
    events = poll_until(launcher, lambda: not launcher.running)
    lost = [e for e in events if isinstance(e, JobLost)]
    assert lost and "no longer known" in lost[0].reason


def test_kills_are_sent_in_one_cancel_call_and_end_the_tests_killed(tmp_path):
    launcher, system, rep, _clock, _sel = make(tmp_path)
    specs = [spec(tmp_path, f"t{i}") for i in range(3)]
    for s in specs:
        launcher.submit(s)
    poll_until(launcher, lambda: system.submits)
    for job_id in ("100_0", "100_1", "100_2"):
        system.words[job_id] = endings.RUNNING
    launcher.poll(1.0)
    for s in specs[:2]:
        launcher.kill(s.test, "KILLREQ")
    launcher.poll(0)
    assert system.cancels == [["100_0", "100_1"]]
    # the node writes its exit file after the kill; the test ends as the kill asked
    write_exit(run_dir(specs[0]), ExitRecord("KILLED", "KILLED", "the job was stopped", "n", 15))
    system.words["100_1"] = "CANCELLED"
    poll_until(launcher, lambda: launcher.running == 1)
    assert rep.states[specs[0].test] == ("KILLED", "KILLED")
    assert rep.comments[specs[0].test] == "KILLREQ"
    assert rep.comments[specs[1].test] == "KILLREQ"


def test_a_killed_test_not_submitted_yet_ends_at_once_without_a_cancel(tmp_path):
    launcher, system, rep, _clock, _sel = make(tmp_path)
    s = spec(tmp_path, "t0")
    launcher.submit(s)
    launcher.kill_all("runner got SIGTERM", state="INCOMPLETE", status="KILLED")
    assert not launcher.running and system.submits == [] and system.cancels == []
    assert rep.states[s.test] == ("INCOMPLETE", "KILLED")


def test_caps_hold_back_submissions_until_jobs_start(tmp_path):
    limits = BatchLimits(max_queued=2, submits_per_minute=60)
    launcher, system, _rep, clock, _sel = make(tmp_path, limits, grouping=False)
    for i in range(4):
        launcher.submit(spec(tmp_path, f"t{i}"))
    first = clock.now
    poll_until(launcher, lambda: len(system.submits) == 2)
    assert clock.now - first >= 1.0  # one call a second
    for _ in range(20):
        launcher.poll(1.0)
    assert len(system.submits) == 2  # two queued: the cap
    system.words["100_0"] = system.words["101_0"] = endings.RUNNING
    poll_until(launcher, lambda: len(system.submits) == 4)


def test_a_refused_submission_fails_its_tests_with_the_systems_message(tmp_path):
    launcher, system, rep, _clock, _sel = make(tmp_path)
    system.refuse = "sbatch exited with 1: invalid partition specified: nope"
    s = spec(tmp_path, "t0")
    launcher.submit(s)
    poll_until(launcher, lambda: not launcher.running)
    assert rep.states[s.test] == ("INCOMPLETE", "ABORT")
    assert rep.comments[s.test] == ("launch failed: sbatch exited with 1: invalid partition "
                                    "specified: nope")


def test_a_new_runner_adopts_the_jobs_still_alive_and_cancels_the_rest(tmp_path):
    launcher, system, rep, _clock, _sel = make(tmp_path)
    alive, ended, unknown = (spec(tmp_path, n) for n in ("alive", "ended", "unknown"))
    write_job_id(run_dir(alive), "50_0")
    write_exit(run_dir(ended), ExitRecord("COMPLETED", "PASS", None, "n"))
    system.words.update({"50_0": endings.RUNNING, "50_9": endings.QUEUED})
    stale = [StaleTest(s.test, run_dir(s)) for s in (alive, ended, unknown)]
    carried = launcher.recover(RunIdentity(str(tmp_path), "a/b", "r", 7), stale)
    assert carried == {alive.test, ended.test}
    assert system.cancels == [["50_9"]]  # a job of the run no test row claims
    for s in (alive, ended):
        launcher.submit(s)  # the runner resumes them: nothing is submitted again
    poll_until(launcher, lambda: launcher.running == 1)
    assert system.submits == []
    assert rep.states[ended.test] == ("COMPLETED", "PASS")
    write_exit(run_dir(alive), ExitRecord("COMPLETED", "PASS", None, "n"))
    poll_until(launcher, lambda: not launcher.running)
    assert not os.path.exists(os.path.join(run_dir(unknown), JOB_FILE))


def test_a_fail_in_the_exit_file_goes_through_the_tests_waiver_rules_here(tmp_path):
    launcher, system, rep, _clock, _sel = make(tmp_path)
    asked = []

    def waive(test, comment):
        asked.append((test.test_name, comment))
        return ("WAIVED", "known failure")

    s = spec(tmp_path, "t0")._replace(waiver_hook=waive)
    launcher.submit(s)
    poll_until(launcher, lambda: system.submits)
    write_exit(run_dir(s), ExitRecord("COMPLETED", "FAIL", "Failed at step go", "n"))
    poll_until(launcher, lambda: not launcher.running)
    assert asked == [("t0", "Failed at step go")]
    assert rep.states[s.test] == ("COMPLETED", "WAIVED")
    assert rep.comments[s.test] == "known failure"


def item_spec(tmp_path, item: str) -> LaunchSpec:
    base = spec(tmp_path, f"sim-{item}")
    return base._replace(test=TestRef("sim", item, 1, 7))


def end(launcher_spec: LaunchSpec, seconds: float, state: str = "COMPLETED") -> None:
    write_exit(run_dir(launcher_spec), ExitRecord(state, "PASS", None, "node", None, seconds))


def test_a_test_with_no_known_time_sends_a_slots_worth_then_the_rest_with_its_time(tmp_path):
    launcher, system, _rep, clock, _sel = make(tmp_path, width=2)
    specs = [item_spec(tmp_path, str(n)) for n in range(6)]
    for one in specs:
        launcher.submit(one)
    poll_until(launcher, lambda: system.submits)
    assert system.submits == [["sim", "sim"]]  # two alone; four wait for a time
    for _ in range(5):
        launcher.poll(0.1)
    assert len(system.submits) == 1  # nothing new while the first two run
    end(specs[0], 3.0)
    poll_until(launcher, lambda: len(system.submits) == 2)
    assert len(system.submits[1]) == 4  # the rest at once, each knowing the time
    assert launcher.expected(specs[5].test) == 3.0


def test_held_items_go_alone_when_no_first_item_ends_within_the_probe_wait(tmp_path):
    launcher, system, _rep, clock, _sel = make(tmp_path, BatchLimits(probe_wait=30.0), width=2)
    for n in range(5):
        launcher.submit(item_spec(tmp_path, str(n)))
    start = clock.now
    poll_until(launcher, lambda: len(system.submits) == 2, step=1.0)
    assert 30.0 <= clock.now - start <= 31.5  # a long test's items waited that long, no more
    assert [len(group) for group in system.submits] == [2, 3]


def test_a_known_time_or_no_width_holds_nothing(tmp_path):
    for kwargs in ({"width": 2, "past": lambda _test: 5.0}, {"width": None}):
        launcher, system, _rep, _clock, _sel = make(tmp_path, **kwargs)
        for n in range(5):
            launcher.submit(item_spec(tmp_path, str(n)))
        poll_until(launcher, lambda system=system: system.submits)
        assert [len(group) for group in system.submits] == [5]
