"""-debug / -log taken off any command line before it is read, and what -debug levels show."""

from __future__ import annotations

import pytest

from megatest import verbosity
from megatest.cli.global_options import is_run, split_global_options
from megatest.errors import UsageError


def test_global_options_come_off_the_line_in_both_forms():
    assert split_global_options(["-debug", "2", "-run", "-log", "l/x", "-q"]) == (
        ["-run", "-q"], {"debug": "2", "log": "l/x"})
    assert split_global_options(["--debug=0,3", "runs", "start", "--log", "f"]) == (
        ["runs", "start"], {"debug": "0,3", "log": "f"})
    assert split_global_options(["-logpro", "x", "-setlog", "y"]) == (["-logpro", "x", "-setlog", "y"], {})
    with pytest.raises(UsageError, match="-log needs a value"):
        split_global_options(["-list-runs", "%", "-log"])


def test_only_a_run_sends_its_stdout_to_the_log():
    assert is_run(["runs", "start", "--target", "a"])
    assert is_run(["--area", "/x", "runs", "start"]) and is_run(["--area=/x", "runs", "start"])
    assert not is_run(["query", "runs", "--tests"])


@pytest.mark.parametrize(("spec", "shown", "hidden"), [
    ("2", (0, 1, 2), (3,)),
    ("0", (0,), (1, 2)),
    ("0,3", (0, 3), (1, 2, 4)),
])
def test_debug_levels(spec, shown, hidden):
    level = verbosity.parse_spec(spec)
    assert all(level.shows(n) for n in shown)
    assert not any(level.shows(n) for n in hidden)
    assert level.spec() == spec


@pytest.mark.parametrize("spec", ["", "x", "1,two", "-1", "2,", "1.5"])
def test_bad_debug_values_are_usage_errors(spec):
    with pytest.raises(UsageError, match="-debug"):
        verbosity.parse_spec(spec)


def test_a_bad_inherited_level_is_the_default(monkeypatch):
    monkeypatch.setenv(verbosity.ENV, "loud")
    monkeypatch.setattr(verbosity, "_current", None)
    assert verbosity.current().spec() == "1"
