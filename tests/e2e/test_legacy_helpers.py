"""The original's helper lines as the scripts of a test area call them (tests/areas/legacy):
-runstep with logpro, -step/-test-status with -setlog/-set-toplog, :first_err, :first_warn,
:expected_value, :comment, -load-test-data with spaced fields, -test-files/-test-paths."""

from __future__ import annotations

import json

import pytest

TARGET, RUN = "ubuntu/v1", "r1"


@pytest.fixture(scope="module")
def legacy_run(tmp_path_factory):
    """The legacy area after one run (read-only for the tests below)."""

    from tests.e2e.conftest import AREAS, AreaRunner, copy_area

    area = AreaRunner(copy_area(AREAS / "legacy", tmp_path_factory.mktemp("legacy") / "legacy"))
    proc = area.mt("-run", "-target", TARGET, "-runname", RUN, "-debug", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # `broken` fails on purpose
    listing = json.loads(area.mt("query", "runs", "--tests", "--runname", RUN, "--format", "json",
                                 check=0).stdout)
    tests = {(t["testname"], t["item_path"]): t for t in listing[0]["tests"]}
    return area, tests


def _data(area, test_id: int) -> dict[str, tuple]:
    import sqlite3

    run_db = next((area.root / ".db").glob("[0-9]*.db"))
    with sqlite3.connect(run_db) as db:
        rows = db.execute("SELECT category, variable, value, expected, tol, units, comment, status "
                          "FROM test_data WHERE test_id=?", (test_id,)).fetchall()
    return {f"{r[0]}/{r[1]}": r[2:] for r in rows}


def test_runstep_runs_the_command_judges_its_log_and_exits_with_its_code(legacy_run):
    area, tests = legacy_run
    test = tests[("runstepper", "")]
    run_dir = area.root / "runs" / "ubuntu" / "v1" / RUN / "runstepper"
    # the script saw logpro's WARN (2) for compile and the command's 1 for unit
    assert (run_dir / "codes.txt").read_text() == "compile=2\nunit=1\n"
    # stdout and stderr both in NAME.log; several words are one program's arguments
    assert (run_dir / "compile.log").read_text() == "compiling\nwarning: old api\n"
    assert (run_dir / "unit.log").read_text() == "unit one arg\n"
    assert "EXIT CODE: 2 (WARN)" in (run_dir / "compile_logpro.log").read_text()
    assert (run_dir / "compile.html").is_file()
    steps = [(s["stepname"], s["state"], s["status"], s["logfile"], s["comment"]) for s in test["steps"]]
    assert steps == [
        ("compile", "start", "n/a", "compile.log", "compile step"),
        ("compile", "end", "2", "compile.log", "compile step"),
        ("unit", "start", "n/a", "unit.log", ""),
        ("unit", "end", "1", "unit.log", ""),
        ("listing", "start", "n/a", "listing.log", "sectioned"),  # `test runstep ... -- CMD`
        ("listing", "end", "0", "listing.log", "sectioned"),
    ]
    assert (run_dir / "listing.log").read_text() == "codes.txt\n"
    assert test["final_logf"] == "compile.html"  # the judged log becomes the test's log


def test_test_status_takes_the_originals_extra_keys_and_setlog(legacy_run):
    area, tests = legacy_run
    test = tests[("statuser", "")]
    # -setlog with -test-status; :first_err is the comment when there is no -m
    assert (test["state"], test["status"]) == ("COMPLETED", "PASS")
    assert test["final_logf"] == "final.html"
    assert test["comment"] == "first error seen"
    data = _data(area, test["id"])
    # :expected_value is the expected value, :comment the value's own comment
    assert data["nada/sillyvar"] == (10e6, 1.1e6, 100e3, "mFarks", "value comment", "fail")
    # -load-test-data trims the spaces around each field, as the original
    assert data["perf/speed"] == (10, 9, 2, "km/h", "fast enough", "pass")


def test_step_with_setlog_sets_the_step_log_and_the_test_log(legacy_run):
    _area, tests = legacy_run
    test = tests[("steplog", "")]
    assert [(s["stepname"], s["status"], s["logfile"], s["comment"]) for s in test["steps"]] == [
        ("report", "0", "report.html", "report step")]
    assert test["final_logf"] == "report.html"


def test_set_toplog_with_test_status_points_the_parent_at_the_summary(legacy_run):
    _area, tests = legacy_run
    assert tests[("toplog", "")]["final_logf"] == "summary.html"
    assert tests[("toplog", "a")]["comment"] == "warned in a"  # :first_warn, no -m
    assert tests[("toplog", "b")]["status"] == "PASS"


def test_test_files_and_test_paths_from_inside_a_test(legacy_run):
    area, _tests = legacy_run
    found = (area.root / "runs" / "ubuntu" / "v1" / RUN / "finder" / "found.txt").read_text()
    link = area.root / "lt" / "ubuntu" / "v1" / RUN / "runstepper"
    assert found == f"{link}/codes.txt\n{link}\n"


def test_debug_level_reaches_the_tests_and_their_helpers(legacy_run):
    area, _tests = legacy_run
    run_dir = area.root / "runs" / "ubuntu" / "v1" / RUN
    assert (run_dir / "broken" / "debug-mode.txt").read_text() == "2\n"
    # the helpers of a -debug 2 run say what they do, in the test's own output
    assert 'INFO: (2) running "echo compiling;' in (run_dir / "runstepper" / "mt_launch.log").read_text()


def test_helper_errors_are_one_line(make_area):
    area = make_area("legacy")
    env = {"PATH": "/usr/bin:/bin", "MT_RUN_AREA_HOME": str(area.root), "MT_TEST_NAME": "x",
           "MT_RUN_ID": "1", "MT_TEST_ID": "1"}
    for argv, words in ((["-runstep", "s"], "nothing to run"),
                        (["-runstep", "a/b", "true"], "step name"),
                        (["-setlog"], "-setlog needs a value"),
                        (["-test-status", ":first_err"], ":first_err needs a value")):
        proc = area.mt(*argv, env=env)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert proc.stderr.count("\n") == 1 and words in proc.stderr, (argv, proc.stderr)
