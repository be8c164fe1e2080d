"""What a test's step left behind when no runner was alive to see it end.

The runner supervises a test's steps one after the other, so when it dies mid-test the step
that was running goes on without it. The run's keeper (executor/keeper.py), which outlives
the runner, writes one record per such test into its run directory: which step, its pid and
start time (so a later runner can adopt a step that still runs, and never mistakes a reused
pid for it), how far the test had got, and, once the step ends, its exit code. The next
`runs start` reads the record and carries on from there instead of running the test again.

The file is JSON, replaced whole (write to a temporary name, rename), so a reader sees the
old record or the new one, never half of one. Nothing writes it while the runner lives: a
step's start costs no file.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import NamedTuple

from megatest.procstat import STARTTIME, STATE, stat_fields

RECORD_NAME = ".megatest-step-exit"
RUNSCRIPT_INDEX = -1  # step_index of the runscript, which runs before the ezsteps


class StepRecord(NamedTuple):
    """One test's running (or ended) step, as the keeper saw it."""

    pid: int
    start_ticks: int  # the process's start time in clock ticks since boot (/proc/PID/stat)
    step_index: int  # RUNSCRIPT_INDEX, or the ezstep's position
    rollup: int  # the test's combined exit code of the steps before this one
    started: float  # when the test started (time.monotonic, the same on one machine)
    log: str  # the step's log file name in the run directory
    keeper: int  # the keeper's pid and start time: while it lives, an end is still to come
    keeper_ticks: int
    code: int | None = None  # the exit code (negative: killed by that signal) once ended

    @property
    def ended(self) -> bool:
        return self.code is not None


def record_path(run_dir: str) -> str:
    return os.path.join(run_dir, RECORD_NAME)


def write_record(run_dir: str, record: StepRecord) -> None:
    """Replace the test's record (raises OSError: the caller decides what a failure means)."""
    path = record_path(run_dir)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record._asdict(), fh)
    os.replace(tmp, path)


def read_record(run_dir: str) -> StepRecord | None:
    """The test's record, or None when there is none or it cannot be read as one."""
    try:
        with open(record_path(run_dir), encoding="utf-8") as fh:
            data = json.load(fh)
        return StepRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def drop_record(run_dir: str) -> None:
    """The record has been acted on: a later rerun in this directory must not see it."""
    with contextlib.suppress(OSError):
        os.unlink(record_path(run_dir))


def start_ticks(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot), or None if it is gone or a
    zombie. Together with the pid this names one process: a pid is reused, a start time
    with it is not."""
    fields = stat_fields(pid)
    if fields is None or fields[STATE] == b"Z":
        return None
    return int(fields[STARTTIME])


def still_running(record: StepRecord) -> bool:
    """Whether the step of `record` is the process running under its pid now."""
    if record.code is not None:
        return False
    ticks = start_ticks(record.pid)
    return ticks is not None and ticks == record.start_ticks


def keeper_alive(record: StepRecord) -> bool:
    """Whether the keeper that wrote `record` lives, so the step's end is still to come."""
    ticks = start_ticks(record.keeper)
    return ticks is not None and ticks == record.keeper_ticks
