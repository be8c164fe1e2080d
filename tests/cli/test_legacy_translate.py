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
