"""Only the section a command runs is built, yet help and errors still show every section."""

from __future__ import annotations

import pytest

from megatest.cli.app import SECTIONS, _section_of


@pytest.mark.parametrize("args,section", [
    (["runs", "start", "--target", "a/b"], "runs"),
    (["--area", "/x", "query", "tests"], "query"),
    (["--area=/x", "db", "status"], "db"),
    (["--help"], None),
    (["--area", "/x", "--help", "runs"], None),
    (["nosuch", "x"], None),
    ([], None),
])
def test_the_section_a_command_runs(args, section):
    assert _section_of(args) == section


def test_completion_builds_the_whole_tree(monkeypatch):
    monkeypatch.setenv("_MEGATEST_COMPLETE", "bash_complete")
    assert _section_of(["runs", "start"]) is None


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
