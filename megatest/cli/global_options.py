"""Options every command takes, in either form, read before anything else is imported:
`-debug N` / `--debug N` (how much detail; see megatest.verbosity) and `-log FILE` /
`--log FILE` (where the output goes).

`-log FILE` appends to FILE (its folder is made when missing). What goes there: everything
a run prints (its progress and its diagnostics, and what its hooks print), and for other
commands their diagnostics and details (stderr) only: a query's answer stays on stdout, where
the scripts that call it read it. The terminal is told once where the log is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from megatest.errors import UsageError

_NAMES = {"-debug": "debug", "--debug": "debug", "-log": "log", "--log": "log"}


def split_global_options(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """`args` without the global options, and their values by name (debug, log)."""
    rest: list[str] = []
    found: dict[str, str] = {}
    i = 0
    while i < len(args):
        word = args[i]
        flag, eq, inline = word.partition("=")
        if flag in _NAMES and flag.startswith("--") and eq:
            found[_NAMES[flag]] = inline
            i += 1
            continue
        if word in _NAMES:
            if i + 1 >= len(args):
                raise UsageError(f"{word} needs a value")
            found[_NAMES[word]] = args[i + 1]
            i += 2
            continue
        rest.append(word)
        i += 1
    return rest, found


def is_run(args: list[str]) -> bool:
    """`args` (sectioned) start a run: its progress is what goes to the log."""
    words = [a for a in args if not a.startswith("-")]
    return words[:2] == ["runs", "start"] or words[1:3] == ["runs", "start"]


@contextmanager
def output_to_log(path: str, *, stdout_too: bool) -> Iterator[None]:
    """Send stderr (and stdout when `stdout_too`) to `path`, appended, for the block; the
    descriptors themselves move, so child processes (hooks, the run's tests) follow."""
    if not path:
        raise UsageError("-log needs a file name")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    print(f"megatest: output goes to {path}", file=sys.stderr, flush=True)
    targets = (1, 2) if stdout_too else (2,)
    sys.stdout.flush()
    saved = {t: os.dup(t) for t in targets}
    try:
        for t in targets:
            os.dup2(fd, t)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a full disk or a closed stream: what was written is in the file
        for t, old in saved.items():
            os.dup2(old, t)
            os.close(old)
        os.close(fd)
