"""The man page generator's reading of Typer's plain --help layout."""

from __future__ import annotations

TOP_HELP = """Usage: megatest [OPTIONS] COMMAND [ARGS]...

  Regression-test orchestration harness for Megatest areas.

Options:
  --area <path>         Megatest area.
  -h, --help            Show this message and exit.

Commands:
  query  Query the area: configs, targets, tests, runs.
  db     Create, migrate and check the area's databases; a long help line
         that wraps onto a second line.
  runs   Start, list and remove runs.
"""


def test_command_names_reads_the_commands_block(manpage):
    assert manpage.command_names(TOP_HELP) == ["query", "db", "runs"]


def test_escape_protects_troff_control_characters(manpage):
    assert manpage.escape(".TH not a macro") == "\\&.TH not a macro"
    assert manpage.escape("--area a\\b") == "\\-\\-area a\\eb"
