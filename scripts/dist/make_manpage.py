"""Write megatest(1) in troff from the built program's own --help texts (stdout).

    make_manpage.py build/megatest > megatest.1

The page is generated from the binary, not the sources, so it lists exactly the sections that
binary has. Sections are read from the "Commands:" block of `megatest --help` (Typer's plain
layout, which the binary always uses).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def help_text(binary: Path, *args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    result = subprocess.run(
        [str(binary), *args, "--help"], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout


def command_names(top_help: str) -> list[str]:
    """Names listed under 'Commands:' (one per line, indented, name first)."""
    names: list[str] = []
    in_commands = False
    for line in top_help.splitlines():
        if line.strip() == "Commands:":
            in_commands = True
            continue
        if in_commands:
            if not line.startswith(" ") or not line.strip():
                break
            # Names are indented by two spaces; deeper lines continue a long description.
            if len(line) - len(line.lstrip(" ")) == 2:
                names.append(line.split()[0])
    return names


def escape(line: str) -> str:
    """Make one line of plain text safe for troff."""
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line.replace("-", "\\-")


def verbatim(text: str) -> list[str]:
    return [".nf", *(escape(line) for line in text.rstrip().splitlines()), ".fi"]


def manpage(binary: Path, version: str) -> str:
    top = help_text(binary)
    out = [
        f'.TH MEGATEST 1 "" "megatest {version}" "User Commands"',
        ".SH NAME",
        "megatest \\- regression\\-test orchestration harness for Megatest areas",
        ".SH SYNOPSIS",
        ".B megatest",
        "[\\fIOPTIONS\\fR] \\fISECTION\\fR \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        *verbatim(top),
    ]
    for name in command_names(top):
        out += [f".SH {escape(name.upper())}", *verbatim(help_text(binary, name))]
    out += [
        ".SH FILES",
        ".TP",
        "\\fI<area>/megatest.config\\fR, \\fI<area>/runconfigs.config\\fR",
        "The area's configuration.",
        ".TP",
        "\\fI<area>/.db/\\fR",
        "The area's databases: main.db and one file per run.",
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make_manpage.py BINARY", file=sys.stderr)
        return 2
    binary = Path(argv[0])
    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    sys.stdout.write(manpage(binary, version))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
