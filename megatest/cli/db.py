"""Databases: migrate, convert legacy dbs, status, check, cleanup."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from megatest.cli.common import AreaOption, resolve_area
from megatest.errors import UsageError

app = typer.Typer(no_args_is_help=True)

ProgressOption = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress",
                 help="Show a progress bar on stderr (default: when stderr is a terminal)."),
]


def _say(line: str) -> None:
    typer.echo(line)


def _area_fields(area: Path) -> list[tuple[str, str]]:
    """The [fields] of megatest.config, in order (types default to TEXT)."""
    from megatest.config.megatest_config import read_megatest_config

    return [(name, "TEXT") for name in read_megatest_config(area).fields]


@app.command("migrate")
def migrate_cmd(ctx: typer.Context, area: AreaOption = None, progress: ProgressOption = None) -> None:
    """Bring main.db and every run db to the current schema; convert a legacy megatest.db
    (the original is never modified; an interrupted conversion resumes)."""
    from megatest.store import maintenance

    root = resolve_area(ctx, area)
    show = sys.stderr.isatty() if progress is None else progress
    maintenance.migrate(root, _area_fields(root), progress=show, say=_say)


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    area: AreaOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show each database of the area with its schema revision."""
    from megatest.store import legacy, maintenance, paths

    if fmt not in ("text", "json"):
        raise UsageError(f"unknown --format {fmt!r}; choose text or json")
    root = resolve_area(ctx, area)
    rows = maintenance.status(root)
    if fmt == "json":
        typer.echo(json.dumps([
            {"kind": s.db.kind, "run_id": s.db.run_id, "path": str(s.db.path),
             "revision": s.revision, "head": s.head, "at_head": s.at_head,
             "problem": s.problem} for s in rows
        ], indent=2))
        return
    if legacy.needs_conversion(root):
        typer.echo(f"{paths.legacy_db(root)}: legacy database, not converted yet "
                   "(run `megatest db migrate`)")
    if not rows:
        typer.echo(f"{paths.db_dir(root)}: no databases")
    for s in rows:
        if s.problem is not None:
            state = s.problem
        else:
            state = "head" if s.at_head else f"behind (head {s.head})"
        typer.echo(f"{s.db.path.name:<16} {s.db.kind:<8} {s.revision or '-':<12} {state}")


@app.command("check")
def check_cmd(ctx: typer.Context, area: AreaOption = None) -> None:
    """Integrity and orphan checks; exit 1 when something is wrong."""
    from megatest.store import maintenance

    root = resolve_area(ctx, area)
    problems = maintenance.check(root)
    for p in problems:
        typer.echo(p.line())
    if problems:
        fixable = sum(1 for p in problems if p.fixable)
        typer.echo(f"{len(problems)} problem(s); {fixable} can be fixed by `megatest db cleanup`")
        raise typer.Exit(1)
    count = len(maintenance.db_files(root))
    typer.echo(f"{count} databases ok" if count else "no databases yet; nothing to check")


@app.command("cleanup")
def cleanup_cmd(ctx: typer.Context, area: AreaOption = None) -> None:
    """Remove orphan rows and run dbs, repair test ids, then VACUUM every database."""
    from megatest.store import maintenance

    root = resolve_area(ctx, area)
    fixed = maintenance.cleanup(root, say=_say)
    typer.echo(f"fixed {fixed} problem(s)")
