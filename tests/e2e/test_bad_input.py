"""Input that used to be accepted silently, or to end in a traceback, from the command line:
each is now one clear line (a warning, or an error with exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MEGATEST = str(Path(sys.executable).with_name("megatest"))

TARGET = ("--target", "ubuntu/v1", "--runname", "r")


def _small(area) -> None:
    (area.root / "tests" / "solo").rename(area.root / "solo-unused")  # keep the run short


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


def _broken_solo(area, proc: subprocess.CompletedProcess[str]) -> str:
    """The run went on without `solo` (exit 1): its row says why; the reason, once."""
    assert "Traceback" not in proc.stdout + proc.stderr
    rows = {r["test"]: r for r in area.rows("ubuntu/v1", "r")}
    assert (rows["free"]["state"], rows["free"]["status"]) == ("COMPLETED", "PASS")
    assert (rows["solo"]["state"], rows["solo"]["status"]) == ("NOT_STARTED", "CONFIG_ERROR")
    return rows["solo"]["comment"]


def test_a_testconfig_that_is_a_folder_fails_its_test_naming_it(make_area):
    area = make_area("exclusive")
    broken = area.root / "tests" / "solo" / "testconfig"
    broken.unlink()
    broken.mkdir()
    proc = area.mt("runs", "start", *TARGET, check=1)
    assert _broken_solo(area, proc).startswith(f"{broken}: testconfig is a folder")


def test_a_testconfig_that_is_a_dangling_link_fails_its_test_naming_it(make_area):
    area = make_area("exclusive")
    broken = area.root / "tests" / "solo" / "testconfig"
    broken.unlink()
    broken.symlink_to("gone.config")
    proc = area.mt("runs", "start", *TARGET, check=1)
    comment = _broken_solo(area, proc)
    assert comment == f"{broken}: testconfig is a link to a missing file (gone.config); fix or remove it"


def test_a_missing_include_is_a_warning_naming_file_and_line(make_area):
    area = make_area("exclusive")
    _small(area)
    config = area.root / "megatest.config"
    text = config.read_text()
    config.write_text(text + "[include site-local.config]\n")
    line_no = len((text + "[include site-local.config]\n").splitlines())
    proc = area.mt("runs", "start", *TARGET, check=0)
    assert (
        f"megatest: warning: {config}:{line_no}: [include] file not found, skipped: "
        f"'{area.root / 'site-local.config'}'" in proc.stderr
    )
    assert area.table("ubuntu/v1", "r") == {"free": ("COMPLETED", "PASS")}


def test_rerun_with_an_unknown_status_is_refused_before_anything_runs(make_area):
    area = make_area("exclusive")
    proc = area.mt("runs", "start", *TARGET, "--rerun", "FAIL,BOGUS", check=2)
    line = _one_line(proc)
    assert "--rerun BOGUS: not a test status" in line
    assert "known statuses: n/a, PASS" in line
    assert not (area.root / ".db").exists()


def test_rerun_with_a_state_instead_of_a_status_is_refused(make_area):
    area = make_area("exclusive")
    line = _one_line(area.mt("-rerun", "COMPLETED", "-run", "-target", "ubuntu/v1",
                             "-runname", "r", "-testpatt", "%", check=2))
    assert "--rerun COMPLETED: not a test status" in line


def test_rerun_accepts_a_status_the_area_declares(make_area):
    area = make_area("exclusive")
    _small(area)
    config = area.root / "megatest.config"
    config.write_text(config.read_text() + "\n[validvalues]\nstatus PASS FAIL FLAKY\n")
    area.mt("runs", "start", *TARGET, "--rerun", "FLAKY", check=0)
    assert area.table("ubuntu/v1", "r") == {"free": ("COMPLETED", "PASS")}


def _helper_env(area) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
    env.update(MT_RUN_AREA_HOME=str(area.root), MT_TARGET="ubuntu/v1", MT_RUNNAME="r",
               MT_TEST_NAME="free", MT_ITEMPATH="")
    return env


def test_test_status_with_an_unknown_state_is_refused_and_nothing_is_written(make_area):
    area = make_area("exclusive")
    _small(area)
    area.mt("runs", "start", *TARGET, check=0)
    proc = area.mt("test", "status", "--state", "BOGUS", "--status", "FAIL",
                   env=_helper_env(area), check=2)
    line = _one_line(proc)
    assert "unknown test state 'BOGUS'; known states: ARCHIVED, STUCK" in line
    assert area.table("ubuntu/v1", "r") == {"free": ("COMPLETED", "PASS")}


def test_test_status_accepts_a_state_the_area_declares_and_any_status(make_area):
    area = make_area("exclusive")
    _small(area)
    config = area.root / "megatest.config"
    config.write_text(config.read_text() + "\n[validvalues]\nstate COMPLETED PARKED\n")
    area.mt("runs", "start", *TARGET, check=0)
    area.mt("test", "status", "--state", "PARKED", "--status", "MYSTATUS",
            env=_helper_env(area), check=0)
    assert area.table("ubuntu/v1", "r") == {"free": ("PARKED", "MYSTATUS")}


def test_pre_launch_env_vars_reach_the_test_and_its_megatest_sh(make_area):
    area = make_area("exclusive")
    _small(area)
    (area.root / "tests" / "free" / "testconfig").write_text(
        "[pre-launch-env-vars]\n"
        "GREETING hello-$MT_TEST_NAME\n"
        "BOTH from-vars\n"
        "[pre-launch-env-overrides]\n"
        "BOTH from-overrides\n"
        "[ezsteps]\n"
        'go echo "$GREETING $BOTH" > seen.txt\n'
    )
    area.mt("runs", "start", *TARGET, check=0)
    run_dir = next((area.root / "runs").rglob("seen.txt")).parent
    assert (run_dir / "seen.txt").read_text() == "hello-free from-overrides\n"
    sh = (run_dir / "megatest.sh").read_text()
    assert "GREETING" in sh and "hello-free" in sh


def test_a_deleted_current_directory_is_one_line(make_area, tmp_path):
    area = make_area("exclusive")
    gone = tmp_path / "gone"
    gone.mkdir()
    for args in (["query", "runs", "--area", os.path.relpath(area.root, gone)],
                 ["query", "runs"]):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
        proc = subprocess.run(
            ["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone),
             MEGATEST, *args],
            capture_output=True, text=True, timeout=60, env=env,
        )
        assert proc.returncode == 2, proc.stderr
        assert _one_line(proc) == (
            "megatest: error: the current directory no longer exists: cd to an existing "
            "folder, or give --area as an absolute path"
        )
        gone.mkdir()
