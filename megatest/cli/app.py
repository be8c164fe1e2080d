"""The root Typer app. Each section lives in its own module and is registered here."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from megatest import __version__
from megatest.cli.common import AreaOption

app = typer.Typer(
    name="megatest",
    help="Regression-test orchestration harness for Megatest areas.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # help texts quote config syntax such as `[setup]` and `test[/item]`: no markup parsing
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"megatest {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    area: AreaOption = None,
    version: bool | None = typer.Option(
        None, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    # read by the console entry before Typer (megatest/cli/global_options.py): listed here
    # for --help, and accepted after any command too
    debug: str | None = typer.Option(
        None, "--debug", help="More detail on stderr: N shows levels up to N, N,M only those."
    ),
    log: str | None = typer.Option(
        None, "--log", help="Append the output to FILE: a run's all, other commands' stderr."
    ),
) -> None:
    """Run, query and manage Megatest areas."""
    ctx.obj = {"area": Path(area) if area else None}


# Sections, in the order `--help` lists them. A section is registered only once it has
# real commands.
SECTIONS = ("query", "runs", "util", "test", "db", "server")


def _register(only: str | None = None, command: str | None = None) -> None:
    """Add the sections (each module's `app`) to the root; `only`: just that one, and of it
    just `command` when it names one, because Typer reads the signature of every registered
    command at each start."""
    import copy
    import importlib

    for name in SECTIONS if only is None else (only,):
        module = importlib.import_module(f"megatest.cli.{name}")
        section = module.app
        chosen = [info for info in section.registered_commands if _command_name(info) == command]
        if chosen:
            section = copy.copy(section)  # the module's own app keeps every command
            section.registered_commands = chosen
        app.add_typer(section, name=name, help=module.__doc__)


def _command_name(info: typer.models.CommandInfo) -> str | None:
    """The name Typer gives a registered command (its function's name, dashed, by default)."""
    if info.name or info.callback is None:
        return info.name
    return typer.main.get_command_name(info.callback.__name__)


def _section_of(args: list[str]) -> tuple[str | None, str | None]:
    """The section and command `args` run, when nothing else is needed (no root help, no
    completion); the command is None when the word after the section is an option."""
    if os.environ.get("_MEGATEST_COMPLETE"):
        return None, None
    rest = iter(args)
    for arg in rest:
        if arg == "--area":
            next(rest, None)
        elif arg.startswith("--area="):
            continue
        elif arg.startswith("-"):
            return None, None  # --help, --version, completion options: the whole tree
        elif arg not in SECTIONS:
            return None, None
        else:
            command = next(rest, None)
            return arg, command if command is not None and not command.startswith("-") else None
    return None, None


def has_command(args: list[str]) -> bool:
    """`args` name a section and command this version has (the legacy front door maps some
    of the original's actions onto sections still to come: the server, remote execution)."""
    section, command = _section_of(args)
    if section is None:
        return False
    import importlib

    module = importlib.import_module(f"megatest.cli.{section}")
    return command is None or any(_command_name(i) == command for i in module.app.registered_commands)


def run_app(args: list[str]) -> int:
    """Run the app on `args`; return the exit code instead of raising SystemExit."""
    groups = list(app.registered_groups)
    _register(*_section_of(args))
    try:
        app(args=args, prog_name="megatest", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code)
        return 1
    finally:
        # the sections this call needed go again: a process that calls main() many times (the
        # tests) would otherwise add them again each time, and every start reads them all
        app.registered_groups[:] = groups
    return 0
