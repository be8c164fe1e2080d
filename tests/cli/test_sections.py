"""Only the section (and command) a command line runs is built, yet help and errors still
show every section and command."""

from __future__ import annotations

import pytest

from megatest.cli.app import SECTIONS, _section_of


@pytest.mark.parametrize("args,section", [
    (["runs", "start", "--target", "a/b"], ("runs", "start")),
    (["--area", "/x", "query", "tests"], ("query", "tests")),
    (["--area=/x", "db", "status"], ("db", "status")),
    (["runs", "--help"], ("runs", None)),
    (["runs"], ("runs", None)),
    (["--help"], (None, None)),
    (["--area", "/x", "--help", "runs"], (None, None)),
    (["nosuch", "x"], (None, None)),
    ([], (None, None)),
])
def test_the_section_and_command_a_command_line_runs(args, section):
    assert _section_of(args) == section


def test_completion_builds_the_whole_tree(monkeypatch):
    monkeypatch.setenv("_MEGATEST_COMPLETE", "bash_complete")
    assert _section_of(["runs", "start"]) == (None, None)


def test_root_help_and_unknown_commands_still_list_every_section(megatest):
    helped = megatest("--help")
    assert helped.returncode == 0
    for name in SECTIONS:
        assert f"  {name} " in helped.stdout
    wrong = megatest("nosuch")
    assert wrong.returncode == 2 and "No such command 'nosuch'" in wrong.stderr


def test_a_section_help_shows_its_commands(megatest):
    helped = megatest("runs", "--help")
    assert helped.returncode == 0 and "set-state-status" in helped.stdout


def test_a_command_help_and_an_unknown_command_of_a_section(megatest):
    helped = megatest("runs", "start", "--help")
    assert helped.returncode == 0 and "--runname" in helped.stdout
    wrong = megatest("runs", "nosuch")
    assert wrong.returncode == 2 and "No such command 'nosuch'" in wrong.stderr


def test_building_one_command_leaves_the_section_whole():
    from megatest.cli import runs
    from megatest.cli.app import _register

    before = list(runs.app.registered_commands)
    _register("runs", "start")
    assert runs.app.registered_commands == before and len(before) > 1
