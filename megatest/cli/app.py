"""The root Typer app. Each section lives in its own module and is registered here."""

from __future__ import annotations

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
) -> None:
    """Run, query and manage Megatest areas."""
    ctx.obj = {"area": Path(area) if area else None}


# Sections, in the order `--help` lists them. A section is registered only once it has
# real commands.
def _register() -> None:
    from megatest.cli import query

    app.add_typer(query.app, name="query", help=query.__doc__)
    from megatest.cli import runs

    app.add_typer(runs.app, name="runs", help=runs.__doc__)
    from megatest.cli import test

    app.add_typer(test.app, name="test", help=test.__doc__)
    from megatest.cli import db

    app.add_typer(db.app, name="db", help=db.__doc__)


_register()


def run_app(args: list[str]) -> int:
    """Run the app on `args`; return the exit code instead of raising SystemExit."""
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
    return 0
