"""A NUL in an argument (only an in-process caller can pass one: argv entries are C strings)
is one line and exit 2, not a ValueError traceback from Typer's path check."""

from __future__ import annotations

import pytest

from megatest.cli.entry import main


@pytest.mark.parametrize("argv", [
    ["--area", "a\0b", "runs", "start", "--target", "u", "--runname", "r"],
    ["runs", "start", "--area", "a\0b", "--target", "u", "--runname", "r"],
    ["query", "area-tests", "--area", "a\0b"],
])
def test_a_nul_in_the_area_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "megatest: error: argument 'a\\x00b' holds a NUL character\n"
