"""Query the area: configs, targets, tests, runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from megatest.cli import rows_out
from megatest.cli.common import AreaOption, FormatOption, resolve_area
from megatest.cli.query_config import (
    DEFAULT_FORMAT,
    check_format,
    print_diagnostics,
    query_config,
    show,
    to_json,
)
from megatest.cli.rows_out import RowsFormat
from megatest.errors import UsageError

app = typer.Typer(no_args_is_help=True)


def _register_run_queries() -> None:
    # the queries of run results live in megatest/cli/query_runs.py
    from megatest.cli.query_runs import (
        query_data,
        query_runs,
        query_tests,
        test_files_cmd,
        test_paths_cmd,
    )

    app.command("runs")(query_runs)
    app.command("tests")(query_tests)
    app.command("paths")(test_paths_cmd)
    app.command("files")(test_files_cmd)
    app.command("data")(query_data)
    # the names these had first: scripts may use them
    app.command("test-paths", hidden=True)(test_paths_cmd)
    app.command("test-files", hidden=True)(test_files_cmd)


_register_run_queries()

TargetOption = Annotated[
    str | None,
    typer.Option("--target", "-t", help="Target, e.g. ubuntu/gcc12 (default: $MT_TARGET)."),
]
SectionOption = Annotated[str | None, typer.Option("--section", help="Only this section.")]
VarOption = Annotated[str | None, typer.Option("--var", help="Only this key (needs --section).")]


def _finish(code: int) -> None:
    if code:
        raise typer.Exit(code)


def _target(target: str | None) -> str:
    chosen = target if target is not None else os.environ.get("MT_TARGET")
    if not chosen:
        raise UsageError("no target: use --target A/B/... or set MT_TARGET")
    return chosen


@app.command("config")
def config_cmd(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Read this file on its own instead of the area's megatest.config."),
    ] = None,
    section: SectionOption = None,
    var: VarOption = None,
    target: TargetOption = None,
    fmt: FormatOption = DEFAULT_FORMAT,
    area: AreaOption = None,
) -> None:
    """Show megatest.config as megatest reads it (or any config file with --file)."""
    check_format(fmt)
    if file is not None:
        _finish(query_config(file=str(file), section=section, var=var, fmt=fmt))
        return
    top = resolve_area(ctx, area)
    _finish(query_config(area=top, target=target, section=section, var=var, fmt=fmt))


@app.command("runconfig")
def runconfig_cmd(
    ctx: typer.Context,
    target: TargetOption = None,
    reqtarg: Annotated[
        bool, typer.Option("--reqtarg", help="The target's section must exist exactly.")
    ] = False,
    section: SectionOption = None,
    var: VarOption = None,
    fmt: FormatOption = DEFAULT_FORMAT,
    area: AreaOption = None,
) -> None:
    """Show runconfigs.config for a target: its default and target sections."""
    from megatest.config.area import open_area

    check_format(fmt)
    loaded = open_area(resolve_area(ctx, area), target=_target(target), reqtarg=reqtarg)
    runconfigs = loaded.runconfigs
    assert runconfigs is not None  # a target was given
    data = runconfigs.raw.to_json_dict() if runconfigs.raw is not None else {}
    code = show(data, source=str(runconfigs.path), section=section, var=var, fmt=fmt)
    _finish(2 if print_diagnostics(loaded.diagnostics) else code)


@app.command("keys")
def keys_cmd(
    ctx: typer.Context,
    fmt: RowsFormat = "text",
    area: AreaOption = None,
) -> None:
    """List the target fields (the fields section of megatest.config), in order."""
    from megatest.config.megatest_config import read_megatest_config

    rows_out.check(fmt)
    config = read_megatest_config(resolve_area(ctx, area))
    rows_out.emit_values(config.fields, fmt, "key")
    _finish(2 if print_diagnostics(config.diagnostics) else 0)


@app.command("targets")
def targets_cmd(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="Comma list of patterns, % is a wildcard."),
    ] = None,
    db: Annotated[
        bool, typer.Option("--db", help="The targets the area's runs used (from its database).")
    ] = False,
    fmt: RowsFormat = "text",
    area: AreaOption = None,
) -> None:
    """List the section names of runconfigs.config (the known targets), sorted; with --db,
    the targets of the recorded runs, in the order first run."""
    rows_out.check(fmt)
    top = resolve_area(ctx, area)
    diagnostics: list = []
    if db:
        names = _db_targets(top, target)
    else:
        from megatest.config.runconfigs import list_targets

        names, diagnostics = list_targets(top, target)
    rows_out.emit_values(names, fmt, "target")
    _finish(2 if print_diagnostics(diagnostics) else 0)


def _db_targets(top: Path, patterns: str | None) -> list[str]:
    from megatest.engine.manage import has_database
    from megatest.store import open_store

    if not has_database(top):
        return []
    seen: dict[str, None] = {}
    with open_store(top, create=False) as store:
        for patt in (patterns or "%").split(","):
            for run in store.find_runs(patt or "%"):
                seen.setdefault(run.target)
    return list(seen)


@app.command("disks")
def disks_cmd(ctx: typer.Context, fmt: RowsFormat = "text", area: AreaOption = None) -> None:
    """List the disks of megatest.config's [disks] section, where runs are made: name => path
    (json and csv add the free space, in KB, as the launcher measures it to choose one)."""
    from megatest.config.megatest_config import read_megatest_config
    from megatest.errors import ConfigError
    from megatest.executor.workarea import free_space_kb

    rows_out.check(fmt)
    config = read_megatest_config(resolve_area(ctx, area))

    def free_kb(path: str) -> int | None:
        if fmt == "text":
            return None  # not shown: a dead mount or a slow free-space-script costs nothing
        try:
            return free_space_kb(path, config.setup.free_space_script)
        except (OSError, ConfigError):
            return None

    rows_out.emit(({"name": name, "path": path, "free_kb": free_kb(path)}
                   for name, path in config.disks.items()), fmt,
                  lambda row: f"{row['name']} => {row['path']}")
    _finish(2 if print_diagnostics(config.diagnostics) else 0)


@app.command("area-tests")
def area_tests_cmd(
    ctx: typer.Context,
    target: TargetOption = None,
    testpatt: Annotated[
        str | None,
        typer.Option("--testpatt", help="Test pattern, e.g. 'build,test/%' (default: TESTPATT or %)."),
    ] = None,
    tagexpr: Annotated[
        str | None,
        typer.Option("--tagexpr", help="Only tests with a tag matching one of these patterns."),
    ] = None,
    modepatt: Annotated[
        str | None,
        typer.Option("--modepatt", help="Take the test pattern from this runconfigs variable."),
    ] = None,
    fmt: RowsFormat = "text",
    area: AreaOption = None,
) -> None:
    """List the tests and items a run would select, with their prerequisites.

    Nothing is run, except the `system` commands some testconfigs use to compute items.
    """
    from megatest.config.area import open_area

    rows_out.check(fmt)
    chosen = target if target is not None else os.environ.get("MT_TARGET") or None
    loaded = open_area(resolve_area(ctx, area), target=chosen)
    plan, diagnostics = _plan(loaded, testpatt, tagexpr, modepatt)
    if fmt == "json":
        typer.echo(to_json(plan))
    elif fmt == "csv":
        rows_out.emit(_plan_rows(plan), "csv", str)
    else:
        typer.echo(_plan_text(plan))
    _finish(2 if print_diagnostics(diagnostics) else 0)


def _plan(loaded: Any, testpatt: str | None, tagexpr: str | None, modepatt: str | None):
    """Selection as a run does it (megatest.engine.selection), items expanded."""
    from megatest.config.items import NO_ITEM
    from megatest.config.reader import Diagnostic
    from megatest.engine.selection import select_tests

    if loaded.runconfigs is not None:
        patt = loaded.runconfigs.resolve_testpatt(testpatt, modepatt)
    elif modepatt is not None:
        patt = None
    else:
        patt = testpatt if testpatt is not None else "%"
    diagnostics = list(loaded.diagnostics)
    plan: dict[str, Any] = {"target": loaded.target, "testpatt": patt, "tests": []}
    if patt is None:  # --modepatt names no variable: nothing to run
        return plan, diagnostics
    env = loaded.run_env()  # one env for every read: pre-launch-env-vars leak, as in a run
    configs: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name not in configs:
            configs[name] = loaded.read_test(name, env=env)
        return configs[name]

    selection = select_tests(list(loaded.test_dirs()), load, patt, tagexpr)
    plan["testpatt"] = selection.testpatt
    for warning in selection.warnings:
        diagnostics.append(Diagnostic(str(loaded.toppath), 0, warning))
    for name in selection.names:
        error = selection.broken.get(name)
        if error is not None:  # listed with the others, its error said (exit 2)
            diagnostics.append(Diagnostic(error.path or "", error.line or 0, error.message))
            plan["tests"].append({"name": name, "itemized": False, "items": [], "selected": False,
                                  "waiton": [], "waitor": [], "mode": [], "priority": 0,
                                  "tags": [], "error": error.one_line()})
            continue
        cfg = load(name)
        items = cfg.items() if cfg.itemized else [NO_ITEM]
        wanted = [i.path for i in items if selection.item_wanted(name, i.path)]
        plan["tests"].append(
            {
                "name": name,
                "itemized": cfg.itemized,
                "items": wanted if cfg.itemized else [],
                "selected": bool(wanted),
                "waiton": cfg.waiton,
                "waitor": cfg.waitor,
                "mode": cfg.modes,
                "priority": cfg.priority,
                "tags": cfg.tags,
            }
        )
    for cfg in configs.values():  # collected last: running [system] items may add some
        diagnostics.extend(cfg.diagnostics)
    return plan, diagnostics


def _plan_rows(plan: dict[str, Any]):
    """A row per selected test, and per item of an itemized one."""
    for test in plan["tests"]:
        for item in test["items"] or [""]:
            yield {"test": test["name"], "item": item, "selected": test["selected"],
                   "waiton": " ".join(test["waiton"]), "priority": test["priority"],
                   "tags": " ".join(test["tags"])}


def _plan_text(plan: dict[str, Any]) -> str:
    lines = [f"# target {plan['target'] or '(none)'}, test pattern {plan['testpatt']}"]
    for test in plan["tests"]:
        extra = f"  (waits on {' '.join(test['waiton'])})" if test["waiton"] else ""
        if "error" in test:
            extra += "  (its testconfig cannot be read)"
        elif not test["selected"]:
            extra += "  (nothing selected)"
        lines.append(f"{test['name']}{extra}")
        lines.extend(f"  {path}" for path in test["items"])
    return "\n".join(lines)
