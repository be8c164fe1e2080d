"""Where a test's logs are, and the capped tail of one for a report.

A failing step's own log (`<rundir>/<step>.log`) says most about the failure; the step's
logfile column names its html rendering, and `final_logf` the test's summary log. CI tools
hang on multi-megabyte outputs (Jenkins' junit plugin, #467 and #693), so a report carries
only the last few KB, read from the end of the file without reading the rest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from megatest.store.records import StepRecord, TestRecord

TAIL_BYTES = 4096
_NO_DIR = ("", "n/a", "/tmp/badname")


def run_dir(test: TestRecord) -> Path | None:
    """The test's run directory, when it has one on disk."""
    if test.rundir in _NO_DIR:
        return None
    folder = Path(test.rundir)
    return folder if folder.is_dir() else None


def log_files(test: TestRecord, steps: list[StepRecord]) -> list[Path]:
    """The test's logs that exist: each step's .log and logfile, the final log, the launch
    log; in that order, each once."""
    folder = run_dir(test)
    if folder is None:
        return []
    names: list[str] = []
    for step in steps:
        names += [f"{step.stepname}.log", step.logfile]
    names += [test.final_logf, "mt_launch.log"]
    found: list[Path] = []
    for name in names:
        if not name:
            continue
        path = folder / name
        if path not in found and path.is_file():
            found.append(path)
    return found


def step_log(test: TestRecord, step: StepRecord, *, rendered: bool = False) -> Path | None:
    """The plain-text log of `step`, else its logfile, else the test's final log; with
    `rendered`, its logfile (an html page with the log rules applied) first."""
    folder = run_dir(test)
    if folder is None:
        return None
    names = (step.logfile, f"{step.stepname}.log") if rendered else \
        (f"{step.stepname}.log", step.logfile, test.final_logf)
    for name in names:
        if name and (folder / name).is_file():
            return folder / name
    return None


def tail(path: Path | None, limit: int = TAIL_BYTES) -> str:
    """The last `limit` bytes of `path` as text ("" when unreadable), cut at a line start
    when the file is longer."""
    if path is None:
        return ""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - limit))
            data = f.read(limit)
    except OSError:
        return ""
    if size > limit:
        newline = data.find(b"\n")
        data = b"[...]\n" + (data[newline + 1:] if 0 <= newline < len(data) - 1 else data)
    return data.decode("utf-8", "replace")


def final_log(test: TestRecord) -> Path | None:
    """The test's final log, when it exists."""
    folder = run_dir(test)
    if folder is None or not test.final_logf:
        return None
    path = folder / test.final_logf
    return path if path.is_file() else None
