"""The Slurm launcher: `[jobtools] launcher slurm`, options in `[slurm]`.

    [slurm]
    partition   debug
    account     myproject
    sbatch-options --qos=normal --time=1:00:00   (without --time: the tests' runtimelim)
    max-queued  1000          jobs submitted and not yet running (more wait in megatest)
    submits-per-minute 120    sbatch calls
    array-size  1000          tests per sbatch call (one array)
    tests-per-job auto        tests one array task runs one after the other: auto (cheap
                              tests by their times in earlier runs, or in this one's first
                              items: megatest.launch.bundles, .batch) or N
    bundle-seconds 60         auto: what one task's tests took together before, at most
    slots       64            auto: tasks the run keeps at least (default: the CPUs of the
                              partition, from one sinfo call)
    probe-wait  60            auto: how long a new test's held items wait for its first
                              items' times, at most (megatest.launch.batch)
    poll-min 0.5  poll-max 10 the squeue interval's back-off, in seconds

The tests a runner hands over together go out as ONE `sbatch --parsable --array` whose
script picks each task's test from `$SLURM_ARRAY_TASK_ID` (the script is held by Slurm: no
file per call). Every job of a run has the run's job name, so one `squeue --name` per poll
tells the state of all of them, and a runner taking over finds them. Words after `slurm` on
the launcher line (and on `[host-types]` lines a test is sent to) are more sbatch options.
The engine of it all is megatest.launch.batch.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence

from megatest import verbosity
from megatest.errors import UsageError
from megatest.executor.reporter import TestRef
from megatest.executor.spawn import LAUNCH_LOG
from megatest.launch import bundles, endings
from megatest.launch.base import LauncherContext
from megatest.launch.batch import BatchLauncher, Submission, SubmitError, limits_from
from megatest.launch.commands import run_command

# Slurm's job states (squeue %T) in the endings vocabulary; the failure words keep their names
_STATES = {
    "PENDING": endings.QUEUED, "CONFIGURING": endings.QUEUED, "REQUEUED": endings.QUEUED,
    "REQUEUE_HOLD": endings.QUEUED, "REQUEUE_FED": endings.QUEUED,
    "RESV_DEL_HOLD": endings.QUEUED,
    "RUNNING": endings.RUNNING, "COMPLETING": endings.RUNNING, "SUSPENDED": endings.RUNNING,
    "STAGE_OUT": endings.RUNNING, "SIGNALING": endings.RUNNING, "RESIZING": endings.RUNNING,
    "STOPPED": endings.RUNNING,
    "COMPLETED": endings.ENDED,
}
CANCEL_CHUNK = 500  # job ids per scancel call


def slurm_word(state: str) -> str:
    """Slurm's state word in the endings vocabulary (`CANCELLED by 0` -> CANCELLED)."""
    word = state.split()[0].rstrip("+") if state.split() else state
    return _STATES.get(word, word)


class SlurmSystem:
    name = "slurm"

    def __init__(self, options: Sequence[str] = (),
                 settings: bundles.Settings = bundles.ONE_PER_JOB, *,
                 partition: str | None = None, say: Callable[[str], None] | None = None):
        self.options = list(options)
        self.settings = settings  # tests_per_job None: bundles from the tests' known times
        self.slots = settings.slots
        self.partition = partition
        self.say = say or (lambda text: verbosity.detail(2, text))
        self._asked_slots = False

    def group_key(self, sub: Submission) -> Hashable | None:
        return sub.line  # the same sbatch options: one array

    def submit(self, group: Sequence[Submission], jobname: str) -> list[str]:
        extra = shlex.split(group[0].line) if group[0].line else []
        options = [*self.options, *extra]
        plan = self.bundle(group, options)
        argv = ["sbatch", "--parsable", f"--job-name={jobname}", f"--array=0-{len(plan) - 1}",
                "--output=/dev/null", "--error=/dev/null", *time_limit(group, plan, options),
                *options]
        out = run_command(argv, stdin=array_script([[group[i] for i in b] for b in plan]))
        job_id = out.strip().split(";")[0]
        if not job_id.isdigit():
            raise SubmitError(f"sbatch answered {out.strip()!r}, not a job id")
        task_of = {position: index for index, bundle in enumerate(plan) for position in bundle}
        return [f"{job_id}_{task_of[position]}" for position in range(len(group))]

    def bundle(self, group: Sequence[Submission], options: Sequence[str]) -> list[list[int]]:
        """The group's positions by array task."""
        if self.settings.tests_per_job is not None:
            return bundles.fixed(len(group), self.settings.tests_per_job)
        plan = bundles.plan(group, lambda sub: sub.expected, width=self.width(),
                            seconds=self.settings.seconds,
                            time_limit=bundles.time_option(options))
        if len(plan) < len(group):
            tasks = f"{len(plan)} array task{'' if len(plan) == 1 else 's'}"
            self.say(f"slurm: {len(group)} tests in {tasks} (cheap tests bundled by their "
                     "known times)")
        return plan

    def probe_width(self) -> int | None:
        return self.width() if self.settings.tests_per_job is None else None

    def width(self) -> int | None:
        """The slots a run keeps busy: `[slurm] slots`, else the partition's CPUs (asked
        once; None when sinfo does not say, and nothing is bundled)."""
        if self.slots is None and not self._asked_slots:
            self._asked_slots = True
            self.slots = partition_cpus(self.partition)
        return self.slots

    def states(self, job_ids: Collection[str], jobname: str) -> dict[str, str]:
        return self.run_jobs(jobname)

    def run_jobs(self, jobname: str) -> dict[str, str]:
        out = run_command(["squeue", "--noheader", "--array", "--states=all",
                           f"--name={jobname}", "--format=%i %T"])
        found = {}
        for line in out.splitlines():
            words = line.split(None, 1)
            if len(words) == 2:
                found[words[0]] = slurm_word(words[1])
        return found

    def cancel(self, job_ids: Sequence[str]) -> None:
        for start in range(0, len(job_ids), CANCEL_CHUNK):
            # ids that ended meanwhile make scancel say so and exit 1: the others are cancelled
            run_command(["scancel", *job_ids[start:start + CANCEL_CHUNK]], ok_codes=(0, 1))


def time_limit(group: Sequence[Submission], plan: Sequence[Sequence[int]],
               options: Sequence[str]) -> list[str]:
    """`--time` for an array whose tests all have a runtime limit and whose sbatch options
    give none: its longest task's tests' limits added up, plus what `test execute` needs to
    stop them and write their exit files (a tenth, and a minute at least), in whole minutes.
    Slurm schedules (and backfills) a job by it; each test's own limit is still enforced by
    `test execute`. An array task's limit is the array's, so the longest task sets it."""
    if any(word.startswith(("--time", "-t")) for word in options):
        return []  # the user's own (also UNLIMITED), as given
    limits = [sub.runtimelim for sub in group]
    if not all(limits):
        return []
    longest = max(sum(limits[i] or 0.0 for i in task) for task in plan)
    return [f"--time={math.ceil((longest + max(60.0, longest / 10)) / 60)}"]


def partition_cpus(partition: str | None) -> int | None:
    """The CPUs of the partition (all partitions when None), by `sinfo`; None when it
    does not answer."""
    argv = ["sinfo", "--noheader", "--format=%C"]
    if partition:
        argv.append(f"--partition={partition}")
    try:
        out = run_command(argv)
    except SubmitError:
        return None
    total = 0
    for line in out.split():  # allocated/idle/other/total, a line per partition
        parts = line.split("/")
        if len(parts) == 4 and parts[3].isdigit():
            total += int(parts[3])
    return total or None


def array_script(bundles: Sequence[Sequence[Submission]]) -> str:
    """The array job's script: task N runs the N-th bundle's tests one after the other, in
    the first one's run directory (each test's output goes to its own mt_launch.log)."""
    lines = ["#!/bin/sh", "# megatest: one bundle of tests per array task",
             'case "$SLURM_ARRAY_TASK_ID" in']
    for index, bundle in enumerate(bundles):
        first = bundle[0]
        more = "".join(f" --job {shlex.quote(sub.job_file)}" for sub in bundle[1:])
        lines.append(f"{index}) cd {shlex.quote(first.run_dir)} && exec {first.command}{more} "
                     f">>{LAUNCH_LOG} 2>&1 ;;")
    lines += ["esac",
              'echo "megatest: array task $SLURM_ARRAY_TASK_ID has no test here" >&2', "exit 1", ""]
    return "\n".join(lines)


def sbatch_options(section: Mapping[str, str]) -> list[str]:
    options = []
    if section.get("partition"):
        options.append(f"--partition={section['partition']}")
    if section.get("account"):
        options.append(f"--account={section['account']}")
    try:
        options += shlex.split(section.get("sbatch-options", ""))
    except ValueError as exc:
        raise UsageError(f"[slurm] sbatch-options: {exc}") from None
    return options


def from_context(context: LauncherContext) -> BatchLauncher:
    section = context.section("slurm")

    def line_for(test: TestRef) -> str:
        """The sbatch options of the test's own launcher line ([launchers]/[host-types]),
        else those of the run's."""
        words = shlex.split(context.line_for(test) or "")
        return shlex.join(words[1:] if words[:1] == ["slurm"] else context.words)

    system = SlurmSystem(sbatch_options(section), bundles.settings_from(section, "[slurm]"),
                         partition=section.get("partition") or None)
    return BatchLauncher(system, context.reporter, context, limits_from(section, "[slurm]"),
                         line_for=line_for)
