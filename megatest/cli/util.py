"""Reports of finished (or running) runs: JUnit XML, TeamCity messages, HTML pages, diffs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from megatest.store.interface import Store
    from megatest.store.records import RunRecord

from megatest.cli.common import AreaOption, check_format, resolve_area
from megatest.cli.query_runs import RunnamePattern, TargetPattern
from megatest.cli.runs import TestpattOption

app = typer.Typer(no_args_is_help=True)


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


@app.command("diff")
def diff_cmd(
    ctx: typer.Context,
    src_target: Annotated[str, typer.Option("--src-target", help="The source run's target.")],
    src_runname: Annotated[str, typer.Option("--src-runname", help="The source run's name.")],
    target: Annotated[str, typer.Option("--target", help="The destination run's target.")],
    runname: Annotated[str, typer.Option("--runname", help="The destination run's name.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, json or html.")] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: standard output).")
    ] = None,
    area: AreaOption = None,
) -> None:
    """What changed from the source run to the destination run: status changes (BETTER,
    WORSE), tests and items missing (NOT-IN-DEST) or new (NOT-IN-SRC), durations."""
    import json
    import time

    from megatest.report import diff

    check_format(fmt, ("text", "json", "html"))
    # patterns may match several runs: the newest of each side is compared
    store, sources = _runs(ctx, area, src_target, src_runname)
    with store:
        dest = _newest_run(ctx, area, store, target, runname)
        result = diff.diff_runs(store, sources[-1], dest)
    if fmt == "json":
        body = json.dumps(result.as_dict(), indent=2) + "\n"
    elif fmt == "html":
        body = diff.html(result, time.strftime("%Y-%m-%d %H:%M:%S"))
    else:
        body = diff.text(result)
    _write(body, output)


def _newest_run(ctx: typer.Context, area: Path | None, store: Store, target: str,
                runname: str) -> RunRecord:
    from megatest.engine.manage import Selector, matching_runs

    return matching_runs(store, Selector(resolve_area(ctx, area), target, runname))[-1]


def _write(body: str, output: Path | None) -> None:
    """`body` to `output` (atomically: a reader never sees half of it) or to stdout."""
    if output is None:
        typer.echo(body, nl=False)
        return
    from megatest.report.files import replacing

    with replacing(output) as out:
        out.write(body)


@app.command("html")
def html_cmd(
    ctx: typer.Context,
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder of the pages (default: AREA/html).")
    ] = None,
    area: AreaOption = None,
) -> None:
    """Static HTML pages of the matching runs: an index of runs, a runs x tests matrix per
    target, a page per test with its steps, data and links to its logs. They open from disk."""
    from megatest.report.html import write_site

    top = resolve_area(ctx, area)
    folder = (output or top / "html").absolute()
    store, runs = _runs(ctx, area, target, runname)
    with store:
        count = write_site(store, folder, runs)
    typer.echo(f"{count} pages in {folder}; open {folder / 'index.html'}")
