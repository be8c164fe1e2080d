"""`megatest query config`, without Typer.

Tests call `$MT_MEGATEST -show-config -section S -var V` from inside their steps, many
times per run, so this command is answered by `fast_main` straight from the console entry
point (no Typer import) whenever its arguments are plain; `megatest.cli.query` registers
the same command for `--help` and for anything `fast_main` does not take.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from megatest.errors import UsageError

FORMATS = ("json", "ini", "text", "csv")
DEFAULT_FORMAT = "ini"

ConfigData = Mapping[str, Mapping[str, str]]


def check_format(fmt: str, allowed: Sequence[str] = FORMATS) -> str:
    if fmt not in allowed:
        raise UsageError(f"unknown --format {fmt!r}; choose one of {', '.join(allowed)}")
    return fmt


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def to_ini(data: ConfigData) -> str:
    """Config-language text: `[section]` then `key value`; the lines of a multi-line value
    after the first are indented two spaces (readable; not a byte-exact round trip)."""
    out: list[str] = []
    for section, keys in data.items():
        if out:
            out.append("")
        out.append(f"[{section}]")
        for key, value in keys.items():
            first, *rest = value.split("\n")
            out.append(f"{key} {first}" if first else key)
            out.extend(f"  {line}" for line in rest)
    return "\n".join(out)


def to_text(data: ConfigData) -> str:
    """One `section<TAB>key<TAB>value` line per value, LF inside values shown as `\\n`."""
    return "\n".join(
        f"{section}\t{key}\t{value}".replace("\n", "\\n")
        for section, keys in data.items()
        for key, value in keys.items()
    )


def to_csv(data: ConfigData) -> str:
    """A `section,key,value` header, then a row per value (multi-line values quoted)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "key", "value"))
    writer.writerows((section, key, value) for section, keys in data.items()
                     for key, value in keys.items())
    return out.getvalue().rstrip("\n")


def render(data: ConfigData, fmt: str) -> str:
    return {"json": to_json, "ini": to_ini, "text": to_text,
            "csv": to_csv}[check_format(fmt)](data)


def print_diagnostics(diagnostics: Iterable[Any]) -> bool:
    """Print the reader's diagnostics as `megatest: error: file:line: message`; any?"""
    found = False
    for diag in diagnostics:
        where = f"{diag.path}:{diag.line}" if diag.line else diag.path
        print(f"megatest: error: {where}: {diag.message}", file=sys.stderr)
        found = True
    return found


def show(
    data: ConfigData, *, source: str, section: str | None, var: str | None, fmt: str
) -> int:
    """Print the whole config, one section, or one value (printed bare in every format
    but json). A missing section or value prints nothing on stdout and returns 1."""
    check_format(fmt)
    if var is not None and section is None:
        raise UsageError("--var needs --section")
    if section is not None:
        if section not in data:
            print(f"megatest: no [{section}] in {source}", file=sys.stderr)
            return 1
        if var is not None:
            value = data[section].get(var)
            if value is None:
                print(f"megatest: no {var!r} in [{section}] of {source}", file=sys.stderr)
                return 1
            print(to_json(value) if fmt == "json" else value)
            return 0
        data = {section: data[section]}
    text = render(data, fmt)
    if text:
        print(text)
    return 0


def query_config(
    *,
    file: str | None = None,
    area: Path | None = None,
    target: str | None = None,
    section: str | None = None,
    var: str | None = None,
    fmt: str = DEFAULT_FORMAT,
) -> int:
    """`query config`: with `file`, that one file read generically (allow-system on, no
    environ-patt, shell commands in the current dir); else the area's megatest.config
    read as a run reads it. Exit code: 2 if the reader reported problems (after the
    output), else 0/1 as `show`."""
    check_format(fmt)
    if file is not None:
        from megatest.config.reader import read_config
        from megatest.errors import ConfigError

        config = read_config(file, allow=True)
        if config is None:
            raise ConfigError("no such file", path=file)
        source = file
    else:
        from megatest.config.area import locate_area
        from megatest.config.megatest_config import read_megatest_config

        top = locate_area(area)  # --area, else $MT_RUN_AREA_HOME, else walk up
        model = read_megatest_config(top, target=target)
        if target is not None:
            model.keyvals(target)
        config, source = model.raw, str(model.path)
    code = show(config.to_json_dict(), source=source, section=section, var=var, fmt=fmt)
    return 2 if print_diagnostics(config.diagnostics) else code


_FAST_OPTIONS = {
    "--file": "file",
    "--section": "section",
    "--var": "var",
    "--format": "fmt",
    "-f": "fmt",
    "--target": "target",
    "--area": "area",
}


def fast_main(args: Sequence[str]) -> int | None:
    """Answer `query config [--opt value]...` without Typer; None when the arguments are
    anything else (help, `--opt=value`, unknown words), so the caller falls back.
    A root `--area DIR` before `query` (what legacy `-start-dir DIR` becomes) is taken too."""
    words = list(args)
    if words[:1] == ["--area"] and len(words) > 1:
        words = [*words[2:], "--area", words[1]]
    if words[:2] != ["query", "config"] or len(words) % 2:
        return None
    opts: dict[str, str] = {}
    for name, value in zip(words[2::2], words[3::2], strict=True):
        key = _FAST_OPTIONS.get(name)
        if key is None or key in opts or value.startswith("-"):
            return None
        opts[key] = value
    try:
        return query_config(
            file=opts.get("file"),
            area=Path(opts["area"]) if "area" in opts else None,
            target=opts.get("target"),
            section=opts.get("section"),
            var=opts.get("var"),
            fmt=opts.get("fmt", DEFAULT_FORMAT),
        )
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """stdout's reader left (`... | head`): end quietly with 128+SIGPIPE, as a shell tool
    killed by SIGPIPE would. stdout goes to /dev/null so the exit-time flush cannot fail."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141
