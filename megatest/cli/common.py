"""Options and helpers shared by every section of the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from megatest.config.area import find_area
from megatest.errors import UsageError

__all__ = ["AreaOption", "Format", "FormatOption", "check_format", "find_area", "resolve_area"]

AreaOption = Annotated[
    Path | None,
    typer.Option(
        "--area",
        help="Megatest area (folder holding megatest.config). Default: $MT_RUN_AREA_HOME, "
        "else the nearest parent of the current directory that holds megatest.config.",
        show_default=False,
    ),
]


class Format:
    """Output formats accepted by `--format`."""

    JSON = "json"
    INI = "ini"
    TEXT = "text"


FormatOption = Annotated[
    str,
    typer.Option("--format", "-f", help="Output format: json, ini, text or csv."),
]


def check_format(fmt: str, allowed: tuple[str, ...] = ("json", "ini", "text")) -> str:
    if fmt not in allowed:
        raise UsageError(f"unknown --format {fmt!r}; choose one of {', '.join(allowed)}")
    return fmt


def _cwd_gone() -> bool:
    """The process's current directory was deleted (or cannot be reached any more)."""
    try:
        os.getcwd()
    except OSError:
        return True
    return False


def resolve_area(ctx: typer.Context | None, area: Path | None) -> Path:
    """The area a command works on: its own --area, the root --area, $MT_RUN_AREA_HOME, walk-up."""
    try:
        return _resolve_area(ctx, area)
    except OSError:
        if not _cwd_gone():
            raise
        raise UsageError(
            "the current directory no longer exists: cd to an existing folder, "
            "or give --area as an absolute path"
        ) from None


def _resolve_area(ctx: typer.Context | None, area: Path | None) -> Path:
    chosen = area
    if chosen is None and ctx is not None:
        root = ctx.find_root()
        if isinstance(root.obj, dict):
            chosen = root.obj.get("area")
    if chosen is None and os.environ.get("MT_RUN_AREA_HOME"):
        chosen = Path(os.environ["MT_RUN_AREA_HOME"])
    if chosen is None:
        found = find_area()
        if found is None:
            raise UsageError(
                f"no megatest.config in {Path.cwd()} or any parent folder; use --area DIR"
            )
        return found
    chosen = chosen.expanduser().resolve()
    if not (chosen / "megatest.config").is_file():
        raise UsageError(f"{chosen}: not a Megatest area (no megatest.config)")
    return chosen
