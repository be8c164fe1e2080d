"""`megatest query runs|tests|paths|files|data`: what the area's runs hold.

Registered on the `query` section by megatest/cli/query.py. `query runs --tests` prints the
original's `-list-runs` layout, which rule files parse (`Test: NAME State: S Status: S
Runtime: Ns ...`); its json form is the same data, by run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from megatest.cli import rows_out
from megatest.cli.common import AreaOption, resolve_area
from megatest.cli.rows_out import RowsFormat as FormatChoice
from megatest.cli.runs import StateOption, StatusOption, TestpattOption, _selector

TargetPattern = Annotated[
    str | None, typer.Option("--target", help="Target pattern, % is a wildcard (default: all).")
]
RunnamePattern = Annotated[
    str | None, typer.Option("--runname", help="Run name pattern, % is a wildcard (default: all).")
]
ItempattOption = Annotated[
    str | None, typer.Option("--itempatt", help="Deprecated: appended to --testpatt as /P.")
]


def query_runs(
    ctx: typer.Context,
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    tests: Annotated[
        bool, typer.Option("--tests", help="Each run's tests (and the steps of the bad ones).")
    ] = False,
    testpatt: TestpattOption = None,
    itempatt: ItempattOption = None,
    state: StateOption = None,
    status: StatusOption = None,
    fmt: FormatChoice = "text",
    area: AreaOption = None,
) -> None:
    """List the runs of the area: target, run name, state, status, pass/fail counts, times.

    With --tests, the original's -list-runs layout: a `Run:` line per run, then a `Test:` line
    per test (filtered by --testpatt, --state, --status).
    """
    import json

    from megatest.store import open_store

    rows_out.check(fmt)
    sel = _selector_of(ctx, area, target, runname, testpatt, itempatt, state, status)
    with open_store(sel.area, create=False) as store:
        runs = store.find_runs(target, runname)
        if fmt == "csv":
            _runs_csv(store, runs, sel, tests)
            return
        if not tests:
            rows = [run.as_dict() for run in runs]
        else:
            rows = [_run_with_tests(store, run, sel) for run in runs]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
    elif tests:
        from megatest.cli.list_runs import listing

        keys = list(runs[0].keys) if runs else []
        typer.echo(listing(rows, keys), nl=False)
    else:
        _run_lines(rows)


def _runs_csv(store: Any, runs: list[Any], sel: Any, tests: bool) -> None:
    """A run a row (its key fields as columns), or with `tests` a test a row."""
    if tests:
        from megatest.engine.manage import iter_matching_tests

        rows_out.emit(({"target": run.target, "runname": run.runname, **t.as_dict()}
                       for run in runs for t in iter_matching_tests(store, run, sel)),
                      "csv", str)
        return

    def flat(run: Any) -> dict[str, Any]:
        row = run.as_dict()
        keys = row.pop("keys")
        return {"target": row.pop("target"), **keys, **row}

    rows_out.emit((flat(run) for run in runs), "csv", str)


def _selector_of(ctx: typer.Context, area: Any, target: str | None, runname: str | None,
                 testpatt: str | None, itempatt: str | None, state: str | None,
                 status: str | None) -> Any:
    from megatest.engine.manage import Selector, split_list

    patt = f"{testpatt or '%'}/{itempatt}" if itempatt else testpatt
    return Selector(resolve_area(ctx, area), target, runname, patt, split_list(state),
                    split_list(status))


def _run_with_tests(store: Any, run: Any, sel: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from megatest.engine.manage import matching_tests

    row = run.as_dict()
    row["tests"] = []
    for test in matching_tests(store, run, sel):
        entry = asdict(test)
        entry["steps"] = [asdict(step) for step in store.get_steps(run.id, test.id)]
        row["tests"].append(entry)
    return row


def _when(stamp: int | None) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "-"


def _run_lines(rows: list[dict[str, Any]]) -> None:

    for r in rows:
        lock = "  locked" if r["locked"] else ""
        typer.echo(f"{r['id']:>5}  {r['target']}/{r['runname']:<20} {r['state']:<10} "
                   f"{r['status']:<8} pass {r['pass_count']:<4} fail {r['fail_count']:<4} "
                   f"{_when(r['event_time'])} -> {_when(r['end_time'])}{lock}")


def query_tests(
    ctx: typer.Context,
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    testpatt: TestpattOption = None,
    state: StateOption = None,
    status: StatusOption = None,
    fmt: FormatChoice = "text",
    area: AreaOption = None,
) -> None:
    """List every test and item of matching runs: state, status, start, duration, comment, dir."""
    from megatest.engine.manage import iter_matching_tests, matching_runs
    from megatest.store import open_store

    rows_out.check(fmt)
    sel = _selector(ctx, area, target, runname, testpatt, state, status)
    # each row is written as it is read: a run of 100,000 items lists in constant memory
    with open_store(sel.area, create=False) as store:
        rows = (
            {
                "target": run.target, "runname": run.runname, "test": t.testname,
                "item": t.item_path, "state": t.state, "status": t.status,
                "start": t.event_time, "duration": t.run_duration or 0,
                "comment": t.comment or "", "rundir": t.rundir,
            }
            for run in matching_runs(store, sel)
            for t in iter_matching_tests(store, run, sel)
        )
        rows_out.emit(rows, fmt, _test_line)


def _test_line(r: Any) -> str:
    start = _when(r["start"])
    name = f"{r['test']}/{r['item']}" if r["item"] else r["test"]
    return (f"{r['target']}/{r['runname']}  {name:<30} {r['state']:<12} {r['status']:<10} "
            f"{start}  {r['duration']:>5}s  {r['rundir']}  {r['comment']}")


def _paths_selector(ctx: typer.Context, area: Any, target: str | None, runname: str | None,
                    testpatt: str | None, itempatt: str | None, state: str | None,
                    status: str | None) -> Any:
    # inside a test the target defaults to the test's own (the original asks for -target)
    chosen = target if target is not None else os.environ.get("MT_TARGET") or None
    return _selector_of(ctx, area, chosen, runname, testpatt, itempatt, state, status)


def test_paths_cmd(
    ctx: typer.Context,
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    testpatt: TestpattOption = None,
    itempatt: ItempattOption = None,
    state: StateOption = None,
    status: StatusOption = None,
    fmt: FormatChoice = "text",
    area: AreaOption = None,
) -> None:
    """Print the run directory of each selected test, one a line: run by run, youngest first.

    The target defaults to $MT_TARGET (inside a test: its own), else every target.
    """
    from megatest.engine.manage import selected_run_dirs

    rows_out.check(fmt)
    sel = _paths_selector(ctx, area, target, runname, testpatt, itempatt, state, status)
    _paths_out(selected_run_dirs(sel), fmt)


def _paths_out(paths: Iterable[str], fmt: str) -> None:
    """One path a line; json: a list of them; csv: a `path` column."""
    rows_out.emit_values(paths, fmt, "path")


def test_files_cmd(
    ctx: typer.Context,
    files: Annotated[
        str, typer.Option("--files", help="File glob inside each run directory, e.g. 'logs/*.log'.")
    ],
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    testpatt: TestpattOption = None,
    itempatt: ItempattOption = None,
    state: StateOption = None,
    status: StatusOption = None,
    fmt: FormatChoice = "text",
    area: AreaOption = None,
) -> None:
    """Print the files matching --files in the selected tests' run directories, in the order
    of `query paths`."""
    from megatest.engine.manage import selected_files

    rows_out.check(fmt)
    sel = _paths_selector(ctx, area, target, runname, testpatt, itempatt, state, status)
    _paths_out(selected_files(sel, files), fmt)


def query_data(
    ctx: typer.Context,
    target: TargetPattern = None,
    runname: RunnamePattern = None,
    testpatt: TestpattOption = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Only categories matching, % is a wildcard.")
    ] = None,
    fmt: FormatChoice = "text",
    area: AreaOption = None,
) -> None:
    """List the data the selected tests recorded (`test load-data`, `test set-values`): a row
    per value with its expected value, tolerance, units and pass/fail."""
    from megatest.engine.manage import iter_matching_tests, matching_runs
    from megatest.store import open_store

    rows_out.check(fmt)
    sel = _selector_of(ctx, area, target, runname, testpatt, None, None, None)
    with open_store(sel.area, create=False) as store:
        rows = (
            {"target": run.target, "runname": run.runname, "test": t.testname,
             "item": t.item_path, "category": d.category, "variable": d.variable,
             "value": d.value, "expected": d.expected, "tol": d.tol, "units": d.units or "",
             "status": d.status, "type": d.type, "comment": d.comment}
            for run, data in ((run, store.get_run_data(run.id, category))
                              for run in matching_runs(store, sel))
            for t in iter_matching_tests(store, run, sel)
            for d in data.get(t.id, ())
        )
        rows_out.emit(rows, fmt, _data_line)


def _data_line(r: Any) -> str:
    name = f"{r['test']}/{r['item']}" if r["item"] else r["test"]
    expect = f" (expected {r['expected']} tol {r['tol']})" if r["expected"] not in (None, "") else ""
    units = f" {r['units']}" if r["units"] else ""
    return (f"{r['target']}/{r['runname']}  {name:<30} {r['category']}/{r['variable']} = "
            f"{r['value']}{units}{expect}  {r['status']}")
