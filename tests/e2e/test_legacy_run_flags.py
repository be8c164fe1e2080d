"""The flags every line of the original's Makefiles carries (-debug N, -log FILE) and
-run-wait, through the real command line."""

from __future__ import annotations

TARGET = "ubuntu/v1"
# t1 of the resume area holds (after logging its start) until the test creates go/t1
HOLD = 'until [ -e "$MT_RUN_AREA_HOME/go/t1" ]; do sleep 0.05; done'


def test_debug_and_log_as_a_makefile_line_gives_them(make_area):
    area = make_area("legacy")
    proc = area.mt("-preclean", "-runtests", "steplog", "-reqtarg", TARGET, "-runname", "mk",
                   "-debug", "1", "-log", "logs/mk")
    assert proc.returncode == 0, proc.stderr
    # the run's output is in the log (its folder made), the terminal only says where
    assert proc.stdout == ""
    assert proc.stderr == "megatest: output goes to logs/mk\n"
    log = (area.root / "logs" / "mk").read_text()
    assert "steplog" in log and "COMPLETED/PASS" in log and "ubuntu/v1/mk: PASS 1" in log
    # the log is appended to: the next command of the same Makefile keeps the first's lines
    area.mt("-debug", "2", "-set-state-status", "COMPLETED,FORCED", "-target", TARGET,
            "-runname", "mk", "-testpatt", "steplog", "-log", "logs/mk", check=0)
    log = (area.root / "logs" / "mk").read_text()
    assert "ubuntu/v1/mk: PASS 1" in log
    assert "INFO: (2) as a sectioned command: megatest runs set-state-status" in log
    assert area.table(TARGET, "mk") == {"steplog": ("COMPLETED", "FORCED")}


def test_log_leaves_a_querys_answer_on_stdout(make_area):
    area = make_area("legacy")
    area.mt("-run", "-target", TARGET, "-runname", "q", "-testpatt", "steplog", check=0)
    proc = area.mt("-list-runs", "q", "-log", "q.log", "-debug", "2")
    assert proc.returncode == 0
    assert proc.stdout.startswith("Run: ubuntu/v1/q ")
    assert "INFO: (2) as a sectioned command: megatest query runs --tests --runname q" in (
        area.root / "q.log").read_text()


def test_sectioned_forms_of_debug_and_log(make_area):
    area = make_area("legacy")
    proc = area.mt("--debug", "2", "query", "runs", "--tests", "--log=out/sectioned.log")
    assert proc.returncode == 2  # no runs yet: said in the log, and on the terminal
    assert proc.stderr.endswith("no runs yet)\n")
    assert "no runs yet" in (area.root / "out" / "sectioned.log").read_text()


def test_bad_debug_and_log_values_are_one_line(make_area):
    area = make_area("legacy")
    (area.root / "a-file").write_text("")
    for argv, words in ((["-run", "-target", TARGET, "-runname", "r", "-debug", "x"], "-debug 'x'"),
                        (["-list-runs", "%", "-debug", "1,two"], "-debug '1,two'"),
                        (["-list-runs", "%", "-debug"], "-debug needs a value"),
                        (["-list-runs", "%", "-log"], "-log needs a value"),
                        (["-list-runs", "%", "-log", "a-file/x.log"], "a-file")):
        proc = area.mt(*argv)
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and words in proc.stderr, (argv, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_debug_list_of_levels_shows_only_those(make_area):
    area = make_area("legacy")
    area.mt("-run", "-target", TARGET, "-runname", "d", "-testpatt", "steplog", check=0)
    assert "INFO: (2)" in area.mt("-list-runs", "d", "-debug", "0,2", check=0).stderr
    assert "INFO:" not in area.mt("-list-runs", "d", "-debug", "0,3", check=0).stderr
    assert "INFO:" not in area.mt("-list-runs", "d", "-debug", "1", check=0).stderr


def test_run_wait_waits_until_the_runs_tests_are_done(make_area):
    area = make_area("resume")
    config = area.root / "tests" / "t1" / "testconfig"
    config.write_text(config.read_text().replace("sleep 1", HOLD))
    runner = area.start("-run", "-target", TARGET, "-runname", "w", "-testpatt", "t1,t2")
    try:
        assert runner.stdout is not None
        # the runner says t1 runs: from here the run exists and its runner holds it
        for line in runner.stdout:
            if "t1" in line and "RUNNING" in line:
                break
        waiter = area.start("-run-wait", "-target", TARGET, ":runname", "w", "-testpatt", "%")
        assert waiter.stdout is not None
        first = waiter.stdout.readline()
        assert first.startswith("waiting for ubuntu/v1/w: ")
        assert waiter.poll() is None  # still waiting on the held test
        (area.root / "go").mkdir()
        (area.root / "go" / "t1").touch()
        rest = waiter.stdout.read()
        assert waiter.wait() == 0, first + rest
        # once -run-wait returned, the run's tests are done
        assert area.table(TARGET, "w") == {"t1": ("COMPLETED", "PASS"), "t2": ("COMPLETED", "PASS")}
    finally:
        (area.root / "go").mkdir(exist_ok=True)
        (area.root / "go" / "t1").touch()
        runner.wait()
    # nothing to wait for: a finished run, or no run at all, returns at once
    done = area.mt("-run-wait", "-target", TARGET, "-runname", "w", "-testpatt", "%")
    assert (done.returncode, done.stdout) == (0, "")
    assert area.mt("-run-wait", "-target", TARGET, "-runname", "none", check=0).stdout == ""
