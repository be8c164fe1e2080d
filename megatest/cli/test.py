"""Inside a running test: status, steps, values, data, logs, comments."""

# The work is done in megatest.engine.helpers, which the console entry calls directly for
# these commands (no Typer import); this module gives them `--help` and a place in
# `megatest --help`.

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)

Opt = Annotated[str | None, typer.Option()]


def _run(action: str, command: list[str] | None = None, **opts: str | None) -> None:
    from megatest.engine.helpers import run_helper

    argv = ["test", action]
    for key, value in opts.items():
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", value]
    if command:
        argv += ["--", *command]
    raise typer.Exit(run_helper(argv))


@app.command("status")
def status(
    state: Opt = None,
    status: Annotated[str | None, typer.Option(help="A status word, or a number: 0 PASS, else FAIL.")] = None,
    comment: Annotated[str | None, typer.Option("--comment", "-m")] = None,
    category: Opt = None, variable: Opt = None, value: Opt = None, expected: Opt = None,
    tol: Opt = None, units: Opt = None,
    setlog: Annotated[str | None, typer.Option(help="Also set the test's log file.")] = None,
    toplog: Annotated[
        str | None, typer.Option(help="Also set the top-level (parent) test's log file.")
    ] = None,
    first_err: Annotated[
        str | None, typer.Option("--first-err", help="The first error seen (the comment when there is no --comment).")
    ] = None,
    first_warn: Annotated[
        str | None, typer.Option("--first-warn", help="The first warning seen (likewise).")
    ] = None,
) -> None:
    """Set the test's state and/or status (and optionally record one value)."""
    _run("status", state=state, status=status, comment=comment, category=category,
         variable=variable, value=value, expected=expected, tol=tol, units=units,
         setlog=setlog, toplog=toplog, first_err=first_err, first_warn=first_warn)


@app.command("step")
def step(
    name: Annotated[str, typer.Option(help="Step name.")],
    state: Annotated[str, typer.Option(help="start or end.")],
    status: Opt = None,
    setlog: Annotated[
        str | None, typer.Option(help="The step's log file; it becomes the test's log too.")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", "-m")] = None,
) -> None:
    """Record a step row."""
    _run("step", name=name, state=state, status=status, setlog=setlog, comment=comment)


@app.command("runstep", context_settings={"allow_interspersed_args": False})
def runstep(
    name: Annotated[str, typer.Option(help="Step name: its output goes to NAME.log.")],
    command: Annotated[list[str], typer.Argument(help="The command: one word is shell text.")],
    logpro: Annotated[
        str | None, typer.Option(help="Judge NAME.log with these logpro rules (NAME.html).")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", "-m")] = None,
) -> None:
    """Run a command as a step of this test: step rows, NAME.log, optional logpro.

    Exit status: the command's (logpro's with --logpro), 3 for anything above 2.
    """
    _run("runstep", command=command, name=name, logpro=logpro, comment=comment)


@app.command("set-values")
def set_values(
    value: Annotated[str, typer.Option()], expected: Annotated[str, typer.Option()],
    tol: Annotated[str, typer.Option(help="Allowed difference, or one of > < >= <=.")],
    category: Opt = None, variable: Opt = None, units: Opt = None,
    comment: Annotated[str | None, typer.Option("--comment", "-m")] = None,
    status: Opt = None, type: Opt = None,
) -> None:
    """Record one measurement (status pass/fail computed from value, expected and tol)."""
    _run("set-values", value=value, expected=expected, tol=tol, category=category,
         variable=variable, units=units, comment=comment, status=status, type=type)


@app.command("load-data")
def load_data() -> None:
    """Read CSV lines from stdin: category,variable,value,expected,tol,units,comment,status,type."""
    _run("load-data")


@app.command("setlog")
def setlog(path: Annotated[str, typer.Option(help="Log file, relative to the test directory.")]) -> None:
    """Set the test's main log file."""
    _run("setlog", setlog=path)


@app.command("set-toplog")
def set_toplog(path: Annotated[str, typer.Option()]) -> None:
    """Set the top-level (parent) test's log file."""
    _run("set-toplog", toplog=path)


@app.command("comment")
def comment(text: Annotated[str, typer.Argument(help="The comment.")]) -> None:
    """Set the test's comment."""
    _run("comment", comment=text)


@app.command("summarize-items")
def summarize_items() -> None:
    """Write the parent test's items summary page."""
    _run("summarize-items")


@app.command("execute")
def execute(
    job: Annotated[list[str], typer.Option(
        "--job", "--cmdinfo",
        help="The job file a launcher wrote in the test's run directory (several: a bundle, "
             "run one after the other).")],
    comment: Annotated[str | None, typer.Option("--comment", "-m", hidden=True)] = None,
) -> None:
    """Run one test on this node, as a batch job does: its steps in its prepared work area,
    reported to the area's server or db; the exit file the launcher trusts is written last."""
    from megatest.engine.execute import execute as run_job

    raise typer.Exit(run_job(job))
