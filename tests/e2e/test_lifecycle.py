"""Runner lifecycle: SIGKILL and resume, `runs kill`, usage errors, run management."""

from __future__ import annotations

import collections
import os
import signal

from tests.e2e.conftest import wait_for

TARGET = "ubuntu/v1"



# The resume area's tests log their start to ran.log, then `sleep 1`. Held instead: each
# waits (after logging) until the test creates go/<its name> or go/all, so what is running,
# done or not started when the test acts does not depend on how fast the machine is.
HOLD = ('until [ -e "$MT_RUN_AREA_HOME/go/$MT_TEST_NAME" ] || [ -e "$MT_RUN_AREA_HOME/go/all" ]; '
        "do sleep 0.05; done")


def hold_tests(area) -> None:
    (area.root / "go").mkdir()
    for config in sorted((area.root / "tests").glob("*/testconfig")):
        text = config.read_text()
        assert "; sleep 1\n" in text, config
        config.write_text(text.replace("; sleep 1\n", f"; {HOLD}\n"))


def release(area, name: str = "all") -> None:
    (area.root / "go" / name).touch()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _watched_by(pid: int) -> set[int]:
    """The pids process `pid` holds a pidfd of (what it waits on)."""
    watched = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return watched
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                for line in fh:
                    if line.startswith("Pid:"):
                        watched.add(int(line.split()[1]))
        except (OSError, ValueError):
            continue
    return watched


def _processes_in(directory: str) -> list[int]:
    """Pids of the live processes working in `directory` (a test's steps run in its run dir)."""
    want = os.path.realpath(directory)
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.readlink(f"/proc/{entry}/cwd") == want and _alive(int(entry)):
                pids.append(int(entry))
        except OSError:
            continue
    return pids


def runner_pid(area, run_id: int = 1) -> int:
    """The runner's pid: `runs start` forks, and its parent stays as the run's keeper."""
    lock = area.root / ".db" / f"runner-{run_id}.lock"
    return int(wait_for(lambda: lock.exists() and lock.read_text().strip()))


def add_second_step(area) -> None:
    """Each test gets a second step, which logs `<name>+2` to ran.log."""
    for config in sorted((area.root / "tests").glob("*/testconfig")):
        lines = config.read_text().splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if line.startswith("work ")) + 1
        lines.insert(at, 'again echo "$MT_TEST_NAME+2" >> $MT_RUN_AREA_HOME/ran.log\n')
        config.write_text("".join(lines))


def kill_runner_midway(area):
    """Start the run, let two tests complete, SIGKILL the runner while two more are held
    running; returns (the `runs start` process, the names completed before)."""
    hold_tests(area)
    add_second_step(area)
    started = area.start("runs", "start", "--target", TARGET, "--runname", "r")
    first = wait_for(lambda: area.ran() if len(area.ran()) == 2 else None)  # max_concurrent_jobs 2
    for name in first:
        release(area, name)

    def midway():
        table = area.table(TARGET, "r")
        states = collections.Counter(state for state, _ in table.values())
        return table if states["COMPLETED"] == 2 and states["RUNNING"] == 2 else None

    wait_for(midway)  # two done, two held running, two not started
    os.kill(runner_pid(area), signal.SIGKILL)
    return started, {n for n in first}


def assert_each_step_ran_once(area) -> None:
    final = area.table(TARGET, "r")
    assert final == {f"t{i}": ("COMPLETED", "PASS") for i in range(1, 7)}
    runs = collections.Counter(area.ran())
    assert runs == collections.Counter([f"t{i}" for i in range(1, 7)] + [f"t{i}+2" for i in range(1, 7)])


def test_steps_that_end_after_the_runner_died_are_kept_and_the_run_carries_on(make_area):
    area = make_area("resume")
    started, done_before = kill_runner_midway(area)
    stale = area.table(TARGET, "r")
    assert sorted(state for state, _ in stale.values()) == ["COMPLETED"] * 2 + ["NOT_STARTED"] * 2 + ["RUNNING"] * 2
    cut = sorted(n for n, (state, _) in stale.items() if state == "RUNNING")

    release(area)  # the held steps end while no runner is alive: the keeper writes them down
    assert started.wait(timeout=60) == 128 + signal.SIGKILL  # the runner's death, passed on
    output = started.stdout.read()
    assert "the runner" in output and "was killed by SIGKILL" in output
    assert "waiting for its 2 running steps" in output
    for name in cut:  # each test's run dir holds the end of its step
        record = next((area.root / "runs").glob(f"*/*/r/{name}/.megatest-step-exit"))
        assert '"code": 0' in record.read_text()

    resumed = area.mt("runs", "start", "--target", TARGET, "--runname", "r", timeout=60)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "INCOMPLETE" not in resumed.stdout
    assert_each_step_ran_once(area)  # none lost, none twice: the cut tests went on to step 2
    assert not list((area.root / "runs").glob("**/.megatest-step-exit"))  # acted on, gone
    assert (area.root / "hooks.txt").read_text() == "r\n"  # the pre-hook ran once, not on resume


def test_a_step_still_running_when_the_run_is_resumed_is_adopted_not_killed(make_area):
    area = make_area("resume")
    started, _done_before = kill_runner_midway(area)
    stale = area.table(TARGET, "r")
    cut = sorted(n for n, (state, _) in stale.items() if state == "RUNNING")
    held = [pid for name in cut  # each step leads its own process group
            for pid in _processes_in(str(next((area.root / "runs").glob(f"*/*/r/{name}"))))
            if os.getpgid(pid) == pid]
    assert len(held) == 2  # the held steps go on, the old keeper's children now
    resumed = area.start("runs", "start", "--target", TARGET, "--runname", "r")
    wait_for(lambda: set(held) <= _watched_by(runner_pid(area)))  # adopted: the new runner waits on them
    release(area)
    assert resumed.wait(timeout=60) == 0, resumed.stdout.read()
    assert started.wait(timeout=60) == 128 + signal.SIGKILL
    assert_each_step_ran_once(area)  # the adopted steps were neither killed nor run again
    for name in cut:
        log = next((area.root / "runs").glob(f"*/*/r/{name}/again.log"))
        assert log.exists()  # their second step ran under the new runner


def test_runs_kill_kills_the_running_test_and_ends_the_run(make_area):
    area = make_area("killme")  # `long` runs `sleep 60`; `later` waits on it
    runner = area.start("runs", "start", "--target", TARGET, "--runname", "k")

    def long_running():
        if not (area.root / ".db" / "main.db").exists():
            return None
        row = {r["test"]: r for r in area.rows(TARGET, "k")}.get("long")
        return row["rundir"] if row and row["state"] == "RUNNING" else None

    rundir = wait_for(long_running)
    step = wait_for(lambda: _processes_in(rundir))  # its `sleep 60`
    area.mt("runs", "kill", "--target", TARGET, "--runname", "k", check=0)
    output, _ = runner.communicate(timeout=30)  # far less than the step's 60 s
    assert runner.returncode == 1
    assert [pid for pid in step if _alive(pid)] == []  # killed, not left to run on
    table = area.table(TARGET, "k")
    assert table["long"] == ("KILLED", "KILLED")
    assert table["later"][0] == "NOT_STARTED"
    assert "long" in output and "KILLED" in output


def test_usage_and_config_errors_exit_2(make_area):
    area = make_area("resume")
    bad = area.mt("runs", "start", "--target", "ubuntu", "--runname", "r")
    assert bad.returncode == 2
    assert "invalid target 'ubuntu'" in bad.stderr
    missing = area.mt("-run", "-target", TARGET)
    assert missing.returncode == 2 and "--runname" in missing.stderr
    nothing = area.mt("runs", "start", "--target", TARGET, "--runname", "r", "--testpatt", "nosuch")
    assert nothing.returncode == 0 and "no tests match" in nothing.stdout


def test_management_commands(make_area):
    area = make_area("resume")
    area.mt("runs", "start", "--target", TARGET, "--runname", "m", "--testpatt", "t1,t2", "-q",
            check=0)
    area.mt("runs", "set-state-status", "--target", TARGET, "--runname", "m", "--testpatt", "t1",
            "--state-status", "COMPLETED,FAIL", check=0)
    assert area.table(TARGET, "m")["t1"] == ("COMPLETED", "FAIL")
    # waits for nothing and reports the outcome: t1 now failed
    area.mt("runs", "wait", "--target", TARGET, "--runname", "m", check=1)
    area.mt("-set-run-status", "reviewed", "-target", TARGET, "-runname", "m", check=0)
    assert area.mt("runs", "get-status", "--target", TARGET, "--runname", "m",
                   check=0).stdout.strip() == "reviewed"
    # a locked run is left alone by remove
    area.mt("runs", "lock", "--target", TARGET, "--runname", "m", check=0)
    out = area.mt("runs", "remove", "--target", TARGET, "--runname", "m", check=0).stdout
    assert "locked" in out and len(area.table(TARGET, "m")) == 2
    area.mt("runs", "unlock", "--target", TARGET, "--runname", "m", check=0)
    run_dir = area.root / "runs" / TARGET / "m" / "t1"
    assert run_dir.is_dir()
    area.mt("-remove-runs", "-target", TARGET, "-runname", "m", "-testpatt", "t1", check=0)
    assert not run_dir.exists()
    assert set(area.table(TARGET, "m")) == {"t2"}
    # rerun of a removed test: it runs again
    area.mt("runs", "start", "--target", TARGET, "--runname", "m", "--testpatt", "t1,t2", "-q",
            check=0)
    assert area.table(TARGET, "m") == {"t1": ("COMPLETED", "PASS"), "t2": ("COMPLETED", "PASS")}


def test_selectors_tagexpr_modepatt_reqtarg_setvars(make_area):
    area = make_area("resume")
    area.mt("runs", "start", "--target", TARGET, "--runname", "tags", "--tagexpr", "qu%", "-q",
            check=0)
    assert set(area.table(TARGET, "tags")) == {"t1", "t2"}
    area.mt("-run", "-target", TARGET, "-runname", "mode", "--modepatt", "MYPATT",
            "-setvars", "FOO=bar", check=0)
    assert set(area.table(TARGET, "mode")) == {"t3", "t4"}
    assert (area.root / "runs" / TARGET / "mode" / "t3" / "foo.txt").read_text() == "bar\n"
    bad = area.mt("-run", "-reqtarg", "ubuntu/v2", "-runname", "x")
    assert bad.returncode == 2 and "[ubuntu/v2] not found" in bad.stderr
    items = area.mt("runs", "start", "--target", TARGET, "--runname", "one", "--testpatt", "t5",
                    check=0)
    assert "t5" in items.stdout and set(area.table(TARGET, "one")) == {"t5"}


def test_rerun_all_and_rerun_clean_reset_only_the_selected_tests(make_area):
    area = make_area("resume")
    area.mt("runs", "start", "--target", TARGET, "--runname", "rr", "--testpatt", "t1,t2", "-q",
            check=0)
    area.mt("runs", "set-state-status", "--target", TARGET, "--runname", "rr", "--testpatt", "t2",
            "--state-status", "COMPLETED,FAIL", check=0)
    marker = area.root / "runs" / TARGET / "rr" / "t1" / "old.txt"
    marker.write_text("left over")
    area.mt("-rerun-all", "-target", TARGET, "-runname", "rr", "-testpatt", "t1", check=0)
    assert not marker.exists()  # --rerun-all implies --preclean
    assert collections.Counter(area.ran()) == {"t1": 2, "t2": 1}
    area.mt("runs", "start", "--target", TARGET, "--runname", "rr", "--testpatt", "t1,t2",
            "--rerun-clean", check=0)
    assert collections.Counter(area.ran()) == {"t1": 2, "t2": 2}
    assert area.table(TARGET, "rr") == {"t1": ("COMPLETED", "PASS"), "t2": ("COMPLETED", "PASS")}


def test_work_areas_made_by_the_runner_itself_give_the_same_run(make_area):
    area = make_area("resume")
    env = {**os.environ, "MEGATEST_PREPARER": "0"}
    area.mt("runs", "start", "--target", TARGET, "--runname", "own", "-q", env=env, check=0)
    assert area.table(TARGET, "own") == {f"t{i}": ("COMPLETED", "PASS") for i in range(1, 7)}
    assert (area.root / "lt" / TARGET / "own" / "t6" / "foo.txt").read_text() == "none\n"


def _preparer_pid(runner: int) -> int | None:
    """The runner's forked preparer: its child running the runner's own command line."""
    own = open(f"/proc/{runner}/cmdline", "rb").read()
    for task in os.listdir(f"/proc/{runner}/task"):
        try:
            children = open(f"/proc/{runner}/task/{task}/children").read().split()
        except OSError:
            continue
        for child in children:
            try:
                if open(f"/proc/{child}/cmdline", "rb").read() == own:
                    return int(child)
            except OSError:
                continue
    return None


def test_a_dead_preparer_costs_no_test(make_area):
    area = make_area("resume")
    hold_tests(area)
    runner = area.start("runs", "start", "--target", TARGET, "--runname", "pk")
    preparer = wait_for(lambda: _preparer_pid(runner_pid(area)))
    wait_for(lambda: len(area.ran()) == 2)  # mid-run: two tests held running, four to go
    os.kill(preparer, signal.SIGKILL)
    release(area)
    out, _ = runner.communicate(timeout=60)
    assert runner.returncode == 0, out
    assert "preparer ended" in out
    assert area.table(TARGET, "pk") == {f"t{i}": ("COMPLETED", "PASS") for i in range(1, 7)}
    assert collections.Counter(area.ran()) == {f"t{i}": 1 for i in range(1, 7)}


def _second_run_while_first_holds(area, log_name: str, first: list[str], second: list[str],
                                  started: str) -> dict[tuple[str, str], float]:
    """Start run `first`, wait until its test logged `started`, run `second` to its end, let
    the first end; the log's `WHO start|end TIME` lines as {(WHO, start|end): TIME}."""
    runner = area.start("runs", "start", "--target", TARGET, *first)
    log = area.root / log_name
    wait_for(lambda: log.exists() and started in log.read_text())
    area.mt("runs", "start", "--target", TARGET, *second, "-q", check=0)
    runner.communicate(timeout=30)
    events = {}
    for line in log.read_text().splitlines():
        who, what, when = line.split()
        events[(who, what)] = float(when)
    return events


def test_a_jobgroup_limit_counts_the_other_runs_of_the_area(make_area):
    events = _second_run_while_first_holds(
        make_area("jobgroup"), "heavy.log", ["--runname", "a", "--testpatt", "one"],
        ["--runname", "b", "--testpatt", "two"], "one start")
    assert events[("two", "start")] >= events[("one", "end")]


def test_a_waived_failure_carries_over_to_the_next_run(make_area):
    area = make_area("waiver")
    area.mt("runs", "start", "--target", TARGET, "--runname", "w1", "-q", check=1)
    assert area.table(TARGET, "w1")["flaky"] == ("COMPLETED", "FAIL")
    area.mt("runs", "set-state-status", "--target", TARGET, "--runname", "w1",
            "--state-status", "COMPLETED,WAIVED", check=0)
    area.mt("runs", "start", "--target", TARGET, "--runname", "w2", "-q", check=0)
    assert area.table(TARGET, "w2")["flaky"] == ("COMPLETED", "WAIVED")


def test_exclusive_test_never_overlaps_across_runs(make_area):
    events = _second_run_while_first_holds(
        make_area("exclusive"), "solo.log", ["--runname", "a"], ["--runname", "b"], "a start")
    assert events[("b", "start")] >= events[("a", "end")]


def test_sigterm_to_runs_start_reaches_the_runner_which_stops_its_tests(make_area):
    area = make_area("resume")
    hold_tests(area)
    started = area.start("runs", "start", "--target", TARGET, "--runname", "r")
    wait_for(lambda: len(area.ran()) == 2)  # two tests held running
    runner = runner_pid(area)
    started.send_signal(signal.SIGTERM)  # to the pid a script knows: the keeper's
    out, _ = started.communicate(timeout=60)
    assert started.returncode == 1, out
    assert "interrupted by SIGTERM" in out
    assert not _alive(runner)
    table = area.table(TARGET, "r")
    assert sorted(table.values()) == [("INCOMPLETE", "KILLED")] * 2 + [("NOT_STARTED", "n/a")] * 4
    for run_dir in (area.root / "runs").glob("*/*/r/t*"):
        assert _processes_in(str(run_dir)) == []  # nothing left running


def test_a_reader_that_goes_away_does_not_stop_the_run(make_area):
    # `megatest runs start ... | head -1`: the pipe closes after the first line
    area = make_area("resume")
    proc = area.start("runs", "start", "--target", "ubuntu/v1", "--runname", "piped")
    assert proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert set(area.table("ubuntu/v1", "piped").values()) == {("COMPLETED", "PASS")}
