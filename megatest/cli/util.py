"""Reports of finished (or running) runs: JUnit XML, TeamCity messages, HTML pages, diffs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from megatest.cli.common import AreaOption, resolve_area
from megatest.cli.runs import TestpattOption

app = typer.Typer(no_args_is_help=True)

TargetPattern = Annotated[
    str | None, typer.Option("--target", help="Target pattern, % is a wildcard (default: all).")
]
RunnamePattern = Annotated[
    str | None, typer.Option("--runname", help="Run name pattern, % is a wildcard (default: all).")
]


def _runs(ctx: typer.Context, area: Path | None, target: str | None, runname: str | None):
    """The area and the runs matching the patterns (one clear line when none does)."""
    from megatest.engine.manage import Selector, matching_runs
    from megatest.store import open_store

    sel = Selector(resolve_area(ctx, area), target, runname)
    store = open_store(sel.area, create=False)
    try:
        return store, matching_runs(store, sel)
    except BaseException:
        store.close()
        raise


@app.command("junit")
def junit_cmd(
    ctx: typer.Context,
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    testpatt: TestpattOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (default: standard output); with "
                     "--split-per-target, the folder of the files."),
    ] = None,
    split: Annotated[
        bool, typer.Option("--split-per-target", help="One file per target: DIR/<target>.xml.")
    ] = False,
    area: AreaOption = None,
) -> None:
    """JUnit XML of the matching runs (one test suite per run) for Jenkins, GitLab and others.

    Items are the test's parameter: `test(item/path)`. Failures carry the failing step and
    the tail of its log; tests that did not run are skipped, with the reason.
    """
    from megatest.report.cases import run_leaves
    from megatest.report.junit import JUnitExport, dotless

    store, runs = _runs(ctx, area, target, runname)
    with store:
        export = JUnitExport(store)
        if split:
            folder = output or Path.cwd()
            by_target: dict[str, list] = {}
            for run in runs:
                by_target.setdefault(run.target, []).append(run)
            for name, group in by_target.items():
                path = folder / f"{dotless(name)}.xml"
                export.write_file(path, run_leaves(store, group, testpatt))
                typer.echo(str(path))
        elif output is not None:
            export.write_file(output, run_leaves(store, runs, testpatt))
        else:
            export.write(sys.stdout, run_leaves(store, runs, testpatt))


@app.command("teamcity")
def teamcity_cmd(
    ctx: typer.Context,
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    testpatt: TestpattOption = None,
    area: AreaOption = None,
) -> None:
    """TeamCity service messages of the matching runs, replayed from their records."""
    from megatest.report.cases import run_leaves
    from megatest.report.teamcity import replay

    store, runs = _runs(ctx, area, target, runname)
    with store:
        replay(sys.stdout, store, run_leaves(store, runs, testpatt))
