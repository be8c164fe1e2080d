"""Bundles: which tests share a batch task, planned from their earlier durations."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess

import pytest

from megatest.executor.reporter import TestRef
from megatest.launch.batch import Submission
from megatest.launch.bundles import Settings, plan, slurm_seconds, time_option
from megatest.launch.slurm import SlurmSystem


def every_position_once(bundles: list[list[int]], count: int) -> None:
    assert sorted(p for bundle in bundles for p in bundle) == list(range(count))


def test_without_a_width_or_a_history_every_test_runs_alone():
    assert plan(["a", "b", "c"], lambda _t: 1.0, width=None) == [[0], [1], [2]]
    assert plan(["a", "b", "c"], lambda _t: None, width=2) == [[0], [1], [2]]


def test_cheap_tests_fill_the_width_and_bundles_end_together():
    durations = [5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]
    bundles = plan(range(8), lambda i: durations[i], width=3)
    every_position_once(bundles, 8)
    assert len(bundles) == 3
    loads = sorted(sum(durations[p] for p in bundle) for bundle in bundles)
    assert loads == [4.0, 5.0, 5.0]  # longest first into the least loaded: balanced


def test_unknown_and_long_tests_go_alone_and_count_against_the_width():
    durations = {0: None, 1: 40.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0}
    bundles = plan(range(6), durations.get, width=3, seconds=60)
    every_position_once(bundles, 6)
    assert [0] in bundles and [1] in bundles  # no history; over half a bundle's budget
    assert sorted(map(sorted, bundles))[-1:] == [[2, 3, 4, 5]]  # the one slot left


def test_no_bundle_is_expected_to_outlast_its_budget_or_a_quarter_of_the_time_limit():
    bundles = plan(range(100), lambda _i: 3.0, width=2, seconds=60)
    assert len(bundles) == 5  # 300 s of tests, 60 s a bundle: more bundles than slots
    assert max(len(b) for b in bundles) * 3.0 <= 60
    capped = plan(range(100), lambda _i: 3.0, width=2, seconds=60, time_limit=120)
    assert max(len(b) for b in capped) * 3.0 <= 30
    every_position_once(capped, 100)


def test_a_tests_cost_is_never_taken_as_less_than_starting_it():
    bundles = plan(range(400), lambda _i: 0.0, width=1, seconds=60)
    assert len(bundles) == 4  # 400 starts of half a second: four one-minute bundles


def test_a_width_as_wide_as_the_tests_keeps_one_task_per_test():
    assert plan(range(4), lambda _i: 1.0, width=16) == [[0], [1], [2], [3]]


@pytest.mark.parametrize("text, seconds", [
    ("30", 1800), ("1:30", 90), ("2:00:00", 7200), ("1-0", 86400), ("1-2:30", 95400),
    ("0-0:0:45", 45), ("UNLIMITED", None), ("soon", None)])
def test_slurm_time_limits_read_as_seconds(text, seconds):
    assert slurm_seconds(text) == seconds


def test_the_last_time_option_counts_in_every_spelling():
    assert time_option(["--qos=x", "--time=10"]) == 600
    assert time_option(["-t", "5", "--partition=p"]) == 300
    assert time_option(["-t2:00", "--time", "1:00:00"]) == 3600
    assert time_option(["--qos=x"]) is None


@pytest.fixture
def fake_sbatch(tmp_path, monkeypatch):
    """An sbatch that keeps its arguments and script and answers job 42."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {tmp_path}/script\n'
                      'echo "42;cluster"\n')
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def _subs(top, names):
    subs = []
    for name in names:
        run_dir = top / name
        run_dir.mkdir()
        job = f"{run_dir}/.megatest-job.json"
        subs.append(Submission(TestRef("t", name), str(run_dir), job, {},
                               f"echo {shlex.quote(name)} --job {shlex.quote(job)}", ""))
    return subs


def test_slurm_bundles_cheap_tests_by_history_and_each_test_gets_its_tasks_id(fake_sbatch):
    said = []
    history = {"a": 1.0, "b": 1.0, "c": None, "d": 1.0}
    system = SlurmSystem(["--time=30"], Settings(slots=2), say=said.append)
    subs = [sub._replace(expected=history[sub.test.item_path])
            for sub in _subs(fake_sbatch, "abcd")]
    ids = system.submit(subs, "mt1_x")
    assert "--array=0-1" in (fake_sbatch / "args").read_text()
    assert ids[2] == "42_0"  # no history: alone, first
    assert ids[0] == ids[1] == ids[3] == "42_1"
    assert said == ["slurm: 4 tests in 2 array tasks (cheap tests bundled by their known "
                    "times)"]
    script = (fake_sbatch / "script").read_text()
    out = subprocess.run(["/bin/sh", "-c", script], env={"SLURM_ARRAY_TASK_ID": "1"},
                         capture_output=True, text=True)
    assert out.returncode == 0
    assert (fake_sbatch / "a" / "mt_launch.log").read_text().split() == [
        "a", "--job", subs[0].job_file, "--job", subs[1].job_file, "--job", subs[3].job_file]


def test_a_fixed_tests_per_job_ignores_history(fake_sbatch):
    system = SlurmSystem([], Settings(3, slots=1))
    ids = system.submit([sub._replace(expected=1.0) for sub in _subs(fake_sbatch, "abcd")],
                        "mt1_x")
    assert ids == ["42_0", "42_0", "42_0", "42_1"]


def test_slurm_without_sinfo_bundles_nothing(fake_sbatch, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_sbatch / "bin"))  # sbatch only: no sinfo answers
    system = SlurmSystem([], Settings())
    subs = [sub._replace(expected=1.0) for sub in _subs(fake_sbatch, "ab")]
    assert system.submit(subs, "mt1_x") == ["42_0", "42_1"]
    assert system.probe_width() is None  # nothing waits for times it could not use


def _limited(top, limits):
    subs = _subs(top, [f"t{i}" for i in range(len(limits))])
    return [sub._replace(runtimelim=limit) for sub, limit in zip(subs, limits, strict=True)]


def test_an_array_of_limited_tests_asks_slurm_for_its_longest_tasks_time(fake_sbatch):
    system = SlurmSystem([], Settings(2, slots=1))
    system.submit(_limited(fake_sbatch, [600, 300, 1200]), "mt1_x")
    # tasks: 600 + 300 s and 1200 s; the longest plus its tenth (120 s) is 22 minutes
    assert "--time=22" in (fake_sbatch / "args").read_text().split()


def test_the_users_time_or_a_test_without_a_limit_leaves_slurm_its_default(fake_sbatch):
    SlurmSystem(["--time=UNLIMITED"]).submit(_limited(fake_sbatch, [60]), "mt1_x")
    assert (fake_sbatch / "args").read_text().split().count("--time=UNLIMITED") == 1
    assert not [w for w in (fake_sbatch / "args").read_text().split() if w.startswith("--time=")
                and w != "--time=UNLIMITED"]
    (fake_sbatch / "more").mkdir()
    SlurmSystem([]).submit(_limited(fake_sbatch / "more", [60, None]), "mt1_x")
    assert "--time" not in (fake_sbatch / "args").read_text()


def test_bundle_keys_read_from_a_section_and_bad_values_name_themselves():
    from megatest.errors import UsageError
    from megatest.launch.bundles import settings_from

    assert settings_from({}, "[bsub]") == Settings(None, None, 60.0)
    assert settings_from({"tests-per-job": "4", "slots": "8", "bundle-seconds": "30"},
                         "[bsub]") == Settings(4, 8, 30.0)
    with pytest.raises(UsageError, match=r"\[bsub\] tests-per-job 'lots': not a number"):
        settings_from({"tests-per-job": "lots"}, "[bsub]")
    with pytest.raises(UsageError, match=r"\[slurm\] slots '0': must be positive"):
        settings_from({"slots": "0"}, "[slurm]")
