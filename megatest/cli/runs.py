"""Start, watch and manage runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from megatest.cli.common import AreaOption, resolve_area

app = typer.Typer(no_args_is_help=True)

TargetOption = Annotated[
    str | None, typer.Option("--target", help="Target: one value per [fields] key, a/b/c.")
]
RunnameOption = Annotated[str | None, typer.Option("--runname", help="Run name.")]
TestpattOption = Annotated[
    str | None,
    typer.Option("--testpatt", help="Tests/items: comma list of test[/item] patterns (% wildcard)."),
]


@app.command("start")
def start(
    ctx: typer.Context,
    target: TargetOption = None,
    runname: RunnameOption = None,
    testpatt: TestpattOption = None,
    itempatt: Annotated[
        str | None, typer.Option("--itempatt", help="Deprecated: appended to --testpatt as /P.")
    ] = None,
    tagexpr: Annotated[
        str | None, typer.Option("--tagexpr", help="Only tests with a tag matching: t1,t2%.")
    ] = None,
    modepatt: Annotated[
        str | None,
        typer.Option("--modepatt", help="Take the test pattern from this runconfigs variable."),
    ] = None,
    reqtarg: Annotated[
        bool, typer.Option("--reqtarg", help="The target must be a section of runconfigs.config.")
    ] = False,
    setvars: Annotated[
        str | None, typer.Option("--setvars", help="Extra variables for every test: K=V,K2=V2.")
    ] = None,
    rerun: Annotated[
        str | None,
        typer.Option("--rerun", help="Run again tests whose status is listed: FAIL,ABORT,..."),
    ] = None,
    rerun_clean: Annotated[
        bool,
        typer.Option("--rerun-clean", help="Reset failed/killed/incomplete tests, then run them."),
    ] = False,
    rerun_all: Annotated[
        bool, typer.Option("--rerun-all", help="Reset every selected test, then run them all.")
    ] = False,
    preclean: Annotated[
        bool, typer.Option("--preclean", help="Remove a test's old run directory before it runs.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Launch selected tests whatever their state.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Keep FILE a JUnit XML of the run, rewritten as tests end."),
    ] = None,
    teamcity: Annotated[
        bool, typer.Option("--teamcity", help="Print TeamCity service messages as tests run.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Accepted for compatibility: a local run always waits.")
    ] = True,
    server: Annotated[bool | None, typer.Option(
        "--server/--no-server", help="Bring the area's server up when none answers, for the "
        "tests to report through (default: yes, or as MEGATEST_SERVER_AUTOSTART and "
        "[server] autostart say).", show_default=False)] = None,
    contour: Annotated[str | None, typer.Option("--contour", hidden=True)] = None,
    comment: Annotated[str | None, typer.Option("--comment", "-m", hidden=True)] = None,
    area: AreaOption = None,
) -> None:
    """Run the selected tests of TARGET/RUNNAME (or resume that run) and wait for them.

    Exit status: 0 when every selected test ended PASS/WARN/WAIVED/SKIP, 1 when any failed or
    could not run, 2 for usage or config errors.
    """
    from megatest.engine.driver import check_target, start_run
    from megatest.engine.request import RunRequest

    check_target(target, runname)
    assert target is not None and runname is not None
    top = resolve_area(ctx, area)
    if rerun is not None:
        _check_rerun(rerun, top)
    patt = testpatt
    if itempatt:
        patt = f"{patt or '%'}/{itempatt}"
    request = RunRequest(
        area=top,
        target=target,
        runname=runname,
        testpatt=patt,
        tagexpr=tagexpr,
        modepatt=modepatt,
        reqtarg=reqtarg,
        setvars=setvars,
        rerun=rerun,
        rerun_clean=rerun_clean,
        rerun_all=rerun_all,
        preclean=preclean,
        force=force,
        quiet=quiet,
        contour=contour or "",
    )
    outcome = start_run(request, server=server,
                        listeners=_report_listeners(top, target, runname, junit, teamcity))
    raise typer.Exit(outcome.exit_code)


def _report_listeners(top: Path, target: str, runname: str, junit: Path | None,
                      teamcity: bool) -> list:
    """The run-event listeners that write `--junit` and `--teamcity` reports."""
    listeners: list = []
    if junit is not None:
        from megatest.report.live import LiveJUnit, check_writable

        check_writable(junit.absolute())
        listeners.append(LiveJUnit(top, junit.absolute()))
    if teamcity:
        import sys

        from megatest.report.teamcity import LiveTeamCity

        listeners.append(LiveTeamCity(sys.stdout, runname, target))
    return listeners


def _check_rerun(rerun: str, top: Path) -> None:
    """Refuse a `--rerun` value that is no status; the area's megatest.config is only looked
    at ([validvalues] status) when a value is not one of the original's statuses."""
    from megatest.engine.rerun import check_rerun, unknown_rerun_statuses

    declared: list[str] = []
    if unknown_rerun_statuses(rerun):
        from megatest.config.megatest_config import declared_values

        declared = declared_values(top, "status")
    check_rerun(rerun, declared)


def _area_path(ctx: typer.Context, area: Path | None) -> Path:
    return resolve_area(ctx, area)


StateOption = Annotated[str | None, typer.Option("--state", help="Only tests in these states: S1,S2.")]
StatusOption = Annotated[
    str | None, typer.Option("--status", help="Only tests with these statuses: S1,S2.")
]


def _selector(ctx: typer.Context, area: Path | None, target: str | None, runname: str | None,
              testpatt: str | None = None, state: str | None = None, status: str | None = None):
    from megatest.engine.manage import Selector, split_list

    sel = Selector(resolve_area(ctx, area), target, runname, testpatt,
                   split_list(state), split_list(status))
    sel.require()
    return sel


def _say(line: str) -> None:
    typer.echo(line)


@app.command("remove")
def remove_cmd(
    ctx: typer.Context,
    target: TargetOption = None,
    runname: RunnameOption = None,
    testpatt: TestpattOption = None,
    state: StateOption = None,
    status: StatusOption = None,
    keep_records: Annotated[
        bool, typer.Option("--keep-records", help="Remove the directories, keep the records.")
    ] = False,
    area: AreaOption = None,
) -> None:
    """Remove tests (their run directories and records); a run left empty is removed."""
    from megatest.engine.manage import remove

    remove(_selector(ctx, area, target, runname, testpatt, state, status), _say, keep_records)


@app.command("set-state-status")
def set_state_status_cmd(
    ctx: typer.Context,
    state_status: Annotated[
        str, typer.Option("--state-status", help="The new STATE,STATUS of the matching tests.")
    ],
    target: TargetOption = None,
    runname: RunnameOption = None,
    testpatt: TestpattOption = None,
    state: StateOption = None,
    status: StatusOption = None,
    area: AreaOption = None,
) -> None:
    """Set the state and status of every matching test."""
    from megatest.engine.manage import set_state_status
    from megatest.errors import UsageError

    new_state, comma, new_status = state_status.partition(",")
    if not comma or not new_state or not new_status:
        raise UsageError(f"--state-status needs STATE,STATUS, got {state_status!r}")
    set_state_status(_selector(ctx, area, target, runname, testpatt, state, status),
                     new_state, new_status, _say)


def _lock(ctx: typer.Context, area: Path | None, target: str | None, runname: str | None,
          locked: bool) -> None:
    from megatest.engine.manage import matching_runs
    from megatest.store import open_store

    sel = _selector(ctx, area, target, runname)
    with open_store(sel.area, create=False) as store:
        for run in matching_runs(store, sel):
            (store.lock_run if locked else store.unlock_run)(run.id)
            _say(f"{'locked' if locked else 'unlocked'} {run.target}/{run.runname}")


@app.command("lock")
def lock_cmd(ctx: typer.Context, target: TargetOption = None, runname: RunnameOption = None,
             area: AreaOption = None) -> None:
    """Lock matching runs: remove and set-state-status leave them alone."""
    _lock(ctx, area, target, runname, True)


@app.command("unlock")
def unlock_cmd(ctx: typer.Context, target: TargetOption = None, runname: RunnameOption = None,
               area: AreaOption = None) -> None:
    """Unlock matching runs."""
    _lock(ctx, area, target, runname, False)


@app.command("kill")
def kill_cmd(
    ctx: typer.Context,
    target: TargetOption = None,
    runname: RunnameOption = None,
    testpatt: TestpattOption = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for the runner to honour it (0: don't).")
    ] = 15.0,
    area: AreaOption = None,
) -> None:
    """Kill the running tests of matching runs; tests not started yet are dropped."""
    from megatest.engine.manage import kill_and_wait

    sel = _selector(ctx, area, target, runname, testpatt)
    if not kill_and_wait(sel, _say, timeout=wait):
        raise typer.Exit(1)


@app.command("wait")
def wait_cmd(
    ctx: typer.Context,
    target: TargetOption = None,
    runname: RunnameOption = None,
    testpatt: TestpattOption = None,
    state: StateOption = None,
    status: StatusOption = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Give up after this many seconds (exit 1).")
    ] = None,
    area: AreaOption = None,
) -> None:
    """Wait until nothing of the matching runs is running; exit 0 if every test passed.

    With --state/--status only the tests in those states/statuses are waited on. No matching
    run: nothing to wait for (exit 0).
    """
    from megatest.engine.manage import has_database, matching_runs, matching_tests, outcome_code
    from megatest.engine.manage import wait as wait_for
    from megatest.store import open_store

    sel = _selector(ctx, area, target, runname, testpatt, state, status)
    if not wait_for(sel, _say, timeout=timeout):
        raise typer.Exit(1)
    code = 0
    if has_database(sel.area):
        with open_store(sel.area, create=False) as store:
            for run in matching_runs(store, sel, required=False):
                code = max(code, outcome_code(matching_tests(store, run, sel)))
    raise typer.Exit(code)


@app.command("rollup")
def rollup_cmd(ctx: typer.Context, target: TargetOption = None, runname: RunnameOption = None,
               area: AreaOption = None) -> None:
    """Fill run TARGET/RUNNAME with the latest result of every test from the target's other
    runs (rows, steps and data); the run is made when new."""
    from megatest.engine.manage import rollup

    sel = _selector(ctx, area, target, runname)
    assert sel.target is not None and sel.runname is not None  # required by _selector
    rollup(sel.area, sel.target, sel.runname, _say)


@app.command("set-status")
def set_status_cmd(
    ctx: typer.Context,
    status: Annotated[str, typer.Option("--status", help="The run's new status.")],
    target: TargetOption = None,
    runname: RunnameOption = None,
    comment: Annotated[str | None, typer.Option("--comment", "-m")] = None,
    area: AreaOption = None,
) -> None:
    """Set the status (and comment) of the first matching run."""
    from megatest.engine.manage import matching_runs
    from megatest.store import open_store

    sel = _selector(ctx, area, target, runname)
    with open_store(sel.area, create=False) as store:
        run = matching_runs(store, sel)[0]
        store.set_run_state_status(run.id, status=status, comment=comment)


@app.command("get-status")
def get_status_cmd(ctx: typer.Context, target: TargetOption = None,
                   runname: RunnameOption = None, area: AreaOption = None) -> None:
    """Print the status of the first matching run."""
    from megatest.engine.manage import matching_runs
    from megatest.store import open_store

    sel = _selector(ctx, area, target, runname)
    with open_store(sel.area, create=False) as store:
        typer.echo(matching_runs(store, sel)[0].status)
