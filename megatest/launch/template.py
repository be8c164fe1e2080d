"""Command-template launchers: LSF (`bsub`), PBS/Torque/SGE (`qsub`), `srun`, or any batch
system described in megatest.config.

The original's launcher lines keep working: `[jobtools] launcher bsub -q normal -o
$MT_TEST_RUN_DIR/lsf.log` submits each test as `bsub -q normal -o ... -J <run's job name>
<job script>`; the line is the area's own shell text, run by /bin/sh in the test's
environment as the original did. Each batch system has a preset; a section named after the
launcher's first word changes any part of it, and `launcher template` takes everything from
a `[template]` section:

    [bsub]
    submit  {launcher} -J {jobname} {script}   how to submit one test (shell text)
    jobid   Job <(\\d+)>                       the job id in what submit prints (a group)
    status  bjobs -noheader -o "jobid stat" {jobids}   ONE call for every watched job
    status-line ^\\s*(?P<id>\\S+)\\s+(?P<state>\\S+)  a line of its output (optional name group)
    states  PEND=QUEUED RUN=RUNNING DONE=ENDED EXIT=FAILED   the system's words
    cancel  bkill {jobids}
    jobs    bjobs -noheader -o "jobid stat" -J {jobname}   a run's jobs (runner taking over)
    sync    no                                  yes: submit blocks until the job ended

Fields a template names in braces: {launcher} (the launcher line, as written), {script},
{jobname}, {rundir}, {test}, {item}, {jobids}; every substituted value is shell-quoted. State words map onto
QUEUED, RUNNING, ENDED or a failure word (CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY,
FAILED, ...: megatest.launch.endings). With `sync` (`bsub -K`, `qsub -sync y`, `srun`) the
submit command runs as a child of the runner, in a session of its own, whose end is the
job's; cancelling kills it. It outlives a runner that dies, and a runner taking over carries
it on while its process lives (its id is `pid<pid>@<start time>`).
The caps of megatest.launch.batch apply (`max-queued`, `poll-min`, ... in the section), but
for `submits-per-minute`, 600 unless set: a template submits one test per call. Cheap tests
may share a job as on Slurm (megatest.launch.bundles): `tests-per-job N`, or `slots N` (how
many jobs the run may keep running) for bundles planned from earlier runs' durations
(`bundle-seconds`); the job's script runs them one after the other.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

from megatest.errors import UsageError
from megatest.executor.reporter import TestRef
from megatest.executor.spawn import LAUNCH_LOG
from megatest.launch import bundles, endings
from megatest.launch.base import LauncherContext
from megatest.launch.batch import (
    BatchLauncher,
    BatchLimits,
    Submission,
    SubmitError,
    limits_from,
)
from megatest.launch.commands import run_command
from megatest.procstat import STARTTIME, stat_fields

SCRIPT_NAME = ".megatest-job.sh"
# One test per submit call: ten a second (Snakemake's default for cluster submissions), where
# Slurm's 120 calls a minute are arrays of up to a thousand tests each.
SUBMITS_PER_MINUTE = 600.0
_FIELD = re.compile(r"\{(launcher|script|jobname|rundir|test|item|jobids)\}")
_DEFAULT_LINE = r"^\s*(?P<id>\S+)\s+(?P<state>\S+)"


@dataclass(frozen=True)
class Template:
    """One batch system's commands (see the module's description)."""

    name: str
    submit: str
    jobid: str = r"(\d+)"
    status: str = ""
    status_line: str = _DEFAULT_LINE
    states: str = ""
    cancel: str = ""
    jobs: str = ""
    sync: bool = False


PRESETS: dict[str, Template] = {
    "bsub": Template(
        "bsub", "{launcher} -J {jobname} {script}", jobid=r"Job <(\d+)>",
        status='bjobs -noheader -o "jobid stat" {jobids}',
        states="PEND=QUEUED PSUSP=QUEUED WAIT=QUEUED PROV=QUEUED RUN=RUNNING USUSP=RUNNING "
               "SSUSP=RUNNING DONE=ENDED EXIT=FAILED ZOMBI=NODE_FAIL UNKWN=NODE_FAIL",
        cancel="bkill {jobids}", jobs='bjobs -noheader -o "jobid stat" -J {jobname}'),
    "qsub": Template(
        "qsub", "{launcher} -N {jobname} {script}", jobid=r"^\s*(\S+)",
        status="qstat {jobids}",
        status_line=r"^(?P<id>\S+)\s+(?P<name>\S+)\s+\S+\s+\S+\s+(?P<state>[A-Z])\s",
        states="Q=QUEUED H=QUEUED W=QUEUED T=QUEUED R=RUNNING E=RUNNING S=RUNNING C=ENDED F=ENDED",
        cancel="qdel {jobids}", jobs="qstat"),
    "srun": Template("srun", "{launcher} --job-name={jobname} {script}", sync=True),
    "template": Template("template", ""),
}
# `qsub` on (Sun/Son of/Univa) Grid Engine: `-terse` makes it print the bare id; its qstat
# takes no job ids, lists the user's jobs with lower-case state words, and cuts job names to
# ten characters (so no listing by name: a runner taking over asks for its jobs' ids).
SGE_QSUB = Template(
    "qsub", "{launcher} -terse -N {jobname} {script}", jobid=r"^\s*(\d+)", status="qstat",
    status_line=r"^\s*(?P<id>\d+)\s+\S+\s+\S+\s+\S+\s+(?P<state>[a-zA-Z]+)\s",
    states="qw=QUEUED hqw=QUEUED hRwq=QUEUED r=RUNNING t=RUNNING Rr=RUNNING Rt=RUNNING "
           "s=RUNNING ts=RUNNING S=RUNNING tS=RUNNING T=RUNNING tT=RUNNING dr=RUNNING "
           "dt=RUNNING Eqw=FAILED Ehqw=FAILED",
    cancel="qdel {jobids}")


def substitute(text: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """`text` with its {field}s filled: values shell-quoted (a list: each word quoted,
    space-separated); {launcher} as written (it is the area's own shell text)."""

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            return m.group(0)
        value = values[key]
        if key == "launcher":
            return str(value)
        if isinstance(value, str):
            return shlex.quote(value)
        return " ".join(shlex.quote(v) for v in value)

    return _FIELD.sub(fill, text)


def parse_states(text: str, where: str) -> dict[str, str]:
    """`PEND=QUEUED RUN=RUNNING ...` -> {system word: endings word}."""
    mapping = {}
    for pair in text.split():
        word, eq, meaning = pair.partition("=")
        if not eq or not word or not meaning:
            raise UsageError(f"{where} states: {pair!r} is not WORD=MEANING "
                             "(e.g. PEND=QUEUED RUN=RUNNING DONE=ENDED EXIT=FAILED)")
        mapping[word] = meaning.upper()
    return mapping


def template_for(name: str, words: Sequence[str], section: Mapping[str, str],
                 env: Mapping[str, str] | None = None) -> Template:
    """The preset of launcher `name` with the section's keys over it; `sync` also from the
    line's own words (`bsub -K`, `qsub -sync y`). `qsub` is Grid Engine's where `SGE_ROOT`
    is set (every Grid Engine client needs it), else PBS/Torque's; `[qsub] flavor sge|pbs`
    says which."""
    where = f"[{name}]"
    base = PRESETS[name]
    if name == "qsub":
        flavor = section.get("flavor", "").strip().lower() or (
            "sge" if (os.environ if env is None else env).get("SGE_ROOT") else "pbs")
        if flavor not in ("sge", "pbs"):
            raise UsageError(f"{where} flavor {section['flavor']!r}: sge or pbs")
        base = SGE_QSUB if flavor == "sge" else base
    changes: dict[str, object] = {}
    for key, attr in (("submit", "submit"), ("jobid", "jobid"), ("status", "status"),
                      ("status-line", "status_line"), ("states", "states"),
                      ("cancel", "cancel"), ("jobs", "jobs")):
        if key in section:
            changes[attr] = section[key]
    if "sync" in section:
        changes["sync"] = section["sync"].strip().lower() not in ("no", "false", "0", "")
    elif (name == "bsub" and "-K" in words) or (name == "qsub" and _sync_y(words)):
        changes["sync"] = True
    template = replace(base, **changes)
    if not template.submit:
        raise UsageError(f"{where} submit: how to submit a job is not set "
                         "(e.g. `submit mysub -q main {script}`)")
    if not template.sync and not template.status:
        raise UsageError(f"{where} status: not set and `sync` is not yes; without one, a job "
                         "that died unseen would be waited for forever")
    for key, pattern in (("jobid", template.jobid), ("status-line", template.status_line)):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"{where} {key} {pattern!r}: not a regular expression ({exc})") from None
    parse_states(template.states, where)
    return template


def _sync_y(words: Sequence[str]) -> bool:
    return any(word == "-sync" and following.lower().startswith("y")
               for word, following in zip(words, words[1:], strict=False))


class TemplateSystem:
    """A BatchSystem run from a Template."""

    def __init__(self, template: Template, line: str = "",
                 settings: bundles.Settings = bundles.ONE_PER_JOB):
        self.template = template
        self.name = template.name
        self.line = line  # the run's launcher line (each Submission has its test's own)
        # bundles: `tests-per-job N`, or auto with `slots` given (no batch system here has
        # one call that says how wide the farm is for this user); else a job per test
        self.settings = settings
        self.words = parse_states(template.states, f"[{template.name}]")
        self._jobid = re.compile(template.jobid, re.MULTILINE)
        self._status_line = re.compile(template.status_line)
        self._children: dict[str, subprocess.Popen[bytes]] = {}  # sync jobs: id -> child

    def group_key(self, sub: Submission) -> Hashable | None:
        """Tests that may share a job (the same launcher line) go out together; the others
        one submit call each, paced by `submits-per-minute`. With auto bundles only tests
        with a history are held together: the rest could only go out one by one."""
        per_job = self.settings.tests_per_job
        if per_job is not None:
            return sub.line if per_job > 1 else None
        if self.settings.slots is None or sub.expected is None:
            return None
        return sub.line

    def probe_width(self) -> int | None:
        return self.settings.slots if self.settings.tests_per_job is None else None

    def submit(self, group: Sequence[Submission], jobname: str) -> list[str]:
        if len(group) == 1:
            return [self._submit_one(group, jobname)]
        if self.settings.tests_per_job is not None:
            plan = bundles.fixed(len(group), self.settings.tests_per_job)
        else:
            plan = bundles.plan(group, lambda sub: sub.expected,
                                width=self.settings.slots, seconds=self.settings.seconds)
        ids: dict[int, str] = {}
        try:
            for bundle in plan:
                job_id = self._submit_one([group[i] for i in bundle], jobname)
                ids.update(dict.fromkeys(bundle, job_id))
        except SubmitError:
            if ids:  # all of the group fails: none of it may run behind its failed rows
                self.cancel(list(dict.fromkeys(ids.values())))
            raise
        return [ids[i] for i in range(len(group))]

    def _submit_one(self, subs: Sequence[Submission], jobname: str) -> str:
        """One job running `subs` one after the other (the first one's fields fill the
        template)."""
        sub = subs[0]
        script = write_script(sub, subs[1:])
        command = substitute(self.template.submit, {
            "launcher": sub.line, "script": script, "jobname": jobname,
            "rundir": sub.run_dir, "test": sub.test.test_name, "item": sub.test.item_path,
        })
        if self.template.sync:
            return self._start_child(command, sub)
        out = run_command(command, env=sub.env, cwd=sub.run_dir)
        m = self._jobid.search(out)
        if m is None:
            said = out.strip().splitlines()
            raise SubmitError(f"{self.name}: no job id in its answer "
                              f"{(said[0] if said else '')!r} (jobid {self.template.jobid!r})")
        return m.group(1) if m.groups() else m.group(0)

    def _start_child(self, command: str, sub: Submission) -> str:
        """A blocking submit (bsub -K, srun): its own process group, its output in the
        test's mt_launch.log; the child is the job's handle."""
        with open(os.path.join(sub.run_dir, LAUNCH_LOG), "ab") as log:
            try:
                child = subprocess.Popen(["/bin/sh", "-c", command], cwd=sub.run_dir,
                                         env=sub.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                raise SubmitError(f"{self.name}: {exc.strerror or exc}") from None
        job_id = child_job_id(child.pid)
        self._children[job_id] = child
        return job_id

    def states(self, job_ids: Collection[str], jobname: str) -> dict[str, str]:
        found = {}
        asked = [j for j in job_ids if j not in self._children and not j.startswith("pid")]
        for job_id in job_ids:
            child = self._children.get(job_id)
            if child is not None:
                code = child.poll()
                found[job_id] = (endings.RUNNING if code is None
                                 else endings.ENDED if code == 0 else "FAILED")
            elif job_id.startswith("pid") and child_alive(job_id):
                # a blocking submit a dead runner started: alive while its process is (its
                # end code went to that runner; the exit file tells the test's end)
                found[job_id] = endings.RUNNING
        if asked and self.template.status:
            command = substitute(self.template.status, {"jobids": asked, "jobname": jobname})
            found.update(self._parse(run_command(command, ok_codes=range(256)), None))
        return found

    def run_jobs(self, jobname: str) -> dict[str, str]:
        if not self.template.jobs or self.template.sync:
            # (a blocking submit's handle is its process: the system's ids of those jobs
            # were never learnt, and a listing of them must not be taken for strays)
            return {}
        command = substitute(self.template.jobs, {"jobname": jobname})
        return self._parse(run_command(command, ok_codes=range(256)), jobname)

    def _parse(self, out: str, jobname: str | None) -> dict[str, str]:
        found = {}
        for line in out.splitlines():
            m = self._status_line.search(line)
            if m is None:
                continue
            groups = m.groupdict()
            job_id = groups.get("id") or m.group(1)
            word = groups.get("state") or m.group(2)
            if jobname is not None and groups.get("name") not in (None, jobname):
                continue
            found[job_id] = self.words.get(word, word)
        return found

    def cancel(self, job_ids: Sequence[str]) -> None:
        remote = []
        for job_id in job_ids:
            child = self._children.get(job_id)
            if child is not None:
                if child.poll() is None:
                    _stop_group(child.pid)
            elif job_id.startswith("pid"):
                if child_alive(job_id):  # a dead runner's: the same process, not a reused pid
                    _stop_group(int(job_id[3:].split("@")[0]))
            else:
                remote.append(job_id)
        if remote and self.template.cancel:
            run_command(substitute(self.template.cancel, {"jobids": remote}), ok_codes=range(256))


def child_job_id(pid: int) -> str:
    """A blocking submit's job id: `pid<pid>@<start time>` (the start time tells a runner
    taking over that the process under that pid is still the same one)."""
    fields = stat_fields(pid)
    return f"pid{pid}@{int(fields[STARTTIME])}" if fields is not None else f"pid{pid}"


def child_alive(job_id: str) -> bool:
    """Whether the blocking submit of `job_id` still runs (the same process)."""
    pid, _, start = job_id[3:].partition("@")
    fields = stat_fields(pid) if pid.isdigit() else None
    return fields is not None and (not start or fields[STARTTIME] == start.encode())


def _stop_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)  # its own session: the submit and what it started
    except (ProcessLookupError, PermissionError):
        pass


def write_script(sub: Submission, more: Sequence[Submission] = ()) -> str:
    """The test's job script in its run directory: what the batch system runs (`#!` first:
    some systems refuse a script without one). `more`: tests of its bundle, run after it by
    the same `test execute` (each test's output goes to its own mt_launch.log)."""
    path = os.path.join(sub.run_dir, SCRIPT_NAME)
    tests = ", ".join(s.test.full_name for s in (sub, *more))
    jobs = "".join(f" --job {shlex.quote(other.job_file)}" for other in more)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(f"#!/bin/sh\n# megatest: run test {tests} on this node\n"
                 f"cd {shlex.quote(sub.run_dir)} || exit 1\n"
                 f"exec {sub.command}{jobs} >>{LAUNCH_LOG} 2>&1\n")
    os.chmod(path, 0o755)
    return path


def _make(name: str, context: LauncherContext) -> BatchLauncher:
    section = context.section(name)
    template = template_for(name, context.words, section)
    default = shlex.join([name, *context.words])

    def line_for(test: TestRef) -> str:
        """The test's launcher line as written in the config (its `$VAR`s are the shell's),
        `[launchers]` choosing it; for `template`, what follows that word."""
        line = context.line_for(test) or default
        if name == "template":
            parts = line.split(None, 1)
            return parts[1] if len(parts) > 1 and parts[0] == "template" else ""
        return line

    system = TemplateSystem(template, default, bundles.settings_from(section, f"[{name}]"))
    return BatchLauncher(system, context.reporter, context,
                         template_limits(section, f"[{name}]"), line_for=line_for)


def template_limits(section: Mapping[str, str], where: str) -> BatchLimits:
    """A template submits one test per call, so its calls are not capped as Slurm's arrays
    are: SUBMITS_PER_MINUTE unless the section says otherwise."""
    return limits_from(section, where, BatchLimits(submits_per_minute=SUBMITS_PER_MINUTE))


def lsf(context: LauncherContext) -> BatchLauncher:
    return _make("bsub", context)


def pbs(context: LauncherContext) -> BatchLauncher:
    return _make("qsub", context)


def srun(context: LauncherContext) -> BatchLauncher:
    return _make("srun", context)


def generic(context: LauncherContext) -> BatchLauncher:
    return _make("template", context)
