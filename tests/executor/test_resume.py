"""A test carried on after its runner died: from the record its keeper left (stepexit)."""

import os
import subprocess

import pytest

from megatest.executor.keeper import Witness, _Keeper
from megatest.executor.reporter import MemoryReporter, TestRef
from megatest.executor.stepexit import (
    RECORD_NAME,
    RUNSCRIPT_INDEX,
    StepRecord,
    read_record,
    start_ticks,
    still_running,
    write_record,
)
from megatest.executor.steps import KEEPER_GRACE, TestJob

T = TestRef("t1", test_id=7)
STEPS = [("build", "echo built >> trail"), ("check", "echo checked >> trail")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(**kw) -> StepRecord:
    me = os.getpid()
    values = dict(pid=me, start_ticks=start_ticks(me), step_index=0, rollup=0, started=900.0,
                  log="build.log", keeper=me, keeper_ticks=start_ticks(me), code=None)
    values.update(kw)
    return StepRecord(**values)


def job(tmp_path, steps=STEPS, **kw) -> tuple[TestJob, MemoryReporter]:
    rep = MemoryReporter()
    env = {"PATH": os.environ["PATH"], "MT_TEST_NAME": "t1"}
    return TestJob(T, run_dir=tmp_path, env=env, reporter=rep, steps=steps, **kw), rep


def finish(j: TestJob, clock: Clock) -> None:
    for _ in range(10_000):
        if j.done:
            return
        j.poll(clock())
        clock.now += 0.01
    raise AssertionError("the job did not end")


def test_a_record_is_read_back_whole_and_a_damaged_one_is_no_record(tmp_path):
    rec = record(code=-9)
    write_record(str(tmp_path), rec)
    assert read_record(str(tmp_path)) == rec
    (tmp_path / RECORD_NAME).write_text('{"pid": 1')
    assert read_record(str(tmp_path)) is None
    assert read_record(str(tmp_path / "nowhere")) is None


def test_a_reused_pid_is_not_taken_for_the_step():
    assert still_running(record())  # this very process, with its own start time
    assert not still_running(record(start_ticks=start_ticks(os.getpid()) - 1))
    assert not still_running(record(code=0))


def test_a_step_that_ended_unwatched_is_judged_and_the_test_goes_on_from_the_next(tmp_path):
    (tmp_path / "trail").write_text("built\n")  # what the step did before the runner died
    write_record(str(tmp_path), record(code=0))
    clock = Clock()
    j, rep = job(tmp_path, clock=clock)
    j.resume(read_record(str(tmp_path)), clock())
    finish(j, clock)
    assert j.result == ("COMPLETED", "PASS")
    assert (tmp_path / "trail").read_text() == "built\nchecked\n"  # build did not run again
    assert [(s[1], s[2]) for s in rep.steps] == [("build", "end"), ("check", "start"), ("check", "end")]
    assert not (tmp_path / RECORD_NAME).exists()  # acted on


def test_a_failed_step_that_ended_unwatched_fails_the_test_and_stops_it(tmp_path):
    write_record(str(tmp_path), record(code=3))
    clock = Clock()
    j, rep = job(tmp_path, clock=clock)
    j.resume(read_record(str(tmp_path)), clock())
    finish(j, clock)
    assert j.result == ("COMPLETED", "FAIL")
    assert not (tmp_path / "trail").exists()  # the next step did not run
    assert rep.values[T]["run_duration"] == pytest.approx(100.0)  # from the test's own start


def test_the_rollup_of_the_steps_before_is_kept(tmp_path):
    # build had failed softly (exit code 2 is WARN under the original's rules) before the death
    write_record(str(tmp_path), record(step_index=1, rollup=2, code=0, log="check.log"))
    clock = Clock()
    j, _rep = job(tmp_path, clock=clock)
    j.resume(read_record(str(tmp_path)), clock())
    finish(j, clock)
    assert j.result == ("COMPLETED", "WARN")


def test_a_step_still_running_is_adopted_and_its_end_read_from_the_keepers_record(tmp_path):
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        rec = record(pid=proc.pid, start_ticks=start_ticks(proc.pid))
        write_record(str(tmp_path), rec)
        clock = Clock()
        j, _rep = job(tmp_path, clock=clock)
        j.resume(rec, clock())
        assert j.pidfd is not None  # waited on like a child of its own
        j.poll(clock())
        assert not j.done
        proc.kill()
        proc.wait()  # reaped, as the keeper does, and then written down:
        write_record(str(tmp_path), rec._replace(code=0))
        finish(j, clock)
        assert j.result == ("COMPLETED", "PASS")
        assert (tmp_path / "trail").read_text() == "checked\n"
    finally:
        proc.kill()
        proc.wait()


def test_an_adopted_step_whose_end_never_comes_leaves_the_test_to_run_again(tmp_path):
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    rec = record(pid=proc.pid, start_ticks=start_ticks(proc.pid))
    proc.kill()
    proc.wait()  # reaped by someone, and no record of its end is written
    clock = Clock()
    j, _rep = job(tmp_path, clock=clock)
    j.resume(rec, clock())
    j.poll(clock())
    assert not j.done  # its keeper lives: the end may still be written
    clock.now += KEEPER_GRACE + 1
    j.poll(clock())
    assert j.result == ("INCOMPLETE", "DEAD")


def test_a_runscript_record_goes_on_with_the_ezsteps(tmp_path):
    write_record(str(tmp_path), record(step_index=RUNSCRIPT_INDEX, code=0, log="mt_launch.log"))
    clock = Clock()
    j, _rep = job(tmp_path, clock=clock, runscript="main.sh")
    j.resume(read_record(str(tmp_path)), clock())
    finish(j, clock)
    assert j.result == ("COMPLETED", "PASS")
    assert (tmp_path / "trail").read_text() == "built\nchecked\n"


def test_a_record_naming_a_step_the_test_no_longer_has_runs_it_again(tmp_path):
    clock = Clock()
    j, _rep = job(tmp_path, clock=clock)
    j.resume(record(step_index=5, code=0), clock())
    assert j.result == ("INCOMPLETE", "DEAD")


def test_the_witness_hears_of_each_step_started_and_reaped(tmp_path):
    read_fd, write_fd = os.pipe()
    try:
        os.set_blocking(write_fd, False)
        clock = Clock()
        j, _rep = job(tmp_path, clock=clock, witness=Witness(write_fd))
        j.start(clock())
        finish(j, clock)
        data = os.read(read_fd, 65536)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert [kind for kind in data.split(b"\0") if kind in (b"S", b"E")] == [b"S", b"E", b"S", b"E"]
    assert f"\0{tmp_path}\0build.log\0".encode() in data and b"\0check.log\0" in data


def test_the_keeper_reads_back_what_the_witness_wrote_whatever_the_pipe_cuts(tmp_path):
    read_fd, write_fd = os.pipe()
    odd = str(tmp_path / "run\tdir\nwith newline")
    try:
        witness = Witness(write_fd)
        witness.step_started(41, odd, "s 1.log", 2, 3, 123.25)
        witness.step_started(42, "/r/b", "b.log", RUNSCRIPT_INDEX, 0, 7.0)
        witness.step_reaped(41)
        data = os.read(read_fd, 65536)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    for cut in range(len(data) + 1):  # every place a read may end
        keeper = _Keeper(runner=0, read_fd=-1)
        rest = keeper._take(data[:cut])
        keeper._take(rest + data[cut:])
        assert list(keeper.steps) == [42]
        step = keeper.steps[42]
        assert (step.run_dir, step.log, step.step_index, step.rollup, step.started) == (
            "/r/b", "b.log", RUNSCRIPT_INDEX, 0, 7.0)
    keeper = _Keeper(runner=0, read_fd=-1)
    keeper._take(data.rsplit(b"E", 1)[0])  # before the reaped record: the odd path whole
    step = keeper.steps[41]
    assert (step.run_dir, step.log, step.step_index, step.rollup, step.started) == (
        odd, "s 1.log", 2, 3, 123.25)
