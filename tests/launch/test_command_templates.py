"""Command templates and Slurm's words: what a user writes in megatest.config becomes the
commands and meanings megatest uses, every substituted value quoted for the shell."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from megatest.errors import UsageError
from megatest.executor.reporter import TestRef
from megatest.launch import endings
from megatest.launch.batch import Submission, SubmitError, limits_from
from megatest.launch.slurm import array_script, sbatch_options, slurm_word
from megatest.launch.template import (
    PRESETS,
    TemplateSystem,
    parse_states,
    substitute,
    template_for,
    template_limits,
    write_script,
)

NASTY = "/tmp/it's a $HOME; rm -rf x `id`/run dir"


def test_substituted_values_reach_the_shell_as_one_word_each():
    text = substitute("printf '%s\\n' {script} {jobids} {test}",
                      {"script": NASTY, "jobids": ["1", "2 3"], "test": "a;b"})
    out = subprocess.run(["/bin/sh", "-c", text], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [NASTY, "1", "2 3", "a;b"]


def test_the_launcher_line_is_the_areas_own_shell_text_and_other_braces_stay():
    text = substitute("{launcher} -J {jobname} {script} {x,y}",
                      {"launcher": "bsub -o $MT_TEST_RUN_DIR/lsf.log", "jobname": "mt1_ab",
                       "script": "/r/s.sh"})
    assert text == "bsub -o $MT_TEST_RUN_DIR/lsf.log -J mt1_ab /r/s.sh {x,y}"


def test_the_original_blocking_forms_make_a_sync_launcher():
    assert template_for("bsub", ["-K", "-q", "normal"], {}).sync
    assert not template_for("bsub", ["-q", "normal"], {}).sync
    assert template_for("qsub", ["-sync", "y"], {}).sync
    assert template_for("srun", [], {}).sync
    assert not template_for("qsub", [], {"sync": "no"}).sync


def test_a_section_changes_any_part_of_a_preset():
    t = template_for("bsub", [], {"status": "mystat {jobids}", "states": "P=QUEUED R=RUNNING"})
    assert t.status == "mystat {jobids}" and t.states == "P=QUEUED R=RUNNING"
    assert t.submit == PRESETS["bsub"].submit and t.cancel == "bkill {jobids}"


@pytest.mark.parametrize(("name", "section", "says"), [
    ("template", {}, r"\[template\] submit: how to submit a job is not set"),
    ("template", {"submit": "sub {script}"}, r"\[template\] status: not set and `sync` is not yes"),
    ("bsub", {"jobid": "Job <("}, r"\[bsub\] jobid 'Job <\(': not a regular expression"),
    ("bsub", {"states": "PEND QUEUED"}, r"\[bsub\] states: 'PEND' is not WORD=MEANING"),
])
def test_an_unusable_template_is_one_line_naming_the_key(name, section, says):
    with pytest.raises(UsageError, match=says):
        template_for(name, [], section)


def test_lsf_and_pbs_status_lines_read_as_the_endings_vocabulary():
    lsf = TemplateSystem(PRESETS["bsub"])
    assert lsf._parse("1001 RUN\n1002 PEND\n1003 DONE\n1004 EXIT\n1005 ZOMBI\n", None) == {
        "1001": endings.RUNNING, "1002": endings.QUEUED, "1003": endings.ENDED,
        "1004": "FAILED", "1005": "NODE_FAIL"}
    pbs = TemplateSystem(PRESETS["qsub"])
    qstat = ("Job id              Name             Username        Time Use S Queue\n"
             "------------------- ---------------- --------------- -------- - -----\n"
             "201                 mt3_abc          root            00:00:00 R debug\n"
             "202                 other            root            00:00:00 Q debug\n"
             "203                 mt3_abc          root            00:00:00 C debug\n")
    assert pbs._parse(qstat, None) == {"201": endings.RUNNING, "202": endings.QUEUED,
                                       "203": endings.ENDED}
    assert pbs._parse(qstat, "mt3_abc") == {"201": endings.RUNNING, "203": endings.ENDED}


def test_parse_states_reads_word_meaning_pairs():
    assert parse_states("PEND=QUEUED run=running", "[x]") == {"PEND": "QUEUED", "run": "RUNNING"}


def test_slurm_words_map_to_the_vocabulary_and_failures_keep_their_names():
    assert slurm_word("PENDING") == endings.QUEUED
    assert slurm_word("COMPLETING") == endings.RUNNING
    assert slurm_word("COMPLETED") == endings.ENDED
    assert slurm_word("CANCELLED by 0") == "CANCELLED"
    assert slurm_word("OUT_OF_MEMORY") == "OUT_OF_MEMORY"
    end = endings.ending("slurm", "12_3", "NODE_FAIL")
    assert (end.state, end.status) == ("INCOMPLETE", "DEAD")
    assert end.comment == "slurm job 12_3 lost its node (NODE_FAIL)"


def _sub(run_dir: str, name: str = "t") -> Submission:
    return Submission(TestRef(name), run_dir, f"{run_dir}/.megatest-job.json", {},
                      f"megatest test execute --job {shlex.quote(run_dir + '/.megatest-job.json')}",
                      "")


def test_the_array_script_runs_each_task_in_its_own_quoted_run_directory(tmp_path):
    dirs = [tmp_path / "plain", tmp_path / NASTY.replace("/", "_")]
    for d in dirs:
        d.mkdir()
    script = array_script([[_sub(str(d))] for d in dirs]).replace(
        "megatest test execute --job", "sh -c pwd")
    for index, d in enumerate(dirs):
        out = subprocess.run(["/bin/sh", "-c", script], env={"SLURM_ARRAY_TASK_ID": str(index)},
                             capture_output=True, text=True)
        assert out.returncode == 0
        assert (d / "mt_launch.log").read_text().strip() == str(d)
    out = subprocess.run(["/bin/sh", "-c", script], env={"SLURM_ARRAY_TASK_ID": "9"},
                         capture_output=True, text=True)
    assert out.returncode == 1 and "array task 9 has no test here" in out.stderr


def test_the_job_script_starts_with_a_shebang_and_runs_in_the_run_directory(tmp_path):
    run_dir = tmp_path / "it's here"
    run_dir.mkdir()
    path = write_script(_sub(str(run_dir)))
    text = open(path).read()
    assert text.startswith("#!/bin/sh\n")
    assert f"cd {shlex.quote(str(run_dir))} || exit 1" in text


def test_slurm_section_options_and_caps():
    assert sbatch_options({"partition": "debug", "account": "proj",
                           "sbatch-options": "--qos=high --time='1:00:00'"}) == [
        "--partition=debug", "--account=proj", "--qos=high", "--time=1:00:00"]
    limits = limits_from({"max-queued": "50", "poll-max": "2.5", "array-size": "100",
                          "probe-wait": "5"}, "[slurm]")
    assert (limits.max_queued, limits.poll_max, limits.max_group, limits.probe_wait) == (
        50, 2.5, 100, 5.0)
    with pytest.raises(UsageError, match=r"\[slurm\] max-queued 'lots': not a number"):
        limits_from({"max-queued": "lots"}, "[slurm]")
    with pytest.raises(UsageError, match=r"\[slurm\] array-size '0': must be positive"):
        limits_from({"array-size": "0"}, "[slurm]")


def test_a_bundle_runs_its_tests_in_one_task_one_after_the_other(tmp_path):
    subs = [_sub(str(tmp_path / n), n) for n in ("a", "b", "c")]
    for n in "abc":
        (tmp_path / n).mkdir()
    script = array_script([subs[:2], subs[2:]]).replace("megatest test execute", "echo")
    out = subprocess.run(["/bin/sh", "-c", script], env={"SLURM_ARRAY_TASK_ID": "0"},
                         capture_output=True, text=True)
    assert out.returncode == 0
    assert (tmp_path / "a" / "mt_launch.log").read_text().split() == [
        "--job", subs[0].job_file, "--job", subs[1].job_file]


def test_a_template_submits_ten_tests_a_second_unless_its_section_says_otherwise(tmp_path):
    from tests.launch.test_batch import FakeSystem, make, poll_until, spec

    # the first goes after the 0.2 s a test waits for company, each other one a call later
    for section, seconds in (({}, 0.2 + 39 * 0.1), ({"submits-per-minute": "60"}, 0.2 + 39.0)):
        launcher, system, _rep, clock, _sel = make(tmp_path, template_limits(section, "[bsub]"),
                                                   grouping=False)
        assert isinstance(system, FakeSystem)
        start = clock.now
        for n in range(40):
            launcher.submit(spec(tmp_path, f"t{n}"))
        poll_until(launcher, lambda system=system: len(system.submits) == 40, step=0.05)
        assert seconds - 0.1 <= clock.now - start <= seconds + 0.1


SGE_QSTAT = """\
job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID
-----------------------------------------------------------------------------------------------------------------
     12 0.55500 mt3_ab12cd alice        r     12/06/2026 13:00:01 all.q@node1                        1
     13 0.00000 mt3_ab12cd alice        qw    12/06/2026 13:00:02                                    1
     14 0.00000 mt3_ab12cd alice        Eqw   12/06/2026 13:00:03                                    1
"""


def test_qsub_is_grid_engines_where_sge_root_is_set_and_reads_its_qstat():
    sge = template_for("qsub", [], {}, env={"SGE_ROOT": "/opt/sge"})
    assert "-terse" in sge.submit
    system = TemplateSystem(sge)
    assert system._parse(SGE_QSTAT, None) == {"12": endings.RUNNING, "13": endings.QUEUED,
                                             "14": "FAILED"}
    assert re.search(sge.jobid, "4711\n").group(1) == "4711"
    assert template_for("qsub", [], {}, env={}).status == "qstat {jobids}"  # PBS/Torque
    assert template_for("qsub", [], {"flavor": "sge"}, env={}).status == "qstat"
    with pytest.raises(UsageError, match=r"\[qsub\] flavor 'lsf': sge or pbs"):
        template_for("qsub", [], {"flavor": "lsf"}, env={})


def test_a_bundle_refused_midway_fails_the_group_and_cancels_what_went_out(tmp_path):
    from megatest.launch.bundles import Settings
    from megatest.launch.template import Template

    count = tmp_path / "count"
    submit = (f"n=$(cat {count} 2>/dev/null || echo 0); echo $((n+1)) > {count}; "
              f'[ "$n" = 0 ] && echo 11 || {{ echo "queue full" >&2; exit 1; }}')
    template = Template("template", submit, status="true",
                        cancel=f"echo {{jobids}} >> {tmp_path}/cancelled")
    system = TemplateSystem(template, settings=Settings(tests_per_job=2))
    subs = []
    for name in "abcd":
        (tmp_path / name).mkdir()
        subs.append(_sub(str(tmp_path / name), name))
    assert system.group_key(subs[0]) == ""  # the same (empty) line: bundled together
    with pytest.raises(SubmitError, match="queue full"):
        system.submit(subs, "mt1_x")
    assert (tmp_path / "cancelled").read_text().split() == ["11"]
    script = (tmp_path / "a" / ".megatest-job.sh").read_text()
    assert f"--job {subs[1].job_file}" in script  # a and b in the first job
