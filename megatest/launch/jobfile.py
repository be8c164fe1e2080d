"""The files a batch job and its launcher share in the test's run directory.

A remote launcher (command template, Slurm) cannot hand a test to a process of its own: it
writes what the node must run into the run directory (`.megatest-job.json`: the test, its
environment, its steps), submits a job that runs `megatest test execute` on it, and learns
the test's end from the exit file the job writes there last (`.megatest-job-exit`). The
batch system's own idea of the job (queued, running, gone) only says when to look and what
to say when the job died before it could write one. The job's id goes to `.megatest-job-id`
once submitted, so a runner started after this one died finds the job again.

All three are JSON (or one line) replaced whole: a reader sees the old file or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

JOB_FILE = ".megatest-job.json"
EXIT_FILE = ".megatest-job-exit"
JOB_ID_FILE = ".megatest-job-id"


class JobSpec(NamedTuple):
    """What `megatest test execute` runs: one prepared test, as the local launcher would."""

    area: str
    run_id: int
    test_id: int
    test_name: str
    item_path: str
    run_dir: str
    env: dict[str, str]
    steps: list[tuple[str, str, str | None]]  # name, command, inline logpro rules
    runscript: str | None = None
    test_src_dir: str | None = None
    runtimelim: float | None = None
    triggers: dict[str, str] | None = None


class ExitRecord(NamedTuple):
    """How the test ended, as the job saw it: the launcher's truth."""

    state: str
    status: str
    comment: str | None = None
    host: str = ""
    signal: int | None = None  # the job itself was stopped by this signal (cancelled)
    seconds: float | None = None  # how long the test ran (what later bundles are planned by)


def _replace(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_job(spec: JobSpec) -> str:
    """Write the job file into the test's run directory; returns its path."""
    path = os.path.join(spec.run_dir, JOB_FILE)
    _replace(path, json.dumps(spec._asdict()))
    return path


def read_job(path: str) -> JobSpec:
    """The job file at `path` (a run directory names its job file). ValueError when it is
    not one; OSError when it cannot be read."""
    if os.path.isdir(path):
        path = os.path.join(path, JOB_FILE)
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        data: Any = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a megatest job file")
    try:
        data["steps"] = [tuple(step) for step in data["steps"]]
        return JobSpec(**data)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a megatest job file ({exc})") from None


def job_spec(area: str, run_id: int, test_id: int, test_name: str, item_path: str,
             run_dir: str, env: Mapping[str, str], steps: Sequence[Any],
             **rest: Any) -> JobSpec:
    """A JobSpec from the launcher's values (steps: StepSpecs or (name, command) pairs)."""
    plain = [(s[0], s[1], s[2] if len(s) > 2 else None) for s in steps]
    return JobSpec(area, run_id, test_id, test_name, item_path, run_dir, dict(env), plain,
                   **rest)


def write_exit(run_dir: str, record: ExitRecord) -> None:
    _replace(os.path.join(run_dir, EXIT_FILE), json.dumps(record._asdict()))


def read_exit(run_dir: str) -> ExitRecord | None:
    """The job's exit record, or None while there is none (or it cannot be read as one)."""
    try:
        with open(os.path.join(run_dir, EXIT_FILE), encoding="utf-8") as fh:
            data = json.load(fh)
        return ExitRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_job_id(run_dir: str, job_id: str) -> None:
    _replace(os.path.join(run_dir, JOB_ID_FILE), job_id + "\n")


def read_job_id(run_dir: str) -> str | None:
    try:
        with open(os.path.join(run_dir, JOB_ID_FILE), encoding="utf-8") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def forget_job(run_dir: str) -> None:
    """A new job is about to run here: what an earlier job left must not be taken for its."""
    for name in (EXIT_FILE, JOB_ID_FILE):
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(run_dir, name))
