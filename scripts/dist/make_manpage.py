"""Write megatest(1) in troff from the built program's own --help texts (stdout).

    make_manpage.py build/megatest > megatest.1

The page is generated from the binary, not the sources, so it lists exactly the commands that
binary has: the top-level help, then one section per command group and, in it, every
command's whole --help (its description and every option). Command lists are rebuilt from
each command's own help: Typer cuts the descriptions in a "Commands:" block with "...".
Typer's plain layout is read (the binary never uses rich).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HelpReader = Callable[..., str]


def help_text(binary: Path, *args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    result = subprocess.run(
        [str(binary), *args, "--help"], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout


def _commands_block(help_out: str) -> tuple[int, int] | None:
    """Line range [start, end) of the "Commands:" block, heading included."""
    lines = help_out.splitlines()
    for start, line in enumerate(lines):
        if line.strip() == "Commands:":
            end = start + 1
            while end < len(lines) and lines[end].startswith(" ") and lines[end].strip():
                end += 1
            return start, end
    return None


def command_names(top_help: str) -> list[str]:
    """Names listed under 'Commands:' (one per line, indented, name first)."""
    block = _commands_block(top_help)
    if block is None:
        return []
    lines = top_help.splitlines()[block[0] + 1:block[1]]
    # Names are indented by two spaces; deeper lines continue a long description.
    return [line.split()[0] for line in lines if len(line) - len(line.lstrip(" ")) == 2]


def without_commands(help_out: str) -> str:
    """The help without its "Commands:" block (the page lists the commands in full)."""
    block = _commands_block(help_out)
    if block is None:
        return help_out.rstrip()
    lines = help_out.splitlines()
    return "\n".join(lines[:block[0]] + lines[block[1]:]).rstrip()


def summary(help_out: str) -> str:
    """The first paragraph of a command's description, on one line."""
    lines = help_out.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Usage:")), -1) + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    words: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            break
        words += line.split()
    return " ".join(words)


@dataclass
class Command:
    """One command of the program, its help, and the commands under it."""

    path: tuple[str, ...]
    help: str
    children: list[Command] = field(default_factory=list)


def walk(read: HelpReader, path: tuple[str, ...] = ()) -> Command:
    """The command tree from `read(*path)` (a command's --help), depth first."""
    node = Command(path, read(*path))
    node.children = [walk(read, (*path, name)) for name in command_names(node.help)]
    return node


def escape(line: str) -> str:
    """Make one line of plain text safe for troff."""
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line.replace("-", "\\-")


def verbatim(text: str) -> list[str]:
    return [".nf", *(escape(line) for line in text.rstrip().splitlines()), ".fi"]


def command_list(node: Command) -> list[str]:
    """A .TP entry per child command: its name and its whole first paragraph."""
    out: list[str] = []
    for child in node.children:
        out += [".TP", f"\\fB{escape(' '.join(child.path))}\\fR", escape(summary(child.help))]
    return out


def section(node: Command) -> list[str]:
    """A command group: its own help, the list of its commands, then each one's whole help."""
    return [f".SH {escape(' '.join(node.path).upper())}", *verbatim(without_commands(node.help)),
            *command_list(node), *(line for child in node.children for line in subsection(child))]


def subsection(node: Command) -> list[str]:
    return [f'.SS "megatest {escape(" ".join(node.path))}"',
            *verbatim(without_commands(node.help)), *command_list(node),
            *(line for child in node.children for line in subsection(child))]


def manpage(read: HelpReader, version: str) -> str:
    tree = walk(read)
    out = [
        f'.TH MEGATEST 1 "" "megatest {version}" "User Commands"',
        ".SH NAME",
        "megatest \\- regression\\-test orchestration harness for Megatest areas",
        ".SH SYNOPSIS",
        ".B megatest",
        "[\\fIOPTIONS\\fR] \\fISECTION\\fR \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        *verbatim(without_commands(tree.help)),
        ".SH SECTIONS",
        *command_list(tree),
    ]
    for child in tree.children:
        out += section(child)
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
    sys.stdout.write(manpage(lambda *path: help_text(binary, *path), version))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
