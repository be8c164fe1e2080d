"""Whole runs driven in-process: the real runner, session and store (a temporary area's
SQLite files), a fake launcher registered by name, and a clock that moves only when the run
waits. Nothing sleeps; every time below is on that clock."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from fake_launcher import FakeClock, FakeLauncher, Script

from megatest.config.area import open_area
from megatest.engine.driver import run_in_store
from megatest.engine.request import RunRequest
from megatest.engine.run_events import RunListener
from megatest.errors import UsageError
from megatest.launch import registry
from megatest.store import open_store

START = 100.0  # the fake clock's start


@pytest.fixture
def script():
    """The fake launcher, registered for the test under the name `fake`."""
    script = Script(FakeClock(START))
    registry.register("fake", lambda context: FakeLauncher(context, script))
    yield script
    registry.unregister("fake")


def make_area(root: Path, tests: dict[str, str], *, jobs: int = 2,
              launcher: str = "fake") -> Path:
    (root / "runs").mkdir(parents=True)
    (root / "megatest.config").write_text(
        "[fields]\nSYSTEM TEXT\n\n"
        f"[setup]\nmax_concurrent_jobs {jobs}\nlinktree {root}/lt\n\n"
        f"[jobtools]\nlauncher {launcher}\n\n"
        f"[disks]\ndisk0 {root}/runs\n"
    )
    (root / "runconfigs.config").write_text("[default]\n\n[a]\n")
    for name, text in tests.items():
        folder = root / "tests" / name
        folder.mkdir(parents=True)
        (folder / "testconfig").write_text(text)
    return root


def run(root: Path, script: Script, listeners=(), runname: str = "r", **request):
    """One `runs start` in-process; (outcome, {full name: (state, status, comment)})."""
    req = RunRequest(area=root, target="a", runname=runname, **request)
    area = open_area(root, target="a", reqtarg=False, env=dict(os.environ))
    with open_store(root, fields=area.config.fields) as store:
        outcome = run_in_store(area, req, store, out=io.StringIO(), clock=script.clock,
                               listeners=listeners, use_preparer=False)
        rows = {t.fullname: (t.state, t.status, t.comment or "")
                for t in store.get_tests(outcome.run_id)}
    return outcome, rows


def waits_on(*names: str) -> str:
    return f"[requirements]\nwaiton {' '.join(names)}\n"


def test_a_test_starts_when_its_waiton_has_passed(tmp_path, script):
    root = make_area(tmp_path, {"build": "", "unit": waits_on("build")})
    script.durations["build"] = 30
    outcome, rows = run(root, script)
    assert outcome.exit_code == 0
    assert rows["build"][:2] == rows["unit"][:2] == ("COMPLETED", "PASS")
    assert script.submitted == [(START, "build"), (START + 30, "unit")]
    assert script.clock.now == START + 40  # unit's 10 s after build's 30 s: no time lost


def test_a_failed_waiton_blocks_its_dependants_and_the_run_fails(tmp_path, script):
    root = make_area(tmp_path, {"build": "", "unit": waits_on("build"), "lint": ""})
    script.statuses["build"] = "FAIL"
    outcome, rows = run(root, script)
    assert outcome.exit_code == 1
    assert rows["build"][:2] == ("COMPLETED", "FAIL")
    assert rows["unit"][:2] == ("NOT_STARTED", "PREQ_FAIL")
    assert rows["lint"][:2] == ("COMPLETED", "PASS")
    assert [name for _t, name in script.submitted] == ["build", "lint"]
    assert {name for name, _state, _why in outcome.failures} == {"build", "unit"}


def test_the_job_limit_holds_and_every_slot_is_used(tmp_path, script):
    root = make_area(tmp_path, {f"t{i}": "" for i in range(6)}, jobs=2)
    outcome, _rows = run(root, script)
    assert outcome.exit_code == 0 and outcome.counts == {"PASS": 6}
    assert script.most_at_once == 2
    assert script.clock.now == START + 30  # six 10 s tests, two at a time


def test_items_run_as_their_own_jobs_and_roll_up_into_the_test(tmp_path, script):
    root = make_area(tmp_path, {"sweep": "[items]\nN 1 2 3\n"}, jobs=3)
    script.statuses["sweep/2"] = "FAIL"
    outcome, rows = run(root, script)
    assert sorted(name for _t, name in script.submitted) == ["sweep/1", "sweep/2", "sweep/3"]
    assert rows["sweep"][:2] == ("COMPLETED", "FAIL")
    assert outcome.counts == {"PASS": 2, "FAIL": 1}


def test_a_kill_request_from_another_process_kills_the_running_test(tmp_path, script):
    root = make_area(tmp_path, {"long": "", "after": waits_on("long")})
    script.durations["long"] = 100

    def kill_long() -> None:
        with open_store(root, create=False) as other:  # as `runs kill` would, elsewhere
            run_id = other.find_runs("a", "r")[0].id
            other.request_kill(run_id, other.get_test_by_name(run_id, "long").id)

    script.clock.at(START + 5, kill_long)
    outcome, rows = run(root, script)
    assert rows["long"][:2] == ("KILLED", "KILLED")
    assert rows["after"][:2] == ("NOT_STARTED", "PREQ_FAIL")
    assert outcome.exit_code == 1
    assert script.clock.now <= START + 5 + 1  # seen at the next check, a second later at most


def test_a_kill_request_before_the_start_keeps_the_test_from_starting(tmp_path, script):
    root = make_area(tmp_path, {"first": "", "second": waits_on("first")})

    def kill_second() -> None:
        with open_store(root, create=False) as other:
            run_id = other.find_runs("a", "r")[0].id
            other.request_kill(run_id, other.get_test_by_name(run_id, "second").id)

    script.clock.at(START + 2, kill_second)
    outcome, rows = run(root, script)
    assert rows["second"][:2] == ("NOT_STARTED", "KILLED")
    assert [name for _t, name in script.submitted] == ["first"]
    assert outcome.exit_code == 1


def test_a_run_left_by_a_dead_runner_resumes_without_running_completed_tests_again(tmp_path, script):
    root = make_area(tmp_path, {"done": "", "cut": "", "fresh": ""})
    with open_store(root, fields=["SYSTEM"]) as store:  # what a SIGKILLed runner leaves
        run_id = store.get_or_create_run({"SYSTEM": "a"}, "r")
        ids = store.register_tests(run_id, [("done", ""), ("cut", ""), ("fresh", "")])
        store.set_test_state_status(run_id, ids[("done", "")], "COMPLETED", "PASS")
        store.set_test_state_status(run_id, ids[("cut", "")], "RUNNING", "n/a")
    seen = Changes()
    outcome, rows = run(root, script, listeners=[seen])
    assert [r.run_id for r in script.reaped] == [run_id]  # its leftovers were killed first
    assert ("cut", "INCOMPLETE", "DEAD") in seen.states  # then its row was marked stale
    assert sorted(name for _t, name in script.submitted) == ["cut", "fresh"]
    assert outcome.exit_code == 0
    assert {name: row[:2] for name, row in rows.items()} == dict.fromkeys(
        ["done", "cut", "fresh"], ("COMPLETED", "PASS"))


def test_a_test_the_launcher_carries_on_after_a_dead_runner_is_resumed_not_rerun(tmp_path, script):
    root = make_area(tmp_path, {"done": "", "cut": "", "after": waits_on("cut")})
    with open_store(root, fields=["SYSTEM"]) as store:  # what a SIGKILLed runner leaves
        run_id = store.get_or_create_run({"SYSTEM": "a"}, "r")
        ids = store.register_tests(run_id, [("done", ""), ("cut", ""), ("after", "")])
        store.set_test_state_status(run_id, ids[("done", "")], "COMPLETED", "PASS")
        store.set_test_state_status(run_id, ids[("cut", "")], "RUNNING", "n/a")
    script.carry_on.add("cut")
    script.durations["cut"] = 5
    seen = Changes()
    outcome, rows = run(root, script, listeners=[seen])
    assert script.resumed == [(START, "cut")]  # handed back to the launcher at once
    assert [name for _t, name in script.submitted] == ["after"]  # after cut's end, only
    assert script.submitted[0][0] == START + 5
    assert not [s for s in seen.states if s[0] == "cut" and s[1] != "COMPLETED"]  # never reset
    assert outcome.exit_code == 0
    assert {name: row[:2] for name, row in rows.items()} == dict.fromkeys(
        ["done", "cut", "after"], ("COMPLETED", "PASS"))


def test_a_stale_test_this_run_does_not_select_is_not_carried_on_but_marked(tmp_path, script):
    root = make_area(tmp_path, {"cut": "", "other": ""})
    with open_store(root, fields=["SYSTEM"]) as store:  # what a SIGKILLed runner leaves
        run_id = store.get_or_create_run({"SYSTEM": "a"}, "r")
        ids = store.register_tests(run_id, [("cut", ""), ("other", "")])
        store.set_test_state_status(run_id, ids[("cut", "")], "RUNNING", "n/a")
    script.carry_on.add("cut")  # the launcher could, but no one would watch it to its end
    _outcome, rows = run(root, script, testpatt="other")
    assert script.resumed == []
    assert rows["cut"][:2] == ("INCOMPLETE", "DEAD")  # rerun by the run that selects it
    assert rows["other"][:2] == ("COMPLETED", "PASS")


def test_a_job_the_launcher_loses_ends_incomplete_and_is_not_waited_for(tmp_path, script):
    root = make_area(tmp_path, {"lost": "", "after": waits_on("lost"), "fine": ""})
    script.lose.add("lost")
    outcome, rows = run(root, script)
    state, status, why = rows["lost"]
    assert (state, status) == ("INCOMPLETE", "DEAD")
    assert "lost the job" in why
    assert rows["after"][:2] == ("NOT_STARTED", "PREQ_FAIL")
    assert rows["fine"][:2] == ("COMPLETED", "PASS")
    assert outcome.exit_code == 1


class Changes(RunListener):
    """A listener that keeps what it hears."""

    def __init__(self) -> None:
        self.states: list[tuple[str, str, str]] = []
        self.ends: list = []

    def test_changed(self, change):
        self.states.append((change.test.full_name, change.state, change.status))

    def run_ended(self, end):
        self.ends.append(end)


def test_listeners_hear_every_state_of_every_test_and_the_end_of_the_run(tmp_path, script):
    root = make_area(tmp_path, {"one": "", "two": waits_on("one")})
    script.statuses["two"] = "WARN"
    seen = Changes()
    outcome, _rows = run(root, script, listeners=[seen])
    assert [s for s in seen.states if s[0] == "two"] == [
        ("two", "NOT_STARTED", "n/a"), ("two", "LAUNCHED", "n/a"),
        ("two", "REMOTEHOSTSTART", "n/a"), ("two", "RUNNING", "n/a"),
        ("two", "COMPLETED", "WARN")]
    assert len(seen.ends) == 1
    end = seen.ends[0]
    assert (end.target, end.runname, end.outcome.exit_code) == ("a", "r", 0)
    assert end.outcome is outcome and outcome.counts == {"PASS": 1, "WARN": 1}


def test_a_second_run_of_a_passed_run_runs_nothing(tmp_path, script):
    root = make_area(tmp_path, {"one": ""})
    run(root, script)
    script.submitted.clear()
    outcome, _rows = run(root, script)
    assert script.submitted == [] and outcome.exit_code == 0


def test_an_unknown_launcher_is_one_line_naming_the_known_ones(tmp_path, script):
    root = make_area(tmp_path, {"one": ""}, launcher="sleeprunner -q normal")
    with pytest.raises(UsageError) as err:
        run(root, script)
    message = err.value.one_line()
    assert "unknown launcher 'sleeprunner'" in message
    assert "local (also nbfake, nbfind, nohup)" in message and "fake" in message
    assert err.value.exit_code == 2


def test_a_stopped_runner_ends_its_tests_incomplete_and_still_tells_the_listeners(tmp_path, script):
    import signal

    from megatest.engine.runner import RunInterrupted

    root = make_area(tmp_path, {"long": "", "queued": waits_on("long")})
    script.durations["long"] = 100
    script.clock.at(START + 5, lambda: signal.raise_signal(signal.SIGTERM))
    seen = Changes()
    with pytest.raises(RunInterrupted):
        run(root, script, listeners=[seen])
    assert ("long", "INCOMPLETE", "KILLED") in seen.states  # rerun by the next runs start
    assert len(seen.ends) == 1 and seen.ends[0].outcome.exit_code == 1
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the runner's handler is gone
    with open_store(root, create=False) as store:
        run_id = store.find_runs("a", "r")[0].id
        assert store.get_test_by_name(run_id, "long").state == "INCOMPLETE"


class FullDisk:
    """The area's store, with the run's writes refused while `full` (as SQLite refuses
    them on a full disk: the whole batch rolled back)."""

    def __init__(self, store, clock: FakeClock):
        self.store = store
        self.clock = clock
        self.full = False
        self.refused: list[float] = []  # when writes were refused

    def __getattr__(self, name):
        return getattr(self.store, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.store.close()

    def run_writer(self, run_id):
        return _RefusingWriter(self, self.store.run_writer(run_id))


class _RefusingWriter:
    def __init__(self, disk: FullDisk, writer):
        self.disk = disk
        self.writer = writer

    def __getattr__(self, name):
        return getattr(self.writer, name)

    def batch(self):
        from contextlib import contextmanager

        from megatest.errors import StoreWriteError

        @contextmanager
        def batch():
            if self.disk.full:
                self.disk.refused.append(self.disk.clock.now)
                raise StoreWriteError("could not write this database: database or disk is full")
            with self.writer.batch():
                yield self.writer

        return batch()


def run_on(root: Path, script: Script, disk_of, runname: str = "r"):
    """run() with the store wrapped by `disk_of(store)`."""
    req = RunRequest(area=root, target="a", runname=runname)
    area = open_area(root, target="a", reqtarg=False, env=dict(os.environ))
    with open_store(root, fields=area.config.fields) as store:
        disk = disk_of(store)
        outcome = run_in_store(area, req, disk, out=io.StringIO(), clock=script.clock,
                               use_preparer=False)
        rows = {t.fullname: (t.state, t.status) for t in store.get_tests(outcome.run_id)}
    return outcome, rows


def test_a_full_disk_stops_the_launches_and_the_run_completes_once_space_is_freed(tmp_path, script):
    names = [f"t{i}" for i in range(6)]
    root = make_area(tmp_path, dict.fromkeys(names, ""), jobs=2)
    disks = []

    def disk_of(store):
        disk = FullDisk(store, script.clock)
        disks.append(disk)
        script.clock.at(START + 5, lambda: setattr(disk, "full", True))
        script.clock.at(START + 40, lambda: setattr(disk, "full", False))
        return disk

    outcome, rows = run_on(root, script, disk_of)
    refused = disks[0].refused
    assert refused and min(refused) < START + 40
    assert outcome.exit_code == 0 and rows == dict.fromkeys(names, ("COMPLETED", "PASS"))
    assert sorted(name for _t, name in script.submitted) == names  # each test ran once
    # once a write was refused, nothing started until the store took writes again
    assert not [t for t, _name in script.submitted if min(refused) < t < START + 40]
    assert max(t for t, _name in script.submitted) >= START + 40


def test_a_disk_that_stays_full_ends_the_run_with_one_line_and_the_next_run_completes_it(tmp_path, script):
    from megatest.engine.runner import STORE_GIVE_UP
    from megatest.errors import StoreWriteError

    root = make_area(tmp_path, {f"t{i}": "" for i in range(6)}, jobs=2)

    disks = []

    def disk_of(store):
        disk = FullDisk(store, script.clock)
        disks.append(disk)
        script.clock.at(START + 5, lambda: setattr(disk, "full", True))
        return disk

    with pytest.raises(StoreWriteError) as err:
        run_on(root, script, disk_of)
    assert "database or disk is full" in err.value.one_line()
    assert "run `runs start` again" in err.value.one_line() and err.value.exit_code == 1
    assert script.clock.now >= max(t for t, _name in script.ended) + STORE_GIVE_UP
    assert not [t for t, _name in script.submitted if t > min(disks[0].refused)]
    assert len(script.submitted) < 6
    script.submitted.clear()
    outcome, rows = run(root, script)  # space freed
    assert outcome.exit_code == 0
    assert {name: row[:2] for name, row in rows.items()} == {
        f"t{i}": ("COMPLETED", "PASS") for i in range(6)}
