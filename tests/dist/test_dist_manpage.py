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


HELPS = {
    (): TOP_HELP,
    ("query",): """Usage: megatest query [OPTIONS] COMMAND [ARGS]...

  Query the area: configs, targets, tests, runs.

Options:
  -h, --help  Show this message and exit.

Commands:
  tests  List every test and item of matching runs: state, status, start,...
""",
    ("query", "tests"): """Usage: megatest query tests [OPTIONS]

  List every test and item of matching runs: state, status, start, duration,
  comment, dir.

Options:
  --target <str>  Target pattern, % is a wildcard (default: all).
  -h, --help      Show this message and exit.
""",
    ("db",): """Usage: megatest db [OPTIONS] COMMAND [ARGS]...

  Create, migrate and check the area's databases.

Options:
  -h, --help  Show this message and exit.
""",
    ("runs",): """Usage: megatest runs [OPTIONS]

  Start, list and remove runs.

Options:
  --runname <str>  The run's name.
""",
}


def test_the_page_has_every_command_with_its_options_and_whole_descriptions(manpage):
    page = manpage.manpage(lambda *path: HELPS[path], "0.1.0")
    assert '.SS "megatest query tests"' in page
    assert "\\-\\-target <str>  Target pattern" in page  # a command's own options
    # the list of query's commands carries the whole description, not Typer's cut one
    assert "start, duration, comment, dir." in page
    assert "start,..." not in page
    # NAME SYNOPSIS DESCRIPTION SECTIONS, one per section (QUERY DB RUNS), FILES
    assert page.count(".SH ") == 8


def test_summary_is_the_whole_first_paragraph(manpage):
    assert manpage.summary(HELPS[("query", "tests")]) == (
        "List every test and item of matching runs: state, status, start, duration, "
        "comment, dir.")
