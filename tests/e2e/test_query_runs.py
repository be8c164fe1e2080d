"""`megatest query runs` (and legacy -list-runs): what runs an area holds, filtered."""

from __future__ import annotations

import json

TARGET = "ubuntu/v1"


def test_query_runs_lists_and_filters_runs(make_area):
    area = make_area("resume")
    for runname in ("alpha", "beta"):
        area.mt("runs", "start", "--target", TARGET, "--runname", runname, "--testpatt", "t1",
                "-q", check=0)
    runs = json.loads(area.mt("query", "runs", "--format", "json", check=0).stdout)
    assert [(r["target"], r["runname"], r["state"], r["status"]) for r in runs] == [
        (TARGET, "alpha", "COMPLETED", "PASS"),
        (TARGET, "beta", "COMPLETED", "PASS"),
    ]
    assert all(r["pass_count"] == 1 and r["fail_count"] == 0 for r in runs)
    only_beta = json.loads(
        area.mt("query", "runs", "--runname", "b%", "--format", "json", check=0).stdout
    )
    assert [r["runname"] for r in only_beta] == ["beta"]
    legacy = area.mt("-list-runs", "al%", check=0).stdout
    assert "alpha" in legacy and "beta" not in legacy
    assert json.loads(
        area.mt("query", "runs", "--target", "centos/%", "--format", "json", check=0).stdout
    ) == []


def test_query_runs_on_an_area_without_runs_is_one_line_error(make_area):
    area = make_area("resume")
    proc = area.mt("query", "runs")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no runs yet" in proc.stderr


# What the original's release rule files look for in `-list-runs` output (check-one-test in
# tests/release/tests/*/results.logpro): one line per test or item, parsed by regex.
def _rule_count(listing: str, test: str, state: str, status: str) -> int:
    import re

    rule = re.compile(rf"^\s+Test: {test}(\(.*|\s+)\s+State: {state}\s+Status: {status}\s+Runtime:\s+(\d+)s")
    return sum(1 for line in listing.splitlines() if rule.search(line))


def test_list_runs_prints_the_originals_layout_for_rule_files(make_area):
    area = make_area("legacy")
    area.mt("-run", "-target", TARGET, "-runname", "rel_a", "-testpatt", "toplog,broken", check=1)
    area.mt("-run", "-target", TARGET, "-runname", "rel_b", "-testpatt", "steplog", check=0)
    proc = area.mt("-list-runs", "rel_a", "-target", TARGET, check=0)
    out = proc.stdout
    assert [line for line in out.splitlines() if line.startswith("Run:")] == [
        line for line in out.splitlines() if line.startswith("Run: ubuntu/v1/rel_a SYSTEM: ubuntu RELEASE: v1 id: ")]
    assert len([line for line in out.splitlines() if line.startswith("Run:")]) == 1
    # toplog, toplog(a), toplog(b): the itemized test counts 3 lines, as rule files expect
    assert _rule_count(out, "toplog", "COMPLETED", "PASS") == 3
    assert _rule_count(out, "broken", "COMPLETED", "FAIL") == 1
    assert _rule_count(out, "steplog", "COMPLETED", "PASS") == 0
    assert "State: RUNNING" not in out
    # a failed test gets its details and steps; passed ones do not
    lines = out.splitlines()
    broken = next(i for i, line in enumerate(lines) if line.startswith("  Test: broken "))
    assert lines[broken + 1].startswith("         cpuload:")
    assert any(line.startswith("         rundir:   ") and line.endswith("/rel_a/broken") for line in lines)
    assert [line.split()[:6] for line in lines if line.startswith("    Step:")] == [
        ["Step:", "check", "State:", "start", "Status:", "-"],
        ["Step:", "check", "State:", "end", "Status:", "1"]]
    # -testpatt, -itempatt and :state filter the tests, as for the original
    only_a = area.mt("-list-runs", "rel%", "-target", TARGET, "-testpatt", "toplog", "-itempatt", "a",
                     check=0).stdout
    assert _rule_count(only_a, "toplog", "COMPLETED", "PASS") == 1 and "toplog(a)" in only_a
    assert only_a.count("Run: ") == 2
    failed = area.mt("-list-runs", "%", ":status", "FAIL", check=0).stdout
    assert _rule_count(failed, ".*", "COMPLETED", "\\w+") == 1


def test_query_runs_tests_json_holds_the_tests_and_steps(make_area):
    area = make_area("legacy")
    area.mt("runs", "start", "--target", TARGET, "--runname", "j", "--testpatt", "broken", check=1)
    runs = json.loads(area.mt("query", "runs", "--tests", "--format", "json", check=0).stdout)
    (test,) = runs[0]["tests"]
    assert (test["testname"], test["state"], test["status"]) == ("broken", "COMPLETED", "FAIL")
    assert [(s["stepname"], s["state"], s["status"]) for s in test["steps"]] == [
        ("check", "start", "-"), ("check", "end", "1")]
    bad = area.mt("query", "runs", "--tests", "--format", "yaml")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown --format" in bad.stderr


def test_test_paths_and_files_from_outside_a_test(make_area):
    area = make_area("legacy")
    area.mt("-run", "-target", TARGET, "-runname", "p1", "-testpatt", "runstepper,steplog", check=0)
    area.mt("-run", "-target", TARGET, "-runname", "p2", "-testpatt", "steplog", check=0)
    link = area.root / "lt" / "ubuntu" / "v1"
    paths = area.mt("-test-paths", "-target", TARGET, ":runname", "p%", "-testpatt", "steplog",
                    check=0).stdout
    assert paths == f"{link}/p1/steplog\n{link}/p2/steplog\n"
    files = area.mt("-test-files", "*.log", "-target", "ubuntu/%", "-runname", "p1", "-testpatt",
                    "runstepper", check=0).stdout.splitlines()
    assert files == [f"{link}/p1/runstepper/{name}" for name in
                     ("compile.log", "compile_logpro.log", "listing.log", "mt_launch.log", "unit.log")]
    # nothing matches: nothing printed, not an error
    none = area.mt("query", "test-files", "--files", "*.nope", "--runname", "p1", check=0)
    assert none.stdout == ""


def test_rollup_fills_a_run_with_the_latest_result_of_each_test(make_area):
    area = make_area("legacy")
    area.mt("-run", "-target", TARGET, "-runname", "old", "-testpatt", "steplog,broken", check=1)
    (area.root / "tests" / "broken" / "testconfig").write_text("[ezsteps]\ncheck exit 0\n")
    area.mt("-run", "-target", TARGET, "-runname", "new", "-testpatt", "broken", check=0)
    area.mt("-rollup", "-target", TARGET, ":runname", "latest", check=0)
    table = area.table(TARGET, "latest")
    # broken from the newer run (fixed), steplog from the only run that has it
    assert table == {"broken": ("COMPLETED", "PASS"), "steplog": ("COMPLETED", "PASS")}
    listing = area.mt("query", "runs", "--tests", "--runname", "latest", "--format", "json",
                      check=0).stdout
    (run,) = json.loads(listing)
    assert (run["state"], run["status"], run["pass_count"]) == ("COMPLETED", "PASS", 2)
    steps = {t["testname"]: [(s["stepname"], s["status"]) for s in t["steps"]] for t in run["tests"]}
    assert steps == {"broken": [("check", "-"), ("check", "0")], "steplog": [("report", "0")]}
    # again with nothing newer: nothing copied again
    assert area.mt("runs", "rollup", "--target", TARGET, "--runname", "latest", check=0).stdout == (
        "rolled up 0 test(s) into ubuntu/v1/latest\n")
    bad = area.mt("runs", "rollup", "--target", "ubuntu/%", "--runname", "x")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a pattern" in bad.stderr


def test_remove_runs_of_a_run_that_does_not_exist_is_no_error(make_area):
    area = make_area("legacy")
    # a new area: release scripts clean it before the first run
    first = area.mt("-remove-runs", "-target", TARGET, "-runname", "rel", "-testpatt", "%")
    assert first.returncode == 0, first.stderr
    assert "nothing to remove" in first.stdout and first.stderr == ""
    area.mt("-run", "-target", TARGET, "-runname", "rel", "-testpatt", "steplog", check=0)
    other = area.mt("-remove-runs", "-target", TARGET, "-runname", "gone", "-testpatt", "%")
    assert other.returncode == 0 and "nothing to remove" in other.stdout
    assert area.table(TARGET, "rel") == {"steplog": ("COMPLETED", "PASS")}
