"""The single-dash front door: legacy command lines become sectioned ones."""

import pytest

from megatest.cli.legacy import translate
from megatest.errors import UsageError


def test_run_with_target_runname_testpatt():
    assert translate(["-run", "-target", "a/b", "-runname", "r", "-testpatt", "t%"]) == [
        "runs", "start", "--target", "a/b", "--runname", "r", "--testpatt", "t%"]


def test_quiet_flag_quiets_a_run_and_is_ignored_elsewhere():
    assert translate(["-run", "-target", "a/b", "-runname", "r", "-q"])[-1] == "--quiet"
    assert translate(["-show-config", "-q"]) == ["query", "config"]


def test_reqtarg_is_a_target_plus_the_exact_mode():
    assert translate(["-run", "-reqtarg", "a/b", "-runname", "r"]) == [
        "runs", "start", "--target", "a/b", "--reqtarg", "--runname", "r"]


def test_helper_colon_parameters_and_action_value():
    assert translate(["-step", "build", ":state", "end", ":status", "0"]) == [
        "test", "step", "--name", "build", "--state", "end", "--status", "0"]


def test_start_dir_goes_before_the_section():
    assert translate(["-show-keys", "-start-dir", "/x"]) == ["--area", "/x", "query", "keys"]


@pytest.mark.parametrize("argv", [["-frobnicate"], ["-run", "-frob"], ["-run", "-target"],
                                  ["-run", "-show-config"]])
def test_bad_legacy_lines_are_usage_errors(argv):
    with pytest.raises(UsageError):
        translate(argv)


def test_list_runs_asks_for_the_tests_layout():
    assert translate(["-list-runs", "rel%", "-target", "a/b", "-itempatt", "x"]) == [
        "query", "runs", "--tests", "--runname", "rel%", "--target", "a/b", "--itempatt", "x"]


def test_run_wait_is_a_flag_with_a_run_and_an_action_alone():
    assert translate(["-run-wait", "-run", "-target", "a/b", "-runname", "r"]) == [
        "runs", "start", "--wait", "--target", "a/b", "--runname", "r"]
    assert translate(["-run-wait", "-target", "a/b", ":runname", "%", ":state", "RUNNING"]) == [
        "runs", "wait", "--target", "a/b", "--runname", "%", "--state", "RUNNING"]


def test_new_query_and_run_actions():
    assert translate(["-test-files", "logs/*.log", "-target", "a/%", "-runname", "w%"]) == [
        "query", "files", "--files", "logs/*.log", "--target", "a/%", "--runname", "w%"]
    assert translate(["-test-paths", "-testpatt", "t%"]) == ["query", "paths", "--testpatt", "t%"]
    assert translate(["-list-db-targets", "-dumpmode", "json"]) == [
        "query", "targets", "--db", "--format", "json"]
    assert translate(["-list-disks"]) == ["query", "disks"]
    assert translate(["-generate-html", "-o", "out"]) == ["util", "html", "--output", "out"]
    assert translate(["-diff-rep", "-src-target", "a/b", "-src-runname", "r1", "-target", "a/b",
                      "-runname", "r2", "-diff-html", "d.html"]) == [
        "util", "diff", "--format", "html", "--src-target", "a/b", "--src-runname", "r1",
        "--target", "a/b", "--runname", "r2", "--output", "d.html"]
    assert translate(["-rollup", ":runname", "all", "-target", "a/b"]) == [
        "runs", "rollup", "--runname", "all", "--target", "a/b"]
